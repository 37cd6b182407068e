"""Quizzes: read without the answers, answer once, see one's marked answers; configure them."""

from __future__ import annotations

from typing import Any

from app import db
from app.api import Blueprint
from app.auth.access import current_principal, ensure_member_access, require
from app.clock import now
from app.idempotency import idempotent
from app.languages import CONTENT_LANGUAGE
from app.schemas.quizzes import (
    AnswerSheetSchema,
    PublicQuizSchema,
    QuizResultSchema,
    QuizSchema,
    QuizUpdateSchema,
)
from loyalty.members.operations import get_member
from rewards.quizzes import operations as quizzes
from rewards.quizzes.models import Quiz, QuizAttempt
from rewards.quizzes.operations import Answer, QuizView

blp = Blueprint("quizzes", __name__, url_prefix="/api/v1", description="Quizzes")


@blp.route("/quizzes", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, PublicQuizSchema(many=True), headers=CONTENT_LANGUAGE)
def list_open_quizzes() -> list[QuizView]:
    """The quizzes open now, without their answers; a member's token also says which they answered."""
    return quizzes.open_quizzes(db.session(), now=now(), member_id=current_principal().member_id)


@blp.route("/quizzes/<code>", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, PublicQuizSchema, headers=CONTENT_LANGUAGE)
def get_quiz(code: str) -> QuizView:
    """A quiz that has started, without its answers (even once answered: see the member's answers)."""
    return quizzes.visible_quiz(db.session(), code, now=now(), member_id=current_principal().member_id)


@blp.route("/members/<id:member_id>/quizzes/<code>/answers", methods=["POST"])
@require("admin", "service", "member")
@idempotent
@blp.arguments(AnswerSheetSchema)
@blp.response(201, QuizResultSchema)
def answer_quiz(body: dict[str, Any], member_id: int, code: str) -> QuizAttempt:
    """Answer a quiz, once: 201 with the marked answers and the points earned. Answered already: 409
    (a retry with the same ``Idempotency-Key`` gets the first answer again)."""
    ensure_member_access(member_id)
    sheet = [Answer(question=item["question"], choices=item["choices"]) for item in body["answers"]]
    return quizzes.answer_quiz(db.session(), member_id=member_id, quiz_code=code, answers=sheet, now=now())


@blp.route("/members/<id:member_id>/quizzes/<code>/answers", methods=["GET"])
@require("admin", "service", "member")
@blp.response(200, QuizResultSchema)
def quiz_result(member_id: int, code: str) -> QuizAttempt:
    """A member's marked answers, with the right choices; 404 until they have answered."""
    ensure_member_access(member_id)
    session = db.session()
    get_member(session, member_id)
    return quizzes.member_result(session, member_id, code)


@blp.route("/admin/quizzes", methods=["GET"])
@require("admin")
@blp.response(200, QuizSchema(many=True))
def admin_list_quizzes() -> list[Quiz]:
    """Every quiz, with its right choices, newest first."""
    return quizzes.list_quizzes(db.session())


@blp.route("/admin/quizzes", methods=["POST"])
@require("admin")
@blp.arguments(QuizSchema)
@blp.response(201, QuizSchema)
def admin_create_quiz(body: dict[str, Any]) -> Quiz:
    """Add a quiz; a question without a right choice, or with two choices of one id, is a 422."""
    return quizzes.save_quiz(db.session(), body)


@blp.route("/admin/quizzes/<code>", methods=["PATCH"])
@require("admin")
@blp.arguments(QuizUpdateSchema)
@blp.response(200, QuizSchema)
def admin_update_quiz(changes: dict[str, Any], code: str) -> Quiz:
    """Change a quiz; its questions only until a member answers it (409). Deactivate it with ``is_active``."""
    return quizzes.save_quiz(db.session(), changes, code=code)
