"""A synthetic population played through the scenarios on a simulated clock, for their KPIs.

Everything a member does goes through the real code: enrolment (``enroll_member``), the earning path
(``record_purchase``: points, thresholds, tiers, badges and the other reactions), the scheduler's passes
(``run_pass``: the outbox, the scans, the journeys, delivery under the pressure rules), the tracking
operations of the open pixel, the click links, the unsubscribe link, the app's inbox and push taps, and
the KPI queries of the API. Two things are made up:

- **the members and their behaviour**, decided by seeded :class:`random.Random` streams (the same seed
  tells the same story, on SQLite as on PostgreSQL): time zones, consents, phones, app use, birthdays,
  purchase habits (regular and occasional buyers, members who stop buying, members who never buy),
  baskets, how each member reacts to a message (reads it, clicks, buys, unsubscribes), and for the demo
  data returns and rewards redeemed with their points;
- **the channels**: :class:`RecordingChannel` keeps the envelopes in memory instead of sending them.
  A simulation must never send a real email, SMS or push, whatever the configuration says.

The story: members enrolled during the :data:`HISTORY` before the start, each with their last purchase
before it (the scenarios are paused meanwhile, as before a program goes live, so that this history
starts no journey); newcomers enrol during the period.

:func:`simulate` plays in an empty database, with links that go nowhere; :func:`fill_demo_data` plays
the same story in the application's own database, its program already loaded, over the days up to now,
with the application's links: the back office's demo data. From the start, the clock moves one hour at a
time: what members do within the hour happens at its own instant, each in its own transaction (as a
till or an app request would), then a scheduler pass runs as the leader, so the daily scans run at the
schedule's hour and quiet hours defer messages to the next morning of each member's time zone.
"""

from __future__ import annotations

import heapq
import itertools
import re
import secrets
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from loyalty.clock import FrozenClock
from loyalty.db import session_scope
from loyalty.enrolment.operations import NewMember, enroll_member
from loyalty.members.models import Member
from loyalty.purchases.operations import LineInput, PurchaseInput, record_purchase, record_return
from loyalty.receipts.models import Purchase
from notifications.channels.base import CHANNELS, Delivery, Envelope
from notifications.messages import kpis, tracking
from notifications.messages.links import Links
from notifications.messages.models import Message
from notifications.messages.operations import read_inbox_message, report_opened, subscribe_push
from notifications.program import load_program
from notifications.runtime import Runtime
from notifications.scenarios.operations import list_scenarios, set_status
from notifications.scheduler.jobs import Schedule, run_pass
from rewards.catalog.operations import catalog_for, redeem_reward

#: Members enrolled before the start joined during this period.
HISTORY = timedelta(days=180)
#: The clock's step between two scheduler passes.
STEP = timedelta(hours=1)
#: The demo data's step: two passes a day are enough to start and deliver every scenario's messages,
#: and quick to play (a pass costs the same whatever happened within it).
DEMO_STEP = timedelta(hours=12)
#: The maintenance tasks (expiring points, releasing pending points, reviewing tiers) work at the
#: day's granularity: the simulation runs them once a simulated day rather than every hour.
MAINTENANCE_INTERVAL = timedelta(days=1)
#: Where the simulated links point; nothing ever follows them but the simulation itself.
PUBLIC_URL = "https://loyalty.simulation.invalid"
APP_URL = "https://app.simulation.invalid"

TIMEZONES = {
    "Europe/Paris": 55,
    "Europe/London": 15,
    "Europe/Madrid": 10,
    "America/New_York": 10,
    "America/Toronto": 5,
    "Asia/Tokyo": 5,
}
#: The language of the members of each time zone (Toronto: one in three in French); the program's
#: default (French, in the default program) answers those it does not speak (Spanish, Japanese).
LOCALES = {
    "Europe/Paris": "fr-FR",
    "Europe/London": "en-GB",
    "Europe/Madrid": "es-ES",
    "America/New_York": "en-US",
    "America/Toronto": "en-CA",
    "Asia/Tokyo": "ja-JP",
}
FIRST_NAMES = ("Claire", "Louis", "Amina", "Hugo", "Sofia", "Jules", "Chloé", "Noah", "Inès", "Adam", "Léa", "Yanis")
#: Drawn from the member's number, not from the seed's stream, so that names leave the story unchanged.
LAST_NAMES = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Leroy", "Moreau", "Garcia", "Smith")
CATEGORIES = ("shoes", "textile", "beauty", "home")
STORES = ("S001", "S002", "S003")
#: Purchase habits and their share of the population.
HABITS = {"regular": 30, "occasional": 30, "lapsing": 20, "never": 20}
#: How likely a member who reads messages reads one on this channel (SMS are read but not tracked).
READ_BY_CHANNEL = {"email": 1.0, "push": 0.9, "sms": 1.0, "in_app": 0.6}
#: Chance that reading an email makes the member unsubscribe from email.
UNSUBSCRIBE = 0.004
#: Chance that a purchase is partly brought back within a fortnight.
RETURN = 0.05
#: Chance that a member spends their points on the dearest reward they can afford, after a purchase.
REDEEM = 0.3
_LINK = re.compile(r"/t/([ocu])/([A-Za-z0-9_.\-]+)")


@dataclass(frozen=True)
class SimulationSettings:
    members: int
    days: int
    seed: int
    #: The first instant of the simulated period (UTC): the program goes live then.
    start: datetime
    #: Whether members also bring goods back and spend their points on rewards (the demo data).
    returns_and_rewards: bool = False

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)


@dataclass
class Person:
    """A synthetic member: who they are and how they behave."""

    number: int
    profile: NewMember
    enrolled_at: datetime
    uses_app: bool
    #: Mean days between two purchases of their own accord; None for members who never buy so.
    interval_days: float | None
    #: When a lapsing member stops buying of their own accord.
    stops_at: datetime | None
    basket: float
    #: Chance of reading a message; then of clicking it; then of buying because of it.
    attention: float
    curiosity: float
    persuadable: float
    #: Their own random stream (purchase dates, baskets), independent of everyone else's.
    rng: Random
    member_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.profile.timezone or "UTC")


class RecordingChannel:
    """A channel that keeps every envelope in memory and delivers nothing: the simulation's channels,
    deliberately, so that no simulated message can reach a real person."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.envelopes: list[Envelope] = []

    def send(self, envelope: Envelope) -> Delivery:
        self.envelopes.append(envelope)
        return Delivery(provider_ref=f"simulated-{envelope.send_key}")


@dataclass(frozen=True)
class Received:
    """A message as the member has it: which one, and the signed links it carries."""

    member_id: int
    message_id: int
    channel: str
    template: str
    links: dict[str, str]


@dataclass(frozen=True)
class SimulationReport:
    settings: SimulationSettings
    members_enrolled: int
    purchases: int
    #: Messages of the period by status and reason (``sent``, ``suppressed: pressure_cap``...).
    messages: dict[str, int]
    #: Per scenario, :func:`notifications.messages.kpis.scenario_kpis`.
    scenarios: list[dict[str, Any]]
    passes: int
    #: Messages of the period that went out (in-app copies apart), by the language they were written in.
    languages: dict[str, int]


def build_population(settings: SimulationSettings) -> list[Person]:
    """The members, decided by the seed: 85% enrolled before the start, the others during the period."""
    rng = Random(settings.seed)
    return [_person(rng, number, settings) for number in range(1, settings.members + 1)]


def _person(rng: Random, number: int, settings: SimulationSettings) -> Person:
    timezone = rng.choices(list(TIMEZONES), weights=list(TIMEZONES.values()))[0]
    phone = f"+3361{number:07d}" if rng.random() < 0.65 else None
    uses_app = rng.random() < 0.35
    consents = {
        "email": rng.random() < 0.75,
        "sms": phone is not None and rng.random() < 0.4,
        "push": uses_app and rng.random() < 0.8,
    }
    consented = [channel for channel, given in consents.items() if given]
    preferred = (
        "email" if consents["email"] and rng.random() < 0.7 else (rng.choice(consented) if consented else "in_app")
    )
    birth_date = None
    if rng.random() < 0.8:
        birth_date = date(rng.randint(1950, 2006), 1, 1) + timedelta(days=rng.randrange(365))
    if rng.random() < 0.85:
        enrolled_at = settings.start - HISTORY * rng.random()
    else:
        enrolled_at = settings.start + (settings.end - settings.start) * rng.random()
    habit = rng.choices(list(HABITS), weights=list(HABITS.values()))[0]
    interval = {"regular": rng.uniform(14, 45), "occasional": rng.uniform(60, 150), "lapsing": rng.uniform(20, 60)}
    stops_at = None
    if habit == "lapsing":
        stops_at = settings.start + timedelta(days=rng.uniform(-HISTORY.days + 10, settings.days / 2))
    first_name = rng.choice(FIRST_NAMES)
    return Person(
        number=number,
        profile=NewMember(
            email=f"member{number}@simulation.invalid",
            first_name=first_name,
            last_name=LAST_NAMES[number * 7 % len(LAST_NAMES)],
            phone=phone,
            birth_date=birth_date,
            timezone=timezone,
            locale="fr-CA" if timezone == "America/Toronto" and number % 3 == 0 else LOCALES[timezone],
            consents=consents,
            preferred_channel=preferred,
        ),
        enrolled_at=enrolled_at,
        uses_app=uses_app,
        interval_days=interval.get(habit),
        stops_at=stops_at,
        basket=rng.uniform(15, 90),
        attention=rng.uniform(0.05, 0.7),
        curiosity=rng.uniform(0.05, 0.5),
        persuadable=rng.uniform(0.02, 0.3),
        rng=Random(f"{settings.seed}:member:{number}"),
    )


class Simulation:
    """The simulated world: the population, what each member will do next (an agenda ordered by
    instant), the clock, and the engine they live in."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: SimulationSettings,
        schedule: Schedule,
        *,
        links: Links | None = None,
        app_url: str = APP_URL,
        step: timedelta = STEP,
        progress: Callable[[datetime], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.schedule = schedule
        self.clock = FrozenClock(settings.start - HISTORY)
        self.channels = {name: RecordingChannel(name) for name in CHANNELS if name != "in_app"}
        self.links = links or Links(base_url=PUBLIC_URL, secret=secrets.token_urlsafe(32))
        self.runtime = Runtime(channels=self.channels, links=self.links, app_url=app_url)
        self.step = step
        #: Told each simulated day of the period, once it is played.
        self.progress = progress
        self.people = build_population(settings)
        self.by_member: dict[int, Person] = {}
        self._agenda: list[tuple[datetime, int, Callable[[], None]]] = []
        self._sequence = itertools.count()
        self._receipts = itertools.count(1)
        self._seen = dict.fromkeys(self.channels, 0)
        self.passes = 0

    def run(self, program: dict[str, Any] | None) -> SimulationReport:
        """Load ``program`` (None: the database's own), play the history, go live, then play the period
        hour by hour."""
        paused = self._load(program)
        for person in self.people:
            self._plan_enrolment(person)
        self._play_until(self.settings.start)
        self._go_live(paused)
        while self.clock.now() < self.settings.end:
            day = self.clock.now().date()
            self._play_until(self.clock.now() + self.step)
            self._pass()
            if self.progress is not None and self.clock.now().date() != day:
                self.progress(self.clock.now())
        return self._report()

    # The world's agenda: what happens when.

    def _at(self, at: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self._agenda, (at, next(self._sequence), action))

    def _play_until(self, until: datetime) -> None:
        """Do what the agenda holds up to ``until``, each action at its own instant; then ``until``."""
        while self._agenda and self._agenda[0][0] <= until:
            at, _, action = heapq.heappop(self._agenda)
            self.clock.set(at)
            action()
        self.clock.set(until)

    # The program and its going live.

    def _load(self, program: dict[str, Any] | None) -> list[str]:
        """Load the program (if given), its active scenarios paused until the start; returns their keys."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            if program is not None:
                load_program(session, program, now=now)
            active = [scenario.key for scenario in list_scenarios(session) if scenario.status == "active"]
            for key in active:
                set_status(session, key, "paused", now=now)
        return active

    def _go_live(self, scenarios: Sequence[str]) -> None:
        """The history is published (no journey starts from it), then the scenarios start."""
        self._pass()
        with session_scope(self.sessions) as session:
            for key in scenarios:
                set_status(session, key, "active", now=self.clock.now())

    def _pass(self) -> None:
        report = run_pass(self.sessions, self.runtime, clock=self.clock.now, schedule=self.schedule, is_leader=True)
        self.passes += 1
        if report.messages:
            for message in self._new_messages():
                self._react(message)

    # Members: enrolment and purchases.

    def _plan_enrolment(self, person: Person) -> None:
        self._at(person.enrolled_at, lambda: self._enrol(person))

    def _enrol(self, person: Person) -> None:
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            member = enroll_member(session, person.profile, now=now, source="simulation")
            if person.uses_app:
                subscribe_push(session, member.id, {"kind": "device", "token": f"device-{person.number}"}, now=now)
            person.member_id = member.id
        self.by_member[member.id] = person
        if person.interval_days is None:
            return
        if now < self.settings.start:
            self._plan_previous_visit(person)
        elif person.rng.random() < 0.6:  # enrolled at the till, with a purchase
            self._at(now + timedelta(minutes=person.rng.uniform(1, 20)), lambda: self._buy(person))
        else:
            self._plan_next_purchase(person)

    def _plan_previous_visit(self, person: Person) -> None:
        """The member's last purchase before the start (none when it would come before their
        enrolment), then their first one after it."""
        assert person.interval_days is not None
        start = self.settings.start
        last = min(start, person.stops_at or start) - timedelta(days=person.rng.expovariate(1 / person.interval_days))
        if last > self.clock.now():
            at = self._opening_hours(person, last)
            if at < start:
                self._at(at, lambda: self._buy(person, then_plan=False))
        self._plan_next_purchase(person, since=start)

    def _plan_next_purchase(self, person: Person, *, since: datetime | None = None) -> None:
        """The member's next purchase of their own accord, if their habit has one before the end."""
        if person.interval_days is None:
            return
        after = (since or self.clock.now()) + timedelta(days=person.rng.expovariate(1 / person.interval_days))
        if person.stops_at is not None and after > person.stops_at:
            return
        if after < self.settings.end:
            self._at(self._opening_hours(person, after), lambda: self._buy(person))

    def _opening_hours(self, person: Person, around: datetime) -> datetime:
        """An instant between 09:00 and 20:00 on the member's clock, the day of ``around`` or the next."""
        day = around.astimezone(person.zone).date()
        minute = person.rng.randrange(11 * 60)
        at = datetime.combine(day, time(9), tzinfo=person.zone) + timedelta(minutes=minute)
        return at if at > self.clock.now() else at + timedelta(days=1)

    def _buy(self, person: Person, *, then_plan: bool = True) -> None:
        """A purchase through the till's operation; then the next purchase of the member's habit."""
        now = self.clock.now()
        lines = [
            LineInput(
                sku=f"SKU-{person.rng.randrange(1000):03d}",
                quantity=1,
                unit_price=Decimal(f"{max(2.0, person.rng.gauss(person.basket, person.basket / 3)) / 2:.2f}"),
                category=person.rng.choice(CATEGORIES),
            )
            for _ in range(person.rng.choice((1, 2, 2, 3)))
        ]
        with session_scope(self.sessions) as session:
            result = record_purchase(
                session,
                PurchaseInput(
                    store_code=person.rng.choice(STORES),
                    receipt_no=f"SIM-{next(self._receipts):08d}",
                    occurred_at=now,
                    currency="EUR",
                    total=sum((line.unit_price for line in lines), Decimal(0)),
                    channel="store",
                    lines=lines,
                    member_id=person.member_id,
                ),
                now=now,
            )
        if self.settings.returns_and_rewards:
            # Their own stream for what follows the purchase, named by its instant: the story's draws stay as they were.
            after = Random(f"{self.settings.seed}:{person.number}:after:{now}")
            if after.random() < RETURN:
                returned = Decimal(f"{result.receipt.total * Decimal(after.uniform(0.2, 1)):.2f}")
                back_at = now + timedelta(days=after.uniform(1, 14))
                self._at(back_at, lambda: self._bring_back(result.receipt.id, returned))
            if after.random() < REDEEM:
                self._at(now + timedelta(minutes=after.uniform(1, 10)), lambda: self._redeem(person))
        if then_plan:
            self._plan_next_purchase(person)

    def _bring_back(self, purchase_id: int, amount: Decimal) -> None:
        """Part of a purchase returned at the till: its points taken back."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            record_return(session, purchase_id=purchase_id, return_no=f"RET-{purchase_id}", amount=amount, now=now)

    def _redeem(self, person: Person) -> None:
        """The dearest reward of the catalogue the member can afford, if any."""
        now = self.clock.now()
        assert person.member_id is not None
        with session_scope(self.sessions) as session:
            member = session.get(Member, person.member_id)
            assert member is not None
            affordable = [item.reward for item in catalog_for(session, member, now=now) if item.affordable]
            if affordable:
                redeem_reward(session, member_id=member.id, reward_code=affordable[-1].code, now=now)

    # Messages: what members received, and what they do with it.

    def _new_messages(self) -> Iterator[Received]:
        """The envelopes the channels took since the last pass, and the in-app messages delivered by it."""
        for name, channel in self.channels.items():
            fresh = channel.envelopes[self._seen[name] :]
            self._seen[name] = len(channel.envelopes)
            for envelope in fresh:
                found = _LINK.findall(
                    f"{envelope.html or ''} {envelope.text} {envelope.headers.get('List-Unsubscribe', '')}"
                )
                yield Received(
                    envelope.member_id,
                    int(envelope.data["message_id"]),
                    name,
                    envelope.data["template"],
                    _first_of_each(found),
                )
        with self.sessions() as session:
            rows = session.execute(
                select(Message.member_id, Message.id, Message.template_key, Message.body_text)
                .where(
                    Message.channel == "in_app", Message.copy_of_id.is_(None), Message.delivered_at == self.clock.now()
                )
                .order_by(Message.id)
            ).all()
        for member_id, message_id, template, text in rows:
            yield Received(member_id, message_id, "in_app", template, _first_of_each(_LINK.findall(text)))

    def _react(self, message: Received) -> None:
        """Whether the member reads the message, clicks it, unsubscribes, buys, and when: drawn from the
        message's own stream, named by what the member sees (not by row ids, which differ between
        databases), so that a story plays the same on SQLite and PostgreSQL."""
        person = self.by_member[message.member_id]
        rng = Random(f"{self.settings.seed}:{person.number}:{message.template}:{message.channel}:{self.clock.now()}")
        if message.channel == "in_app" and not person.uses_app:
            return
        if rng.random() >= person.attention * READ_BY_CHANNEL[message.channel]:
            return
        read_at = self.clock.now() + timedelta(hours=rng.expovariate(1 / 4))
        clicked = "c" in message.links and rng.random() < person.curiosity
        if clicked:
            self._at(read_at, lambda: self._track(message, "click"))
        elif message.channel != "sms":
            self._at(read_at, lambda: self._track(message, "open"))
        if message.channel == "email" and "u" in message.links and rng.random() < UNSUBSCRIBE:
            self._at(read_at + timedelta(minutes=1), lambda: self._track(message, "unsubscribe"))
        if rng.random() < person.persuadable * (2 if clicked else 1):
            when = read_at + timedelta(days=rng.expovariate(1 / 1.5))
            self._at(self._opening_hours(person, when), lambda: self._buy(person, then_plan=False))

    def _track(self, message: Received, reaction: str) -> None:
        """What the member's mail client, browser or app does: the route's own operation."""
        now = self.clock.now()
        with session_scope(self.sessions) as session:
            if reaction == "click":
                tracking.click_link(session, self.links, message.links["c"], now=now)
            elif reaction == "unsubscribe":
                tracking.unsubscribe(session, self.links, message.links["u"], now=now)
            elif message.channel == "email":
                tracking.open_link(session, self.links, message.links["o"], now=now)
            elif message.channel == "push":
                report_opened(session, message.member_id, message.message_id, now=now)
            else:
                read_inbox_message(session, message.member_id, message.message_id, now=now)

    # The outcome.

    def _report(self) -> SimulationReport:
        start = self.settings.start
        with self.sessions() as session:
            purchases = session.scalar(select(func.count(Purchase.id)).where(Purchase.occurred_at >= start)) or 0
            enrolled = session.scalar(select(func.count(Member.id))) or 0
            statuses: Counter[str] = Counter()
            for status, reason, count in session.execute(
                select(Message.status, Message.reason, func.count())
                .where(Message.created_at >= start, Message.copy_of_id.is_(None))
                .group_by(Message.status, Message.reason)
            ):
                statuses[f"{status}: {reason}" if reason else status] += count
            figures = [kpis.scenario_kpis(session, scenario.key) for scenario in list_scenarios(session)]
            languages = {
                locale: count
                for locale, count in session.execute(
                    select(Message.locale, func.count())
                    .where(Message.created_at >= start, Message.copy_of_id.is_(None), Message.sent_at.is_not(None))
                    .group_by(Message.locale)
                    .order_by(Message.locale)
                )
            }
        return SimulationReport(
            settings=self.settings,
            members_enrolled=enrolled,
            purchases=purchases,
            messages=dict(sorted(statuses.items())),
            scenarios=figures,
            passes=self.passes,
            languages=languages,
        )


def _first_of_each(found: list[tuple[str, str]]) -> dict[str, str]:
    """``{"o": token, "c": token, "u": token}``: the first link of each kind (open, click, unsubscribe)."""
    links: dict[str, str] = {}
    for kind, token in found:
        links.setdefault(kind, token)
    return links


def simulate(
    sessions: sessionmaker[Session], program: dict[str, Any], settings: SimulationSettings, schedule: Schedule
) -> SimulationReport:
    """Play ``settings.members`` members through ``program``'s scenarios for ``settings.days`` days, in
    the empty, migrated database behind ``sessions``."""
    return Simulation(sessions, settings, replace(schedule, maintenance_interval=MAINTENANCE_INTERVAL)).run(program)


def fill_demo_data(
    sessions: sessionmaker[Session],
    settings: SimulationSettings,
    schedule: Schedule,
    *,
    links: Links,
    app_url: str,
    progress: Callable[[datetime], None] | None = None,
) -> SimulationReport | None:
    """Play ``settings.members`` members through the program of the database behind ``sessions`` (loaded,
    migrated) over the period of ``settings``, with ``links`` in the messages; nothing, and None, when the
    database already has members. Messages are kept in memory, never sent; their rows record them as
    delivered, opened and clicked."""
    with sessions() as session:
        if session.scalar(select(Member.id).limit(1)) is not None:
            return None
    simulation = Simulation(
        sessions,
        replace(settings, returns_and_rewards=True),
        replace(schedule, maintenance_interval=MAINTENANCE_INTERVAL),
        links=links,
        app_url=app_url,
        step=DEMO_STEP,
        progress=progress,
    )
    return simulation.run(None)


def example_member(session: Session) -> Member | None:
    """A member worth looking up: the one with the most lifetime points (the first enrolled of equals)."""
    return session.scalar(select(Member).order_by(Member.lifetime_points.desc(), Member.id).limit(1))


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


#: The KPI table: each column's title, width, and figure from one group's KPIs.
COLUMNS: tuple[tuple[str, int, Callable[[dict[str, Any]], str]], ...] = (
    ("entered", 8, lambda f: str(f["entered"])),
    *((channel, 7, lambda f, c=channel: str(f["sent_by_channel"].get(c, 0))) for channel in CHANNELS),
    ("opened", 7, lambda f: str(f["opened"])),
    ("clicked", 8, lambda f: str(f["clicked"])),
    ("converted", 10, lambda f: str(f["converted"])),
    ("revenue", 11, lambda f: f"{f['revenue']:.2f}"),
    ("open", 7, lambda f: _percent(f["open_rate"])),
    ("click", 7, lambda f: _percent(f["click_rate"])),
    ("conv", 7, lambda f: _percent(f["conversion_rate"])),
)


def format_report(report: SimulationReport) -> str:
    """The report as text: the population, the messages, and the KPI table (a line per scenario, then
    one per variant when it has variants)."""
    settings = report.settings
    header = f"{'scenario':<22} {'group':<10}" + "".join(f"{title:>{width}}" for title, width, _ in COLUMNS)
    header += f"{'holdout':>9}{'holdout conv':>14}{'lift':>9}"
    lines = [
        (
            f"simulation: seed {settings.seed}, {settings.days} days from {settings.start:%Y-%m-%d} (UTC), "
            f"{report.members_enrolled} members, {report.purchases} purchases in the period, "
            f"{report.passes} scheduler passes"
        ),
        "messages of the period (in-app copies apart): "
        + (", ".join(f"{name} {count}" for name, count in report.messages.items()) or "none"),
        "messages sent by language: "
        + (", ".join(f"{locale} {count}" for locale, count in report.languages.items()) or "none"),
        "",
        header,
        "-" * len(header),
    ]
    for figures in report.scenarios:
        lines.append(_row(figures["scenario"], "all", figures, figures["holdout_comparison"]))
        if any(variant["variant"] for variant in figures["variants"]):
            lines += [_row("", variant["variant"] or "-", variant, None) for variant in figures["variants"]]
    lines += [
        "",
        "entered: journeys outside the holdout; email..in_app: messages sent (in-app copies apart); open, click:",
        "per message sent; conv: converted / entered; lift: conv minus the holdout's, in percentage points.",
    ]
    return "\n".join(lines)


def _row(name: str, group: str, figures: dict[str, Any], versus: dict[str, Any] | None) -> str:
    row = f"{name:<22} {group:<10}" + "".join(f"{value(figures):>{width}}" for _, width, value in COLUMNS)
    if versus is not None:
        held = versus["holdout"]
        lift = "-" if versus["lift"] is None else f"{versus['lift'] * 100:+.1f}pt"
        row += f"{held['entered']:>9}{_percent(held['conversion_rate']):>14}{lift:>9}"
    return row
