"""Loading a whole program description: the core's parts, then the reward catalog, thresholds, streaks,
challenges, badges, quizzes, games and leaderboards."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.core_program import load_core_program
from rewards.badges.models import Badge
from rewards.badges.operations import save_badge
from rewards.catalog.models import Reward
from rewards.catalog.operations import save_reward
from rewards.challenges.models import Challenge
from rewards.challenges.operations import save_challenge
from rewards.games.models import Game
from rewards.games.operations import save_game
from rewards.leaderboards.models import Leaderboard
from rewards.leaderboards.operations import save_board
from rewards.quizzes.models import Quiz
from rewards.quizzes.operations import save_quiz
from rewards.streaks.models import Streak
from rewards.streaks.operations import save_streak
from rewards.thresholds.models import PointThreshold
from rewards.thresholds.operations import save_thresholds


def load_program(session: Session, data: dict[str, Any]) -> bool:
    """Load every part of ``data`` whose table is still empty; returns whether anything was loaded."""
    loaded = load_core_program(session, data)
    if data.get("rewards") and session.scalar(select(Reward.id).limit(1)) is None:
        for reward in data["rewards"]:
            amount = reward.get("amount")
            save_reward(session, {**reward, "amount": Decimal(str(amount)) if amount is not None else None})
        loaded = True
    if data.get("thresholds") and session.scalar(select(PointThreshold.id).limit(1)) is None:
        save_thresholds(session, [dict(threshold) for threshold in data["thresholds"]])
        loaded = True
    # Badges last: their qualifiers name streaks and challenges.
    if data.get("streaks") and session.scalar(select(Streak.id).limit(1)) is None:
        for streak in data["streaks"]:
            save_streak(session, dict(streak))
        loaded = True
    if data.get("challenges") and session.scalar(select(Challenge.id).limit(1)) is None:
        for challenge in data["challenges"]:
            save_challenge(session, {**challenge, "steps": [dict(step) for step in challenge["steps"]]})
        loaded = True
    if data.get("badges") and session.scalar(select(Badge.id).limit(1)) is None:
        for badge in data["badges"]:
            save_badge(session, dict(badge))
        loaded = True
    if data.get("quizzes") and session.scalar(select(Quiz.id).limit(1)) is None:
        for quiz in data["quizzes"]:
            save_quiz(session, dict(quiz))
        loaded = True
    if data.get("games") and session.scalar(select(Game.id).limit(1)) is None:
        for game in data["games"]:
            minimum = game.get("earn_min_total")
            save_game(session, {**game, "earn_min_total": Decimal(str(minimum)) if minimum is not None else None})
        loaded = True
    if data.get("leaderboards") and session.scalar(select(Leaderboard.id).limit(1)) is None:
        for board in data["leaderboards"]:
            save_board(session, dict(board))
        loaded = True
    return loaded
