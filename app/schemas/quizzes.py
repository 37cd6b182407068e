"""Quizzes: the configuration (with the right choices), the member's view (without), answers and results.

The member's view is built from schemas that have no field for the right choices: what a member reads
before answering cannot hold them, whatever the quiz holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, validate

from app.languages import languages
from app.schemas.common import LOCALE, Identifier, TranslatedString, plausible_instant, translations
from app.schemas.rewards import REWARD_CODE
from loyalty import identifiers

CHOICE_ID = Identifier(identifiers.CHOICE_ID)


class ChoiceSchema(Schema):
    id = fields.String(required=True, validate=CHOICE_ID)
    text = fields.String(required=True, validate=validate.Length(1, 200))


class QuestionTextsSchema(Schema):
    """A question in another language: its text, and its choices' texts by id."""

    text = fields.String(validate=validate.Length(1, 500))
    choices = fields.Dict(keys=fields.String(validate=CHOICE_ID), values=fields.String(validate=validate.Length(1, 200)))


class QuestionSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(1, 500))
    multiple = fields.Boolean(
        load_default=False, metadata={"description": "Several choices may be picked; otherwise exactly one"}
    )
    choices = fields.List(fields.Nested(ChoiceSchema), required=True, validate=validate.Length(2, 10))
    correct = fields.List(
        fields.String(validate=CHOICE_ID),
        required=True,
        validate=validate.Length(max=10),
        metadata={"description": "The ids of the right choices (exactly one unless multiple)"},
    )
    translations = fields.Dict(
        keys=fields.String(validate=LOCALE),
        values=fields.Nested(QuestionTextsSchema),
        validate=validate.Length(max=20),
        metadata={"description": "The question in the program's other languages: {\"en\": {\"text\": …, \"choices\": {\"a\": …}}}"},
    )


class QuizSchema(Schema):
    """A quiz as the back office sees and writes it, right choices included."""

    code = fields.String(required=True, validate=REWARD_CODE)
    title = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(validate=validate.Length(max=2000))
    translations = translations("title", "description")
    points_per_correct = fields.Integer(required=True, strict=True, validate=validate.Range(0, 1_000_000))
    starts_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    ends_at = fields.AwareDateTime(allow_none=True, validate=plausible_instant)
    is_active = fields.Boolean()
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(1, 50))


class QuizUpdateSchema(QuizSchema):
    code = fields.String(dump_only=True)
    title = fields.String(validate=validate.Length(1, 200))
    points_per_correct = fields.Integer(strict=True, validate=validate.Range(0, 1_000_000))
    questions = fields.List(
        fields.Nested(QuestionSchema),
        validate=validate.Length(1, 50),
        metadata={"description": "The whole list; refused once a member has answered"},
    )


class TranslatedChoices(fields.List):
    """A question's choices, each in the caller's language."""

    def serialize(self, attr: str, obj: Any, accessor: Callable[[Any, str, Any], Any] | None = None, **kwargs: Any) -> Any:
        choices = super().serialize(attr, obj, accessor, **kwargs)
        texts = languages().text({}, obj.translations, "choices")
        return [{**choice, "text": texts.get(choice["id"], choice["text"])} for choice in choices]


class PublicQuestionSchema(Schema):
    """A question as members see it, in their language: no right choices."""

    number = fields.Integer(attribute="position")
    text = TranslatedString()
    multiple = fields.Boolean()
    choices = TranslatedChoices(fields.Nested(ChoiceSchema))


class PublicQuizSchema(Schema):
    """A quiz as members see it: no right choices."""

    code = fields.String(attribute="quiz.code")
    title = TranslatedString(attribute="quiz.title", of="quiz")
    description = TranslatedString(attribute="quiz.description", of="quiz")
    points_per_correct = fields.Integer(attribute="quiz.points_per_correct")
    starts_at = fields.AwareDateTime(attribute="quiz.starts_at", allow_none=True)
    ends_at = fields.AwareDateTime(attribute="quiz.ends_at", allow_none=True)
    questions = fields.List(fields.Nested(PublicQuestionSchema), attribute="quiz.questions")
    answered = fields.Boolean(
        allow_none=True, metadata={"description": "Whether the calling member has answered it; null for clients"}
    )


class AnswerSchema(Schema):
    question = fields.Integer(required=True, strict=True, validate=validate.Range(1, 50))
    choices = fields.List(fields.String(validate=CHOICE_ID), required=True, validate=validate.Length(1, 10))


class AnswerSheetSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerSchema),
        required=True,
        validate=validate.Length(1, 50),
        metadata={"description": "Every question of the quiz, once"},
    )


class MarkedAnswerSchema(Schema):
    question = fields.Integer()
    choices = fields.List(fields.String(), metadata={"description": "The member's choices"})
    correct_choices = fields.List(fields.String())
    is_correct = fields.Boolean()


class QuizResultSchema(Schema):
    """A member's answers, marked: only for a quiz they have answered."""

    quiz_code = fields.String(attribute="quiz.code")
    member_id = fields.Integer()
    answered_at = fields.AwareDateTime()
    correct_count = fields.Integer()
    question_count = fields.Integer()
    points_awarded = fields.Integer()
    answers = fields.List(fields.Nested(MarkedAnswerSchema))
