"""Running journeys: each due journey runs its steps until one makes it wait, or it ends.

A step runs inside the transaction that claimed the journey, so a crash loses nothing: the journey
is still due and its step runs again; what the step wrote (messages, vouchers) rolled back with it,
and message send keys make a replayed send step harmless anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from notifications.journeys.models import Journey, PurchaseBonus
from notifications.messages import compose
from notifications.messages.models import Message
from notifications.pressure.rules import next_local_time
from notifications.runtime import Runtime
from notifications.scenarios.definition import (
    Definition,
    Step,
    parse_duration,
    parse_time_of_day,
    resolve,
)
from notifications.scenarios.models import Scenario
from notifications.scenarios.operations import definition_of
from rewards.catalog.operations import grant_offer

logger = logging.getLogger(__name__)

#: How often a branch looks again at a message that is not sent yet (deferred by quiet hours...).
RECHECK = timedelta(minutes=15)
#: Steps one journey may run in one pass: a definition looping without waits stops here.
MAX_STEPS_PER_PASS = 20


def run_journey(
    session: Session, runtime: Runtime, journey: Journey, *, now: datetime, blackout_until: datetime | None
) -> None:
    """Run ``journey``'s steps from the current one until it waits or ends."""
    scenario = session.get_one(Scenario, journey.scenario_id)
    if journey.is_holdout:
        end_journey(journey, "holdout", now)
        return
    if scenario.is_marketing and blackout_until is not None:
        journey.due_at = blackout_until  # the scenario pauses; nothing is lost
        return
    definition = definition_of(session, journey.scenario_id, journey.scenario_version)
    params = definition.params_for(journey.variant)
    for _ in range(MAX_STEPS_PER_PASS):
        if journey.step is None:
            end_journey(journey, "completed", now)
            return
        step = definition.steps[journey.step]
        options = resolve(step.options, params)
        outcome = _run_step(session, runtime, journey, scenario, definition, step, options, now)
        if outcome.wait_until is not None:
            journey.due_at = outcome.wait_until
            journey.waiting_for = outcome.waiting_for
            return
        if outcome.end is not None:
            end_journey(journey, outcome.end, now)
            return
        _move(journey, outcome.next_step, now)
    logger.warning("journey %s ran %s steps in one pass; continuing later", journey.id, MAX_STEPS_PER_PASS)
    journey.due_at = now + RECHECK


@dataclass(frozen=True)
class _Outcome:
    """What a step decided: go on to ``next_step``, wait (until, for a reaction), or end."""

    next_step: str | None = None
    wait_until: datetime | None = None
    waiting_for: str | None = None
    end: str | None = None


def _run_step(
    session: Session,
    runtime: Runtime,
    journey: Journey,
    scenario: Scenario,
    definition: Definition,
    step: Step,
    options: dict[str, Any],
    now: datetime,
) -> _Outcome:
    if step.kind == "send":
        _send(session, runtime, journey, scenario, step, options, now)
        return _Outcome(next_step=step.next)
    if step.kind == "wait":
        until = journey.step_started_at + parse_duration(options["wait"], "wait")
        return _Outcome(wait_until=until) if until > now else _Outcome(next_step=step.next)
    if step.kind == "wait_until":
        member = session.get_one(Member, journey.member_id)
        at = parse_time_of_day(options["wait_until"], "wait_until")
        until = next_local_time(journey.step_started_at, member.timezone, at)
        return _Outcome(wait_until=until) if until > now else _Outcome(next_step=step.next)
    if step.kind == "branch":
        return _branch(session, journey, step, options, now)
    if step.kind == "grant":
        _grant(session, journey, options, now)
        return _Outcome(next_step=step.next)
    return _Outcome(end="exit")


def _send(
    session: Session,
    runtime: Runtime,
    journey: Journey,
    scenario: Scenario,
    step: Step,
    options: dict[str, Any],
    now: datetime,
) -> None:
    context = dict(journey.context)
    if "selection" in options:
        context["selection"] = options["selection"]
    compose.queue(
        session,
        runtime,
        compose.Request(
            member=session.get_one(Member, journey.member_id),
            template_key=options["send"],
            channels=options.get("channels", "preferred"),
            is_marketing=scenario.is_marketing,
            key=f"j{journey.id}.{step.id}",
            context=context,
            journey_id=journey.id,
            scenario_key=scenario.key,
            step=step.id,
            variant=journey.variant,
        ),
        now=now,
    )


def _branch(session: Session, journey: Journey, step: Step, options: dict[str, Any], now: datetime) -> _Outcome:
    """Did the member react within the time given? ``then`` if so, ``else`` when the time is up."""
    within = parse_duration(options["within"], "within")
    reaction = options["branch"]
    yes, no = options.get("then"), options.get("else")
    if reaction == "purchased":
        member = session.get_one(Member, journey.member_id)
        deadline = journey.step_started_at + within
        bought = member.last_purchase_at is not None and journey.step_started_at <= member.last_purchase_at <= deadline
        if bought:
            return _go(yes)
        return _go(no) if now >= deadline else _Outcome(wait_until=deadline, waiting_for="purchased")
    messages = list(
        session.scalars(select(Message).where(Message.journey_id == journey.id, Message.step == options["of"]))
    )
    sent = [m.sent_at for m in messages if m.sent_at is not None and m.copy_of_id is None]
    moment = "opened_at" if reaction == "opened" else "clicked_at"
    reacted_at = [getattr(m, moment) for m in messages if getattr(m, moment) is not None]
    if not sent:
        pending = any(m.status in ("queued", "sending") for m in messages)
        return _Outcome(wait_until=now + RECHECK, waiting_for=reaction) if pending else _go(no)
    deadline = min(sent) + within
    if any(at <= deadline for at in reacted_at):
        return _go(yes)
    return _go(no) if now >= deadline else _Outcome(wait_until=deadline, waiting_for=reaction)


def _go(step_id: str | None) -> _Outcome:
    return _Outcome(next_step=step_id) if step_id is not None else _Outcome(end="completed")


def _grant(session: Session, journey: Journey, options: dict[str, Any], now: datetime) -> None:
    """Give the offer (a voucher) or promise bonus points on the next purchase; the journey keeps what
    was given, so the next messages show the same code and figures on every channel."""
    grant = options["grant"]
    context = dict(journey.context)
    if "offer" in grant:
        voucher = grant_offer(
            session,
            member_id=journey.member_id,
            reward_code=grant["offer"],
            now=now,
            validity_days=grant.get("valid_days"),
        )
        context["offer"] = {
            "code": voucher.code,
            "amount": str(voucher.amount) if voucher.amount is not None else None,
            "percent": voucher.percent,
            "currency": get_settings(session).currency,
            "description": voucher.reward.description,
            "translations": {
                locale: {"description": texts["description"]}
                for locale, texts in voucher.reward.translations.items()
                if texts.get("description")
            },
            # Instants: a message writes them as days of the member's own calendar.
            "valid_from": now.isoformat(),
            "valid_until": voucher.expires_at.isoformat(),
        }
    else:
        until = now + timedelta(days=int(grant["within_days"]))
        session.add(
            PurchaseBonus(member_id=journey.member_id, journey_id=journey.id, points=int(grant["bonus_points"]), expires_at=until)
        )
        context["bonus"] = {"points": int(grant["bonus_points"]), "valid_until": until.isoformat()}
    journey.context = context
    session.flush()


def _move(journey: Journey, step_id: str | None, now: datetime) -> None:
    journey.step = step_id
    journey.step_started_at = now
    journey.waiting_for = None


def end_journey(journey: Journey, reason: str, now: datetime) -> None:
    journey.status = "ended"
    journey.end_reason = reason
    journey.ended_at = now
    journey.due_at = None
    journey.waiting_for = None
