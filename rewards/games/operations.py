"""Instant-win game use cases: earn plays, play (draw, stock, prize), read plays, configure games."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from loyalty import outbox
from loyalty.consumers import Delivered
from loyalty.db import insert_if_absent, rowcount, table_of, upsert_many
from loyalty.engagement.models import EngagementAction
from loyalty.errors import Conflict, InvalidOperation, NotFound
from loyalty.events import EngagementRecorded, PurchaseClaimed, PurchaseRecorded, PurchaseReturned
from loyalty.ledger import operations as ledger
from loyalty.members.models import Member
from loyalty.program.cache import cached, touch
from loyalty.receipts.models import Purchase
from rewards.catalog.models import Reward
from rewards.catalog.operations import grant_offer
from rewards.events import GamePlayEarned, GamePlayed
from rewards.games.draw import RandomBelow, draw
from rewards.games.models import Game, GamePlay, GamePlayCredit, GamePrize

#: A member's latest plays shown with their games.
HISTORY = 20


@dataclass(frozen=True)
class EarningRule:
    """What earns a play of a game, as read from the configuration (a plain value shared between requests)."""

    game_id: int
    game_code: str
    earn_on: str
    min_total: Decimal | None
    action_key: str | None
    starts_at: datetime | None
    ends_at: datetime | None

    def is_open(self, at: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= at) and (self.ends_at is None or at < self.ends_at)


@dataclass(frozen=True)
class PlayResult:
    game_code: str
    play: GamePlay
    #: The member's plays of this game still to spend.
    plays_left: int


@dataclass(frozen=True)
class MemberGame:
    game: Game
    #: Plays are earned and spent now.
    is_open: bool
    plays_available: int
    #: The member's latest plays of this game, newest first.
    plays: list[GamePlay]


@dataclass(frozen=True)
class PlayPage:
    items: list[GamePlay]
    #: Pass as ``before`` to get the next (older) page; None on the last page.
    next_before: int | None


def earn_play_for_purchase(session: Session, event: PurchaseRecorded | PurchaseClaimed) -> None:
    """A member's purchase (recorded or claimed) of at least a game's minimum earns one play of it."""
    if event.member_id is None:
        return
    for rule in _open_rules(session, "purchase", event.occurred_at):
        if rule.min_total is None or event.total >= rule.min_total:
            _credit(session, rule, event.member_id, ("purchase", str(event.purchase_id)), event.occurred_at)


def withdraw_plays_for_return(session: Session, event: PurchaseReturned) -> None:
    """A return that leaves the purchase below a game's minimum (or returns all of it) takes back the
    play it earned, while that play is unspent; a play already made stays made."""
    if event.member_id is None:
        return
    total, returned = session.execute(
        select(Purchase.total, Purchase.returned_amount).where(Purchase.id == event.purchase_id)
    ).one()
    net = total - returned
    games_missed = select(Game.id) if net <= 0 else select(Game.id).where(Game.earn_min_total > net)
    session.execute(
        delete(GamePlayCredit).where(
            GamePlayCredit.member_id == event.member_id,
            GamePlayCredit.source_type == "purchase",
            GamePlayCredit.source_id == str(event.purchase_id),
            GamePlayCredit.spent_at.is_(None),
            GamePlayCredit.game_id.in_(games_missed),
        ),
        execution_options={"synchronize_session": False},
    )


def earn_play_for_engagement(session: Session, event: EngagementRecorded) -> None:
    """An engagement awarded within its action's limits earns one play of each game it names."""
    if not event.awarded:
        return
    for rule in _open_rules(session, "engagement", event.occurred_at):
        if rule.action_key == event.action:
            _credit(session, rule, event.member_id, ("engagement", f"{event.action}:{event.ref}"), event.occurred_at)


def earn_plays(session: Session, batch: Sequence[Delivered], _now: datetime) -> None:
    """The ``game-plays`` consumer: the plays the batch's purchases and engagements earn, inserted
    together (one ``INSERT … ON CONFLICT DO NOTHING`` for the credits between two returns), then
    announced in the events' order; a return withdraws what came before it."""
    pending: list[dict[str, Any]] = []
    for delivered in batch:
        event = delivered.event
        if isinstance(event, PurchaseReturned):
            _insert_credits(session, pending)
            pending = []
            withdraw_plays_for_return(session, event)
        elif isinstance(event, PurchaseRecorded | PurchaseClaimed) and event.member_id is not None:
            for rule in _open_rules(session, "purchase", event.occurred_at):
                if rule.min_total is None or event.total >= rule.min_total:
                    pending.append(_credit_row(rule, event.member_id, ("purchase", str(event.purchase_id)), event.occurred_at))
        elif isinstance(event, EngagementRecorded) and event.awarded:
            for rule in _open_rules(session, "engagement", event.occurred_at):
                if rule.action_key == event.action:
                    source = ("engagement", f"{event.action}:{event.ref}")
                    pending.append(_credit_row(rule, event.member_id, source, event.occurred_at))
    _insert_credits(session, pending)


def _credit_row(rule: EarningRule, member_id: int, source: tuple[str, str], now: datetime) -> dict[str, Any]:
    return {
        "game_id": rule.game_id, "game_code": rule.game_code, "member_id": member_id,
        "source_type": source[0], "source_id": source[1], "earned_at": now,
    }  # fmt: skip


#: A credit's key: one per game and source event.
CREDIT_KEY = ("game_id", "member_id", "source_type", "source_id")


def _insert_credits(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert the credits not there yet (a replayed event finds its own), in one statement built once
    (:func:`~loyalty.db.upsert_many`), and announce each new one."""
    values = [{name: value for name, value in row.items() if name != "game_code"} for row in rows]
    written = upsert_many(session, table_of(GamePlayCredit), values, conflict=_new_credits)
    inserted: dict[tuple[Any, ...], int] = {tuple(found[1:]): found[0] for found in written}
    for row in rows:
        credit_id = inserted.pop(tuple(row[name] for name in CREDIT_KEY), None)
        if credit_id is not None:
            outbox.record(
                session,
                GamePlayEarned(
                    occurred_at=row["earned_at"], member_id=row["member_id"], game_code=row["game_code"],
                    credit_id=credit_id, source=row["source_type"],
                ),
            )  # fmt: skip


def _new_credits(stmt: Any) -> Any:
    """The credits offered that are not there yet are inserted, and returned with their ids."""
    table = table_of(GamePlayCredit)
    return stmt.on_conflict_do_nothing(index_elements=list(CREDIT_KEY)).returning(table.c.id, *(table.c[name] for name in CREDIT_KEY))


def _open_rules(session: Session, earn_on: str, at: datetime) -> list[EarningRule]:
    rules: tuple[EarningRule, ...] = cached(session, "game_earning_rules", _read_rules)
    return [rule for rule in rules if rule.earn_on == earn_on and rule.is_open(at)]


def _read_rules(session: Session) -> tuple[EarningRule, ...]:
    games = session.scalars(select(Game).where(Game.is_active.is_(True)).order_by(Game.id))
    return tuple(
        EarningRule(
            game_id=game.id,
            game_code=game.code,
            earn_on=game.earn_on,
            min_total=game.earn_min_total,
            action_key=game.earn_action_key,
            starts_at=game.starts_at,
            ends_at=game.ends_at,
        )
        for game in games
    )


def _credit(session: Session, rule: EarningRule, member_id: int, source: tuple[str, str], now: datetime) -> None:
    """One play for ``source``, once: a replayed event finds the credit there already."""
    credit_id = insert_if_absent(
        session,
        GamePlayCredit,
        {
            "game_id": rule.game_id,
            "member_id": member_id,
            "source_type": source[0],
            "source_id": source[1],
            "earned_at": now,
            "spent_at": None,
        },
        key=("game_id", "member_id", "source_type", "source_id"),
    )
    if credit_id is not None:
        outbox.record(
            session,
            GamePlayEarned(
                occurred_at=now, member_id=member_id, game_code=rule.game_code, credit_id=credit_id, source=source[0]
            ),
        )


def play_game(
    session: Session, *, member_id: int, game_code: str, now: datetime, randbelow: RandomBelow = secrets.randbelow
) -> PlayResult:
    """Spend one of a member's plays of an open game: draw, take a unit of the prize, award it.

    The credit is claimed with ``FOR UPDATE SKIP LOCKED`` and a guarded update, and a play row is
    unique per credit: concurrent plays never spend one credit twice. No credit left: :class:`Conflict`.
    The draw is over the prizes' weights and the game's ``no_prize_weight``, from ``randbelow`` (the
    system's cryptographic source by default). A prize with a stock takes its unit with
    ``UPDATE … SET stock = stock - 1 WHERE stock > 0``; when that finds none (or a voucher's reward is
    out of stock), the play is recorded as ``out_of_stock`` and wins nothing: the odds of the other
    outcomes never change. Records ``GamePlayed`` (and the prize's ``PointsEarned`` or ``RewardRedeemed``).
    """
    game = get_game(session, game_code)
    if not game.is_open(now):
        raise InvalidOperation("this game is not open", field="code")
    if session.get(Member, member_id) is None:
        raise NotFound(f"member {member_id} does not exist", field="member_id")
    credit_id = _spend_credit(session, game.id, member_id, now)
    prizes = list(game.prizes)
    drawn = draw([prize.weight for prize in prizes] + [game.no_prize_weight], randbelow)
    prize = prizes[drawn.index] if drawn.index < len(prizes) else None
    play = GamePlay(
        game_id=game.id,
        member_id=member_id,
        credit_id=credit_id,
        played_at=now,
        draw_value=drawn.value,
        draw_total=drawn.total,
        # A prize drawn is out of stock until its unit is taken.
        outcome="no_prize" if prize is None else "out_of_stock",
        prize_id=prize.id if prize else None,
        prize_code=prize.code if prize else None,
        points_awarded=0,
    )
    session.add(play)
    session.flush()
    if prize is not None:
        _award(session, play, game, prize, now)
    outbox.record(
        session,
        GamePlayed(
            occurred_at=now,
            member_id=member_id,
            game_code=game.code,
            play_id=play.id,
            prize_code=play.prize_code if play.outcome == "prize" else None,
        ),
    )
    session.flush()
    return PlayResult(game_code=game.code, play=play, plays_left=_plays_left(session, game.id, member_id))


def _spend_credit(session: Session, game_id: int, member_id: int, now: datetime) -> int:
    """Mark the member's oldest unspent credit of the game spent; its id."""
    credit_id = session.scalar(
        select(GamePlayCredit.id)
        .where(
            GamePlayCredit.game_id == game_id,
            GamePlayCredit.member_id == member_id,
            GamePlayCredit.spent_at.is_(None),
        )
        .order_by(GamePlayCredit.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    spent = 0
    if credit_id is not None:
        spent = rowcount(session.execute(
            update(GamePlayCredit)
            .where(GamePlayCredit.id == credit_id, GamePlayCredit.spent_at.is_(None))
            .values(spent_at=now),
            execution_options={"synchronize_session": False},
        ))
    if credit_id is None or spent != 1:
        raise Conflict("the member has no play of this game left", field="code")
    return credit_id


def _award(session: Session, play: GamePlay, game: Game, prize: GamePrize, now: datetime) -> None:
    """Take a unit of the drawn prize and give it; out of stock, the play stays ``out_of_stock``."""
    voucher, stock_after = None, None
    try:
        with session.begin_nested():  # a voucher's reward out of stock gives the game's unit back
            if prize.stock is not None:
                stock_after = _take_unit(session, prize)
            if prize.kind == "points":
                assert prize.points is not None
                ledger.post(
                    session,
                    member_id=play.member_id,
                    points=prize.points,
                    kind="bonus",
                    reason=f"game {game.code}: {prize.code}",
                    now=now,
                    source=("game_play", str(play.id)),
                )
            else:
                assert prize.reward_code is not None
                voucher = grant_offer(
                    session, member_id=play.member_id, reward_code=prize.reward_code, now=now, source="game"
                )
    except Conflict:
        return
    play.outcome = "prize"
    play.stock_after = stock_after
    play.points_awarded = prize.points or 0
    play.voucher = voucher


def _take_unit(session: Session, prize: GamePrize) -> int:
    """One unit of a prize with a stock, by a guarded update; the stock left."""
    left = session.execute(
        update(GamePrize)
        .where(GamePrize.id == prize.id, GamePrize.stock > 0)
        .values(stock=GamePrize.stock - 1)
        .returning(GamePrize.stock),
        execution_options={"synchronize_session": False},
    ).scalar_one_or_none()
    if left is None:
        raise Conflict(f"the prize {prize.code} is out of stock", field="code")
    return left


def _plays_left(session: Session, game_id: int, member_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(GamePlayCredit)
            .where(
                GamePlayCredit.game_id == game_id,
                GamePlayCredit.member_id == member_id,
                GamePlayCredit.spent_at.is_(None),
            )
        )
        or 0
    )


def member_games(session: Session, member_id: int, *, now: datetime) -> list[MemberGame]:
    """The open games, and any other the member has plays of (left or made), with their latest plays."""
    available: dict[int, int] = {
        game_id: count
        for game_id, count in session.execute(
            select(GamePlayCredit.game_id, func.count())
            .where(GamePlayCredit.member_id == member_id, GamePlayCredit.spent_at.is_(None))
            .group_by(GamePlayCredit.game_id)
        )
    }
    history: dict[int, list[GamePlay]] = {}
    for play in session.scalars(
        select(GamePlay).where(GamePlay.member_id == member_id).order_by(GamePlay.id.desc()).limit(HISTORY * 5)
    ):
        plays = history.setdefault(play.game_id, [])
        if len(plays) < HISTORY:
            plays.append(play)
    games = session.scalars(select(Game).order_by(Game.id))
    return [
        MemberGame(
            game=game,
            is_open=game.is_open(now),
            plays_available=available.get(game.id, 0),
            plays=history.get(game.id, []),
        )
        for game in games
        if game.is_open(now) or game.id in available or game.id in history
    ]


def game_plays(session: Session, game_code: str, *, limit: int, before: int | None = None) -> PlayPage:
    """A game's plays, newest first, ``limit`` plays older than play ``before``: the audit trail."""
    game = get_game(session, game_code)
    stmt = select(GamePlay).where(GamePlay.game_id == game.id)
    if before is not None:
        stmt = stmt.where(GamePlay.id < before)
    plays = list(session.scalars(stmt.order_by(GamePlay.id.desc()).limit(limit + 1)))
    has_more = len(plays) > limit
    plays = plays[:limit]
    return PlayPage(items=plays, next_before=plays[-1].id if has_more else None)


def get_game(session: Session, code: str) -> Game:
    game = session.scalar(select(Game).where(Game.code == code))
    if game is None:
        raise NotFound(f"no game has the code {code!r}", field="code")
    return game


def list_games(session: Session) -> list[Game]:
    return list(session.scalars(select(Game).order_by(Game.id)))


def save_game(session: Session, fields: dict[str, Any], *, code: str | None = None) -> Game:
    """Create a game, or change the one with ``code``.

    A purchase game may set a minimum total; an engagement game names an existing action. Prizes are
    given as a whole list, matched to the existing ones by code: a prize can be changed (its weight, its
    stock) but not removed once won. Some outcome must have a weight.
    """
    if code is None:
        if session.scalar(select(Game.id).where(Game.code == fields["code"])) is not None:
            raise Conflict(f"a game with the code {fields['code']!r} exists already", field="code")
        game = Game(is_active=True, description="")
    else:
        game = get_game(session, code)
    specs = fields.pop("prizes", None)
    with session.no_autoflush:  # nothing reaches the database before it is checked
        for name, value in fields.items():
            setattr(game, name, value)
        _check_game(session, game)
        if specs is not None:
            _check_prizes(session, specs)
            _replace_prizes(session, game, specs)
        if sum(prize.weight for prize in game.prizes) + game.no_prize_weight <= 0:
            raise InvalidOperation("some outcome must have a weight above 0", field="no_prize_weight")
    session.add(game)
    session.flush()
    touch(session)
    return game


def _check_game(session: Session, game: Game) -> None:
    if game.starts_at and game.ends_at and game.ends_at <= game.starts_at:
        raise InvalidOperation("the window must end after it starts", field="ends_at")
    if game.earn_on == "engagement":
        if game.earn_action_key is None:
            raise InvalidOperation("an engagement game names the action that earns a play", field="earn_action_key")
        if game.earn_min_total is not None:
            raise InvalidOperation("only a purchase game has a minimum total", field="earn_min_total")
        if session.scalar(select(EngagementAction.id).where(EngagementAction.key == game.earn_action_key)) is None:
            raise InvalidOperation(f"no engagement action is called {game.earn_action_key!r}", field="earn_action_key")
    elif game.earn_action_key is not None:
        raise InvalidOperation("a purchase game is earned by purchases, not an action", field="earn_action_key")


def _check_prizes(session: Session, specs: list[dict[str, Any]]) -> None:
    codes = [spec["code"] for spec in specs]
    offers = set(session.scalars(select(Reward.code).where(Reward.is_offer.is_(True))))
    for index, spec in enumerate(specs):
        field = f"prizes.{index}"
        if codes.index(spec["code"]) != index:
            raise InvalidOperation(f"two prizes have the code {spec['code']!r}", field=f"{field}.code")
        if spec["kind"] == "points":
            if not spec.get("points"):
                raise InvalidOperation("a points prize gives some points", field=f"{field}.points")
            if spec.get("reward_code") is not None:
                raise InvalidOperation("a points prize gives no voucher", field=f"{field}.reward_code")
        else:
            if spec.get("reward_code") not in offers:
                raise InvalidOperation("a reward prize names an offer reward", field=f"{field}.reward_code")
            if spec.get("points") is not None:
                raise InvalidOperation("a reward prize gives a voucher, not points", field=f"{field}.points")


def _replace_prizes(session: Session, game: Game, specs: list[dict[str, Any]]) -> None:
    existing = {prize.code: prize for prize in game.prizes}
    wanted = {spec["code"] for spec in specs}
    for prize in existing.values():
        if prize.code not in wanted and session.scalar(select(exists().where(GamePlay.prize_id == prize.id))):
            raise Conflict(f"the prize {prize.code} was won: set its weight to 0 instead", field="prizes")
    prizes = []
    for position, spec in enumerate(specs, start=1):
        prize = existing.get(spec["code"]) or GamePrize()
        prize.position = position
        for name in ("code", "name", "kind", "weight"):
            setattr(prize, name, spec[name])
        for name in ("points", "reward_code", "stock"):
            setattr(prize, name, spec.get(name))
        prizes.append(prize)
    game.prizes = prizes
