"""Quizzes, their questions, and the members' attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from loyalty.db import Base, BigIntPK, UTCDateTime
from loyalty.i18n import Translatable


class Quiz(Translatable, Base):
    """A quiz members answer once, open between ``starts_at`` and ``ends_at``."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: Points credited for each question answered right.
    points_per_correct: Mapped[int] = mapped_column(BigInteger)
    #: NULL: open from its creation; until ``ends_at`` (NULL: for good).
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    questions: Mapped[list[QuizQuestion]] = relationship(
        order_by="QuizQuestion.position", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint("points_per_correct >= 0", name="points_not_negative"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR starts_at < ends_at", name="window_ordered"),
    )

    def has_started(self, at: datetime) -> bool:
        """Active and past its start: members may read it (and, while open, answer it)."""
        return self.is_active and (self.starts_at is None or self.starts_at <= at)

    def is_open(self, at: datetime) -> bool:
        """Members may answer it now."""
        return self.has_started(at) and (self.ends_at is None or at < self.ends_at)


class QuizQuestion(Translatable, Base):
    """One question: its choices, shown to members, and the right ones, never shown before they answer."""

    __tablename__ = "quiz_questions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    #: The question's number in the quiz, from 1: members answer by number.
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    #: Members may pick several choices; otherwise exactly one (and exactly one is right).
    multiple: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``[{"id": "a", "text": "…"}, …]`` in the order shown.
    choices: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: The ids of the right choices. A question is answered right when exactly these are picked.
    correct: Mapped[list[str]] = mapped_column(JSON)

    __table_args__ = (
        UniqueConstraint("quiz_id", "position"),
        CheckConstraint("position > 0", name="position_positive"),
    )


class QuizAttempt(Base):
    """A member's one answer to a quiz, marked when it was given; the unique key makes it the only one."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quizzes.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    correct_count: Mapped[int] = mapped_column(Integer)
    question_count: Mapped[int] = mapped_column(Integer)
    points_awarded: Mapped[int] = mapped_column(BigInteger)
    #: ``[{"question": 1, "choices": [...], "correct_choices": [...], "is_correct": bool}, …]``: the
    #: member's choices and the marking, as they were when the member answered.
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)

    quiz: Mapped[Quiz] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("quiz_id", "member_id"),
        Index("ix_quiz_attempts_member_id", "member_id"),
        CheckConstraint("correct_count >= 0 AND correct_count <= question_count", name="correct_within_questions"),
    )
