"""Quiz use cases: read a quiz without its answers, answer it once, see one's result, configure quizzes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.db import insert_if_absent
from loyalty.engagement.operations import record_if_defined
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.ledger import operations as ledger
from loyalty.members.models import Member
from rewards.events import QuizAnswered
from rewards.quizzes.models import Quiz, QuizAttempt, QuizQuestion

#: The engagement action recorded when a member answers a quiz, if the program defines it.
QUIZ_COMPLETED = "quiz_completed"


@dataclass(frozen=True)
class Answer:
    """The choices a member picked for question ``question`` (its number)."""

    question: int
    choices: Sequence[str]


@dataclass(frozen=True)
class QuizView:
    """A quiz as a member sees it; ``answered`` is None when the caller is not a member."""

    quiz: Quiz
    answered: bool | None


def open_quizzes(session: Session, *, now: datetime, member_id: int | None = None) -> list[QuizView]:
    """The quizzes members may answer now, newest first; for a member, with whether they answered each."""
    quizzes = [quiz for quiz in session.scalars(select(Quiz).order_by(Quiz.id.desc())) if quiz.is_open(now)]
    if member_id is None:
        return [QuizView(quiz=quiz, answered=None) for quiz in quizzes]
    answered = _answered(session, member_id, [quiz.id for quiz in quizzes])
    return [QuizView(quiz=quiz, answered=quiz.id in answered) for quiz in quizzes]


def visible_quiz(session: Session, code: str, *, now: datetime, member_id: int | None = None) -> QuizView:
    """A quiz members may read: active and started (an ended one stays readable). Others do not exist."""
    quiz = session.scalar(select(Quiz).where(Quiz.code == code))
    if quiz is None or not quiz.has_started(now):
        raise NotFound(f"no quiz has the code {code!r}", field="code")
    answered = None if member_id is None else quiz.id in _answered(session, member_id, [quiz.id])
    return QuizView(quiz=quiz, answered=answered)


def _answered(session: Session, member_id: int, quiz_ids: Iterable[int]) -> set[int]:
    rows = session.scalars(
        select(QuizAttempt.quiz_id).where(QuizAttempt.member_id == member_id, QuizAttempt.quiz_id.in_(list(quiz_ids)))
    )
    return set(rows)


def answer_quiz(
    session: Session, *, member_id: int, quiz_code: str, answers: Sequence[Answer], now: datetime
) -> QuizAttempt:
    """Mark a member's answers to an open quiz and credit ``points_per_correct`` per right answer.

    Every question is answered exactly once, with choices of that question (one for a single-choice
    question). A member answers a quiz once: the attempt is claimed on its unique key before anything
    is credited, so a second answer, even sent at the same instant, is a :class:`Conflict` and changes
    nothing. Records ``QuizAnswered``, ``PointsEarned`` when points are earned, and the engagement
    action ``quiz_completed`` when the program defines it.
    """
    quiz = session.scalar(select(Quiz).where(Quiz.code == quiz_code))
    if quiz is None or not quiz.has_started(now):
        raise NotFound(f"no quiz has the code {quiz_code!r}", field="code")
    if not quiz.is_open(now):
        raise InvalidOperation("this quiz is closed", field="code")
    if session.get(Member, member_id) is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    marked = mark(quiz.questions, answers)
    correct = sum(1 for answer in marked if answer["is_correct"])
    points = correct * quiz.points_per_correct
    attempt_id = insert_if_absent(
        session,
        QuizAttempt,
        {
            "quiz_id": quiz.id,
            "member_id": member_id,
            "answered_at": now,
            "correct_count": correct,
            "question_count": len(marked),
            "points_awarded": points,
            "answers": marked,
        },
        key=("quiz_id", "member_id"),
    )
    if attempt_id is None:
        raise Conflict("this member has already answered this quiz", field="code")
    if points:
        ledger.post(
            session,
            member_id=member_id,
            points=points,
            kind="bonus",
            reason=f"quiz {quiz.code}",
            now=now,
            source=("quiz_attempt", str(attempt_id)),
            qualifying=True,
        )
    outbox.record(
        session,
        QuizAnswered(
            occurred_at=now,
            member_id=member_id,
            quiz_code=quiz.code,
            attempt_id=attempt_id,
            correct=correct,
            questions=len(marked),
            points=points,
        ),
    )
    record_if_defined(session, member_id=member_id, action_key=QUIZ_COMPLETED, ref=f"quiz:{quiz.code}", now=now)
    session.flush()
    return session.get_one(QuizAttempt, attempt_id)


def mark(questions: Sequence[QuizQuestion], answers: Sequence[Answer]) -> list[dict[str, Any]]:
    """Each question with the member's choices, the right ones and whether they match exactly.

    Refuses (naming the field) an unknown or repeated question, a choice the question does not have,
    several choices for a single-choice question, and a question left unanswered.
    """
    by_number = {question.position: question for question in questions}
    picked: dict[int, list[str]] = {}
    for index, answer in enumerate(answers):
        question = by_number.get(answer.question)
        if question is None:
            raise InvalidOperation(f"this quiz has no question {answer.question}", field=f"answers.{index}.question")
        if answer.question in picked:
            raise InvalidOperation(f"question {answer.question} is answered twice", field=f"answers.{index}.question")
        known = {choice["id"] for choice in question.choices}
        unknown = sorted(set(answer.choices) - known)
        if unknown:
            raise InvalidOperation(
                f"question {answer.question} has no choice {unknown[0]!r}", field=f"answers.{index}.choices"
            )
        if len(set(answer.choices)) != len(answer.choices):
            raise InvalidOperation("a choice is picked twice", field=f"answers.{index}.choices")
        if not question.multiple and len(answer.choices) != 1:
            raise InvalidOperation(
                f"question {answer.question} takes exactly one choice", field=f"answers.{index}.choices"
            )
        picked[answer.question] = sorted(answer.choices)
    missing = sorted(set(by_number) - set(picked))
    if missing:
        raise InvalidOperation(f"question {missing[0]} is not answered", field="answers")
    return [
        {
            "question": number,
            "choices": picked[number],
            "correct_choices": sorted(question.correct),
            "is_correct": set(picked[number]) == set(question.correct),
        }
        for number, question in sorted(by_number.items())
    ]


def member_result(session: Session, member_id: int, quiz_code: str) -> QuizAttempt:
    """A member's marked answers to a quiz, with the right choices: only once they have answered it."""
    attempt = session.scalar(
        select(QuizAttempt).join(Quiz).where(QuizAttempt.member_id == member_id, Quiz.code == quiz_code)
    )
    if attempt is None:
        raise NotFound(f"this member has not answered the quiz {quiz_code!r}", field="code")
    return attempt


def list_quizzes(session: Session) -> list[Quiz]:
    return list(session.scalars(select(Quiz).order_by(Quiz.id.desc())))


def save_quiz(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Quiz:
    """Create a quiz, or change the one with ``code``.

    Questions are given as a whole list, numbered in order. Each has distinct choice ids and at least
    one right choice among them (exactly one unless ``multiple``). Once a member has answered, the
    questions are fixed (:class:`Conflict`): results stay comparable; the title and window may change.
    """
    if code is None:
        if session.scalar(select(Quiz.id).where(Quiz.code == fields["code"])) is not None:
            raise Conflict(f"a quiz with the code {fields['code']!r} exists already", field="code")
        quiz = Quiz(is_active=True, description="")
    else:
        found = session.scalar(select(Quiz).where(Quiz.code == code))
        if found is None:
            raise NotFound(f"no quiz has the code {code!r}", field="code")
        quiz = found
    specs = fields.pop("questions", None)
    questions = None if specs is None else [_question(index, spec) for index, spec in enumerate(specs)]
    if questions == [] or (questions is None and code is None):
        raise InvalidOperation("a quiz needs at least one question", field="questions")
    with session.no_autoflush:  # nothing reaches the database before it is checked
        for name, value in fields.items():
            setattr(quiz, name, value)
        if quiz.starts_at and quiz.ends_at and quiz.ends_at <= quiz.starts_at:
            raise InvalidOperation("the window must end after it starts", field="ends_at")
        if questions is not None and code is not None:
            if session.scalar(select(exists().where(QuizAttempt.quiz_id == quiz.id))):
                raise Conflict("members have answered this quiz: its questions cannot change", field="questions")
            quiz.questions.clear()
    if questions is not None:
        session.flush()  # the old questions go before the new ones take their numbers
        quiz.questions = questions
    session.add(quiz)
    session.flush()
    return quiz


def _question(index: int, spec: dict[str, Any]) -> QuizQuestion:
    field = f"questions.{index}"
    ids = [choice["id"] for choice in spec["choices"]]
    duplicates = sorted({choice for choice in ids if ids.count(choice) > 1})
    if duplicates:
        raise InvalidOperation(f"two choices have the id {duplicates[0]!r}", field=f"{field}.choices")
    correct = list(spec["correct"])
    if not correct:
        raise InvalidOperation("a question needs a right choice", field=f"{field}.correct")
    if len(set(correct)) != len(correct) or not set(correct) <= set(ids):
        raise InvalidOperation(
            "the right choices must be distinct ids of this question's choices", field=f"{field}.correct"
        )
    for locale, texts in spec.get("translations", {}).items():
        unknown = sorted(set(texts.get("choices", {})) - set(ids))
        if unknown:
            raise InvalidOperation(f"no choice has the id {unknown[0]!r}", field=f"{field}.translations.{locale}.choices")
    multiple = bool(spec.get("multiple", False))
    if not multiple and len(correct) != 1:
        raise InvalidOperation("a single-choice question has exactly one right choice", field=f"{field}.correct")
    return QuizQuestion(
        position=index + 1,
        text=spec["text"],
        multiple=multiple,
        choices=[{"id": choice["id"], "text": choice["text"]} for choice in spec["choices"]],
        translations=spec.get("translations", {}),
        correct=correct,
    )
