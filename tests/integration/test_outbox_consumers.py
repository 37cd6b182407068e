"""Outbox consumers: each event applied once per consumer, after commit, in order; a failing event goes
to the dead letters and the consumer goes on; the lag is reported; and a random history gives the
same derived figures as the synchronous handlers did."""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from loyalty import outbox
from loyalty.consumers import (
    SEQUENCER,
    Consumer,
    Delivered,
    OutboxCursor,
    OutboxDeadLetter,
    consume,
    each,
    purge_consumed,
    run_consumers,
    sequence,
)
from loyalty.db import session_scope
from loyalty.events import EngagementRecorded, PointsEarned, PurchaseRecorded
from loyalty.outbox import OutboxEvent
from notifications.bootstrap import CONSUMERS, DERIVED
from notifications.scheduler.models import JobRun
from tests.builders import purchase_body
from tests.conftest import DEFAULT_PROGRAM, Headers, reset_database


@pytest.fixture
def program() -> Path:
    return DEFAULT_PROGRAM


def noting(name: str, *, fails_for: int | None = None, then: Callable[[], None] | None = None) -> Consumer:
    """A consumer that notes each purchase it applies as a ``job_runs`` row (``seen:<event id>``):
    a real effect in the consumer's transaction. It refuses the purchase of member ``fails_for``."""

    def apply(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
        for delivered in batch:
            if delivered.event.member_id == fails_for:
                raise ValueError(f"refusing member {fails_for}")
            session.add(JobRun(job=f"{name}:{delivered.id}", last_run_at=now))
        session.flush()
        if then is not None:
            then()

    return Consumer(name, on=(PurchaseRecorded,), apply=apply, batch_size=3)


def seen(sessions: sessionmaker[Session], name: str) -> list[int]:
    with sessions() as session:
        jobs = session.scalars(select(JobRun.job).where(JobRun.job.like(f"{name}:%")))
        return sorted(int(job.split(":")[1]) for job in jobs)


def purchase_ids(sessions: sessionmaker[Session]) -> list[int]:
    with sessions() as session:
        return list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.event_type == "PurchaseRecorded").order_by(OutboxEvent.id)))


def test_each_event_is_applied_once_however_often_the_consumers_run(app, make_member, make_purchase, sessions, clock):
    members = [make_member() for _ in range(2)]
    for index in range(7):
        make_purchase(member_id=members[index % 2]["id"])
    consumer = noting("once")
    assert run_consumers(sessions, [consumer], clock=clock.now) == 7
    assert run_consumers(sessions, [consumer], clock=clock.now) == 0
    make_purchase(member_id=members[0]["id"])
    run_consumers(sessions, [consumer], clock=clock.now)
    assert seen(sessions, "once") == purchase_ids(sessions)


def test_a_poll_stops_at_the_events_committed_when_it_began(app, make_member, make_purchase, sessions, clock):
    """Without ``settle`` (the worker's poll), what the consumers record meanwhile waits for the next
    poll; with it, the run goes on until nothing is left."""
    member = make_member()
    make_purchase(member_id=member["id"])
    make_purchase(member_id=member["id"])

    def echo(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
        for delivered in batch:
            outbox.record(session, EngagementRecorded(occurred_at=now, member_id=delivered.event.member_id, action="echo", ref=str(delivered.id), points=0, awarded=False))
        session.flush()

    def noted(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
        session.add_all(JobRun(job=f"noted:{delivered.id}", last_run_at=now) for delivered in batch)

    consumers = [Consumer("echo", on=(PurchaseRecorded,), apply=echo), Consumer("noted", on=(EngagementRecorded,), apply=noted)]
    assert run_consumers(sessions, consumers, clock=clock.now, settle=False) == 2 + 1  # the purchases; the enrolment's engagement
    assert len(seen(sessions, "noted")) == 1
    assert run_consumers(sessions, consumers, clock=clock.now, settle=False) == 2  # the echoes, at the next poll
    assert len(seen(sessions, "noted")) == 3
    make_purchase(member_id=member["id"])
    assert run_consumers(sessions, consumers, clock=clock.now) == 1 + 1
    assert len(seen(sessions, "noted")) == 4


def test_consumers_standing_together_move_together_through_a_backlog(app, make_member, make_purchase, sessions, clock):
    """One read per round for the consumers at one position, as long as the smallest batch: each
    applies its events of it and all move to its end, whatever their types and batch sizes."""
    member = make_member()
    for _ in range(6):
        make_purchase(member_id=member["id"])
    narrow = Consumer("narrow", on=(PurchaseRecorded,), apply=noting("narrow").apply, batch_size=1)
    wide = Consumer("wide", on=(PurchaseRecorded, PointsEarned), apply=noting("wide").apply, batch_size=5)
    with session_scope(sessions) as session:
        sequence(session, now=clock.now())
    rounds = []
    while True:
        with session_scope(sessions) as session:
            if not consume(session, [narrow, wide], now=clock.now()):
                break
            cursors = session.execute(select(OutboxCursor.consumer, OutboxCursor.position).where(OutboxCursor.consumer.in_(("narrow", "wide"))))
            rounds.append({name: position for name, position in cursors})
    assert len(rounds) > 2
    assert all(positions["narrow"] == positions["wide"] for positions in rounds)
    assert seen(sessions, "narrow") == purchase_ids(sessions)
    with sessions() as session:
        wide_ids = session.scalars(select(OutboxEvent.id).where(OutboxEvent.event_type.in_(wide.event_names)).order_by(OutboxEvent.id))
        assert seen(sessions, "wide") == list(wide_ids)


def test_a_worker_killed_mid_batch_leaves_neither_effects_nor_progress(app, make_member, make_purchase, sessions, clock):
    member = make_member()
    for _ in range(4):
        make_purchase(member_id=member["id"])

    def die() -> None:
        raise KeyboardInterrupt  # as good as a kill: nothing after it in the transaction commits

    with pytest.raises(KeyboardInterrupt):
        run_consumers(sessions, [noting("killed", then=die)], clock=clock.now)
    assert seen(sessions, "killed") == []
    run_consumers(sessions, [noting("killed")], clock=clock.now)
    assert seen(sessions, "killed") == purchase_ids(sessions)


def test_a_failing_event_goes_to_the_dead_letters_and_the_consumer_goes_on(
    app, client, admin, make_member, make_purchase, sessions, clock
):
    members = [make_member() for _ in range(3)]
    for member in members * 2:
        make_purchase(member_id=member["id"])
    failing = members[1]["id"]
    run_consumers(sessions, [noting("picky", fails_for=failing)], clock=clock.now)
    with sessions() as session:
        refused = list(session.scalars(select(OutboxEvent.id).where(OutboxEvent.event_type == "PurchaseRecorded", OutboxEvent.member_id == failing).order_by(OutboxEvent.id)))
    assert seen(sessions, "picky") == sorted(set(purchase_ids(sessions)) - set(refused))
    letters = client.get("/api/v1/admin/outbox/dead-letters", query_string={"consumer": "picky"}, headers=admin)
    assert letters.status_code == 200
    assert sorted(letter["event_id"] for letter in letters.json) == refused
    assert {letter["error"] for letter in letters.json} == {f"ValueError: refusing member {failing}"}
    assert run_consumers(sessions, [noting("picky", fails_for=failing)], clock=clock.now) == 0


def test_the_lag_of_each_consumer_is_reported_until_it_caught_up(client, admin, make_member, make_purchase, caught_up, clock):
    member = make_member()
    make_purchase(member_id=member["id"])
    clock.advance(timedelta(seconds=3))
    lags = {lag["consumer"]: lag for lag in client.get("/api/v1/admin/outbox/consumers", headers=admin).json}
    assert set(lags) == {consumer.name for consumer in CONSUMERS}
    assert lags["leaderboards"]["backlog"] >= 2  # the enrolment's points, the purchase's
    assert lags["leaderboards"]["age_seconds"] >= 3
    caught_up()
    lags = {lag["consumer"]: lag for lag in client.get("/api/v1/admin/outbox/consumers", headers=admin).json}
    assert {(lag["backlog"], lag["age_seconds"]) for lag in lags.values()} == {(0, 0.0)}


def test_events_are_forgotten_only_once_every_consumer_has_read_them(app, make_member, sessions, clock, caught_up):
    make_member()
    late = clock.now() + timedelta(days=30)
    with session_scope(sessions) as session:
        sequence(session, now=clock.now())
        consume(session, CONSUMERS[:1], now=clock.now())
    with session_scope(sessions) as session:
        assert purge_consumed(session, CONSUMERS, before=late) == 0
    caught_up()
    with session_scope(sessions) as session:
        assert purge_consumed(session, CONSUMERS, before=late) > 0
        assert session.scalar(select(func.count()).select_from(OutboxEvent)) == 0


@pytest.mark.postgres
def test_an_event_committed_after_a_later_one_is_still_applied(app, make_member, make_purchase, sessions, clock):
    """A transaction that took its outbox id first but commits last is not skipped by the cursors."""
    member = make_member()
    slow = sessions()
    slow.execute(text("SELECT 1"))
    outbox.record(slow, PurchaseRecorded(occurred_at=clock.now(), member_id=member["id"], purchase_id=0, store_code="S1", channel="store", total=0, currency="EUR"))  # type: ignore[arg-type]
    slow.flush()  # the lower id, not committed yet
    make_purchase(member_id=member["id"])
    consumer = noting("ordered")
    run_consumers(sessions, [consumer], clock=clock.now)
    assert len(seen(sessions, "ordered")) == 1
    slow.commit()
    slow.close()
    run_consumers(sessions, [consumer], clock=clock.now)
    assert seen(sessions, "ordered") == purchase_ids(sessions)


@pytest.mark.postgres
def test_workers_running_at_once_apply_each_event_once(app, make_member, make_purchase, sessions, clock):
    member = make_member()
    for _ in range(40):
        make_purchase(member_id=member["id"])
    consumer = noting("crowd")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            run_consumers(sessions, [consumer], clock=clock.now)
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_consumers(sessions, [consumer], clock=clock.now)
    assert errors == []
    assert seen(sessions, "crowd") == purchase_ids(sessions)


# The same random history, with the derived reactions run synchronously by their per-event handlers
# (DERIVED, inside each request's transaction, as they were) and by the consumers after commit (most
# of them set-based: BATCHED), leaves the same derived figures.

#: The rows the derived reactions write, member first (surrogate ids of per-run rows left out).
DERIVED_ROWS = {
    "member_metrics": "SELECT member_id, metric, qualifier, value FROM member_metrics",
    "member_badges": "SELECT member_id, badge_id, level, awarded_at FROM member_badges",
    "challenge_participations": "SELECT member_id, challenge_id, joined_at, completed_at FROM challenge_participations",
    "challenge_progress": "SELECT p.member_id, p.challenge_id, c.step_id, c.value FROM challenge_progress c"
    " JOIN challenge_participations p ON p.id = c.participation_id",
    "member_streaks": "SELECT member_id, streak_id, current, best, last_period FROM member_streaks",
    "leaderboard_scores": "SELECT member_id, metric, period_key, scope, points, is_listed FROM leaderboard_scores",
    "engagement_scores": "SELECT member_id, score, as_of, level, drops_at FROM engagement_scores",
    "game_play_credits": "SELECT member_id, game_id, source_type, earned_at, spent_at FROM game_play_credits",
    "members": "SELECT id, points_balance, lifetime_points, tier_code FROM members",
}
ACTIONS = ("store_visit", "review_posted", "share")


def replay(client: FlaskClient, till: Headers, service: Headers, admin: Headers, clock: Any, seed: int, after_request: Callable[[], None]) -> list[int]:
    """A random history of 5 members over a few weeks: purchases, returns, engagement; returns how
    many purchases each member made."""
    rng = random.Random(seed)
    members = []
    for _ in range(5):
        response = client.post("/api/v1/members", json={"email": f"m{rng.random()}@example.com", "first_name": "A", "last_name": "B", "password": "correct-horse"}, headers=admin)
        assert response.status_code == 201, response.json
        members.append(response.json["id"])
        after_request()
    purchases: list[int] = []
    count = [0] * len(members)
    for step in range(70):
        clock.advance(timedelta(hours=rng.choice((0, 1, 7, 30))))
        who = rng.randrange(len(members))
        roll = rng.random()
        if roll < 0.55:
            price = f"{rng.randint(5, 140)}.00"
            line = {"sku": "SKU", "category": rng.choice(("shoes", "textile", "food")), "quantity": 1, "unit_price": price}
            body = purchase_body(member_id=members[who], total=price, lines=[line], occurred_at=clock.now().isoformat())
            response = client.post("/api/v1/purchases", json=body, headers=till)
            assert response.status_code == 201, response.json
            purchases.append(response.json["id"])
            count[who] += 1
        elif roll < 0.7 and purchases:
            purchase = rng.choice(purchases)
            body = {"return_no": f"RET{step}", "amount": f"{rng.randint(1, 5)}.00"}
            response = client.post(f"/api/v1/purchases/{purchase}/returns", json=body, headers=till)
            assert response.status_code in (201, 409, 422), response.json
        else:
            body = {"member_id": members[who], "action": rng.choice(ACTIONS), "ref": f"ref{step}", "occurred_at": clock.now().isoformat()}
            response = client.post("/api/v1/engagements", json=body, headers=service)
            assert response.status_code == 201, response.json
        after_request()
    return count


def derived_figures(sessions: sessionmaker[Session]) -> dict[str, list[tuple[Any, ...]]]:
    """The derived rows, members numbered in enrolment order instead of by id."""
    with sessions() as session:
        rank = {id_: index for index, id_ in enumerate(session.scalars(text("SELECT id FROM members ORDER BY id")))}
        return {
            table: sorted((rank[row[0]], *(str(value) for value in row[1:])) for row in session.execute(text(query)))
            for table, query in DERIVED_ROWS.items()
        }


@contextmanager
def synchronous_reactions() -> Iterator[None]:
    """Every derived handler subscribed in-transaction, as they ran before the consumers."""
    subscribed = [(event, handler) for handlers in DERIVED.values() for event, each in handlers.items() for handler in each]
    for event, handler in subscribed:
        outbox.subscribe(event, handler)
    try:
        yield
    finally:
        for event, handler in subscribed:
            outbox.unsubscribe(event, handler)


def consumers_run(
    client: FlaskClient, callers: tuple[Headers, Headers, Headers], clock: Any, sessions: sessionmaker[Session],
    seed: int, consumers: Sequence[Consumer], sizes: tuple[int, ...], every: float,
) -> tuple[dict[str, list[tuple[Any, ...]]], list[int]]:
    """The replay with ``consumers`` (their batches of ``sizes``) run after a request now and then
    (``every``: the chance), and after the end; the derived figures and the purchases per member."""
    rng = random.Random(seed)
    sized = [Consumer(c.name, c.on, c.apply, batch_size=rng.choice(sizes)) for c in consumers]
    counts = replay(
        client, *callers, clock, seed,
        after_request=lambda: run_consumers(sessions, sized, clock=clock.now) if rng.random() < every else None,
    )  # fmt: skip
    run_consumers(sessions, consumers, clock=clock.now)
    return derived_figures(sessions), counts


#: What the consumers start and announce, beside the derived rows (entry keys and payloads left out:
#: they hold event and row ids).
STARTED_AND_ANNOUNCED = {
    "journeys": "SELECT member_id, scenario_id, variant, is_holdout, status, converted_at, revenue, due_at FROM journeys",
    "announced": "SELECT member_id, event_type, occurred_at, count(*) FROM outbox_events"
    " WHERE event_type IN ('BadgeAwarded', 'StreakExtended', 'ChallengeCompleted', 'GamePlayEarned')"
    " GROUP BY member_id, event_type, occurred_at",
}


def started_and_announced(sessions: sessionmaker[Session]) -> dict[str, list[tuple[str, ...]]]:
    """The journeys started and the events the consumers recorded, members numbered in enrolment order."""
    with sessions() as session:
        rank = {id_: index for index, id_ in enumerate(session.scalars(text("SELECT id FROM members ORDER BY id")))}
        return {
            name: sorted((str(rank[row[0]]), *(str(value) for value in row[1:])) for row in session.execute(text(query)))
            for name, query in STARTED_AND_ANNOUNCED.items()
        }


def one_by_one(apply: Callable[[Session, Sequence[Delivered], datetime], None]) -> Callable[[Session, Sequence[Delivered], datetime], None]:
    """``apply`` given each event of the batch alone, in turn."""

    def apply_each(session: Session, batch: Sequence[Delivered], now: datetime) -> None:
        for delivered in batch:
            apply(session, [delivered], now)

    return apply_each


#: The consumers applying each event alone (with the per-event handlers where there are): the
#: reference of the batched ones.
PER_EVENT = [Consumer(c.name, c.on, each(DERIVED[c.name]) if c.name in DERIVED else one_by_one(c.apply)) for c in CONSUMERS]


@pytest.mark.parametrize(
    ("seed", "sizes", "every"),
    [
        (11, (1, 2, 5), 0.3),  # small batches, often: a member's events spread over several
        (12, (5, 50, 500), 0.1),  # batches holding several events of each member
    ],
)
def test_the_consumers_leave_the_figures_the_synchronous_handlers_left(
    app: Flask, client, client_headers, clock, sessions, seed: int, sizes: tuple[int, ...], every: float
):
    def callers() -> tuple[Headers, Headers, Headers]:
        return client_headers("till", store="S1"), client_headers("service"), client_headers("admin")

    with synchronous_reactions():
        replay(client, *callers(), clock, seed, after_request=lambda: None)
    synchronous = derived_figures(sessions)

    reset_database(app, clock, DEFAULT_PROGRAM)
    after_commit, counts = consumers_run(client, callers(), clock, sessions, seed, CONSUMERS, sizes, every)
    assert after_commit == synchronous
    # and against a plain count: each member's ``purchases`` metric is the number of their purchases
    purchases = {row[0]: int(row[3]) for row in after_commit["member_metrics"] if row[1] == "purchases"}
    assert purchases == {index: n for index, n in enumerate(counts) if n}


@pytest.mark.parametrize(("seed", "every"), [(13, 0.0), (14, 0.05)])
def test_the_batched_consumers_leave_the_figures_the_per_event_handlers_leave(
    app: Flask, client, client_headers, clock, sessions, seed: int, every: float
):
    """Large batches, rarely (with ``every`` 0, the whole history in one batch per consumer and
    round): the same schedule with the per-event handlers leaves the same figures. (Against the
    synchronous handlers a return may then find another balance: the bonuses arrive later.)"""

    def callers() -> tuple[Headers, Headers, Headers]:
        return client_headers("till", store="S1"), client_headers("service"), client_headers("admin")

    per_event, _ = consumers_run(client, callers(), clock, sessions, seed, PER_EVENT, (500,), every)
    per_event_started = started_and_announced(sessions)
    reset_database(app, clock, DEFAULT_PROGRAM)
    batched, _ = consumers_run(client, callers(), clock, sessions, seed, CONSUMERS, (500,), every)
    assert batched == per_event
    assert started_and_announced(sessions) == per_event_started
    assert per_event_started["journeys"] and per_event_started["announced"]
    assert any(row[1] == "reviews" for row in batched["member_metrics"])  # the history moves badges
    assert batched["member_streaks"] and batched["engagement_scores"] and batched["game_play_credits"]
