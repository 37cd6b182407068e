"""Every configurable object of the program, as the back office edits it: the API's schemas and the
domain's operations, the same ones the admin API calls (one source of truth for what is valid).

A **collection** has many items (rewards, badges…), each with a key in the URL, created, changed and
maybe removed one at a time. A **setting** is one document (the program's settings, the tier ladder,
the thresholds, the engagement score, marketing pressure) read and saved whole.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema
from sqlalchemy.orm import Session

from app.clock import now
from app.schemas.badges import BadgeSchema, BadgeUpdateSchema
from app.schemas.challenges import ChallengeSchema, ChallengeUpdateSchema
from app.schemas.engagement import EngagementActionSchema, EngagementActionUpdateSchema, EngagementScoreSettingsSchema
from app.schemas.games import GameSchema, GameUpdateSchema
from app.schemas.leaderboards import LeaderboardSchema, LeaderboardUpdateSchema
from app.schemas.program import EarningRuleSchema, EarningRuleUpdateSchema, ProgramSettingsSchema
from app.schemas.quizzes import QuizSchema, QuizUpdateSchema
from app.schemas.rewards import RewardSchema, RewardUpdateSchema, ThresholdListSchema
from app.schemas.scenarios import NewTemplateSchema, PressureSettingsSchema, TemplateSchema
from app.schemas.streaks import StreakSchema, StreakUpdateSchema
from app.schemas.tiers import LadderSchema
from loyalty.engagement import operations as engagement
from loyalty.engagement import score
from loyalty.errors import NotFound
from loyalty.program import operations as program
from loyalty.purchases import rules
from loyalty.tiers import operations as tiers
from notifications.pressure import operations as pressure
from notifications.scenarios import templates
from rewards.badges import operations as badges
from rewards.catalog import operations as catalog
from rewards.challenges import operations as challenges
from rewards.games import operations as games
from rewards.leaderboards import operations as leaderboards
from rewards.quizzes import operations as quizzes
from rewards.streaks import operations as streaks
from rewards.thresholds import operations as thresholds


@dataclass(frozen=True)
class Collection:
    slug: str
    title: str
    #: One item, in a sentence ("a reward").
    noun: str
    #: What the program uses them for, under the page's title.
    summary: str
    #: The attribute naming an item in its URL.
    key: str
    schema: Schema
    update_schema: Schema
    list: Callable[[Session], Sequence[Any]]
    create: Callable[[Session, dict[str, Any]], Any]
    update: Callable[[Session, str, dict[str, Any]], Any]
    delete: Callable[[Session, str], None] | None
    #: The columns of the list.
    columns: tuple[str, ...]

    def key_of(self, item: Any) -> str:
        return str(getattr(item, self.key))


@dataclass(frozen=True)
class Setting:
    slug: str
    title: str
    summary: str
    schema: Schema
    #: The document as the schema dumps it; None when there is none yet.
    read: Callable[[Session], Any]
    save: Callable[[Session, dict[str, Any]], Any]


def _rule_id(key: str) -> int:
    if not key.isdigit():
        raise NotFound(f"no earning rule has the id {key!r}", field="rule_id")
    return int(key)


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "earning-rules", "Earning rules and promotions", "an earning rule",
        "Category multipliers, and promotions over a period: the largest live promotion applies.",
        "id", EarningRuleSchema(), EarningRuleUpdateSchema(), rules.list_rules, rules.create_rule,
        lambda session, key, changes: rules.update_rule(session, _rule_id(key), changes),
        lambda session, key: rules.delete_rule(session, _rule_id(key)),
        ("name", "kind", "category", "channel", "multiplier", "starts_at", "ends_at", "is_active"),
    ),
    Collection(
        "rewards", "Rewards", "a reward",
        "The catalog members spend points on, and the offers scenarios give.",
        "code", RewardSchema(), RewardUpdateSchema(), catalog.list_rewards, catalog.save_reward,
        lambda session, key, changes: catalog.save_reward(session, changes, code=key), None,
        ("code", "name", "kind", "cost_points", "stock", "is_offer", "is_active"),
    ),
    Collection(
        "engagement-actions", "Engagement actions", "an engagement action",
        "Points for what members do besides buying: reviews, shares, visits, referrals.",
        "key", EngagementActionSchema(), EngagementActionUpdateSchema(), engagement.list_actions, engagement.save_action,
        lambda session, key, changes: engagement.save_action(session, changes, key=key), None,
        ("key", "name", "points", "once_per_member", "max_per_period", "period", "is_active"),
    ),
    Collection(
        "badges", "Badges", "a badge",
        "Earned on a metric's target, in levels; each level may credit points.",
        "code", BadgeSchema(), BadgeUpdateSchema(), badges.list_badges, badges.save_badge,
        lambda session, key, changes: badges.save_badge(session, changes, code=key), badges.delete_badge,
        ("code", "name", "metric", "qualifier", "is_hidden", "is_active"),
    ),
    Collection(
        "challenges", "Challenges", "a challenge",
        "Steps to complete over a period, for points, a badge or an offer.",
        "code", ChallengeSchema(), ChallengeUpdateSchema(), challenges.list_challenges, challenges.save_challenge,
        lambda session, key, changes: challenges.save_challenge(session, changes, code=key), challenges.delete_challenge,
        ("code", "name", "starts_at", "ends_at", "reward_points", "is_active"),
    ),
    Collection(
        "streaks", "Streaks", "a streak",
        "Runs of days or weeks with a purchase or an action.",
        "code", StreakSchema(), StreakUpdateSchema(), streaks.list_streaks, streaks.save_streak,
        lambda session, key, changes: streaks.save_streak(session, changes, code=key), streaks.delete_streak,
        ("code", "name", "period", "counts_purchases", "actions", "is_active"),
    ),
    Collection(
        "quizzes", "Quizzes", "a quiz",
        "Questions answered once, for points per right answer.",
        "code", QuizSchema(), QuizUpdateSchema(), quizzes.list_quizzes, quizzes.save_quiz,
        lambda session, key, changes: quizzes.save_quiz(session, changes, code=key), None,
        ("code", "title", "points_per_correct", "starts_at", "ends_at", "is_active"),
    ),
    Collection(
        "games", "Games", "a game",
        "Instant-win games: plays earned by events, prizes drawn by weight.",
        "code", GameSchema(), GameUpdateSchema(), games.list_games, games.save_game,
        lambda session, key, changes: games.save_game(session, changes, code=key), None,
        ("code", "name", "kind", "earn_on", "starts_at", "ends_at", "is_active"),
    ),
    Collection(
        "templates", "Message templates", "a message template",
        "What scenarios send: a subject, a text, an HTML email and a short form for SMS and push (Jinja).",
        "key", NewTemplateSchema(), TemplateSchema(), templates.list_templates,
        lambda session, body: templates.create_template(session, body["key"], body, now=now()),
        lambda session, key, changes: templates.change_template(session, key, changes, now=now()), None,
        ("key", "subject", "short", "updated_at"),
    ),
    Collection(
        "leaderboards", "Leaderboards", "a leaderboard",
        "Members ranked by points over a week, a month or all time, overall or per store.",
        "key", LeaderboardSchema(), LeaderboardUpdateSchema(), leaderboards.list_boards, leaderboards.save_board,
        lambda session, key, changes: leaderboards.save_board(session, changes, key=key), leaderboards.delete_board,
        ("key", "name", "metric", "periods", "scope", "is_active"),
    ),
)  # fmt: skip


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "program", "Program settings",
        "The earning rate, the minimum amount, expiry, pending days, the tier window, referrals.",
        ProgramSettingsSchema(), program.get_settings, program.update_settings,
    ),
    Setting(
        "tiers", "Tiers",
        "The ladder, lowest first: thresholds rise with the rank from 0; a tier members hold cannot go.",
        LadderSchema(), lambda session: {"tiers": tiers.load_ladder(session).tiers},
        lambda session, body: tiers.save_ladder(session, body["tiers"]),
    ),
    Setting(
        "thresholds", "Point thresholds",
        "Balances that unlock a reward; each names a reward of the catalog.",
        ThresholdListSchema(), lambda session: {"thresholds": thresholds.all_thresholds(session)},
        lambda session, body: thresholds.save_thresholds(session, body["thresholds"]),
    ),
    Setting(
        "engagement-score", "Engagement score",
        "How the engagement score decays and what each interaction adds; the levels' boundaries.",
        EngagementScoreSettingsSchema(), score.get_score_settings, score.save_score_settings,
    ),
    Setting(
        "marketing", "Marketing pressure",
        "At most so many marketing messages per member over so many days; quiet hours in the member's time.",
        PressureSettingsSchema(), pressure.get_pressure_settings,
        lambda session, body: pressure.save_pressure_settings(session, body, now=now()),
    ),
)  # fmt: skip


def collection(slug: str) -> Collection | None:
    return next((item for item in COLLECTIONS if item.slug == slug), None)


def setting(slug: str) -> Setting | None:
    return next((item for item in SETTINGS if item.slug == slug), None)
