"""Queueing a message: choose the channels, build one context, render it per channel, store the rows.

The member's preferred channel comes first, then the others in a fixed order; a channel is usable
when the member consented to it (marketing) and can be reached on it (an email address, a phone
number, a push subscription). Whatever the channel, an in-app copy is kept (``held`` until the
original is sent), so the app shows what the member was sent. Send keys are derived from the
journey and the step: running a step twice queues nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from loyalty.program.operations import get_settings
from loyalty.tiers.operations import load_ladder
from notifications.channels.base import CHANNELS
from notifications.messages.models import Message, PushSubscription
from loyalty.i18n import Languages, language
from notifications.rendering import Formats, TemplateParts, render
from notifications.runtime import Runtime
from notifications.scenarios.models import MessageTemplate
from notifications.scenarios.templates import parts_for
from rewards.catalog.models import Reward
from rewards.thresholds.models import PointThreshold


@dataclass(frozen=True)
class Request:
    """One message to queue: which template, for whom, from which journey step."""

    member: Member
    template_key: str
    #: ``"preferred"`` (the first usable channel) or a list (each usable one of them).
    channels: str | list[str]
    is_marketing: bool
    #: Unique prefix of the send keys: ``j<journey>.<step>`` for a journey, the caller's key otherwise.
    key: str
    context: dict[str, Any]
    journey_id: int | None = None
    scenario_key: str | None = None
    step: str | None = None
    variant: str | None = None


def usable_channels(session: Session, member: Member, *, is_marketing: bool) -> list[str]:
    """The channels a member can be reached on now, preferred first, then email, SMS, push, in-app, and
    postal mail (an address, and consent for marketing)."""
    has_push = session.scalar(select(exists().where(PushSubscription.member_id == member.id)))
    reachable = {
        "email": bool(member.email) and (member.consent_email or not is_marketing),
        "sms": bool(member.phone) and (member.consent_sms or not is_marketing),
        "push": bool(has_push) and (member.consent_push or not is_marketing),
        "in_app": True,
        "postal": member.address_line1 is not None and (member.consent_postal or not is_marketing),
    }
    # A letter is sent only when a step names the channel: it is never a member's first choice.
    ordered = [member.preferred_channel, *(c for c in CHANNELS if c != member.preferred_channel), "postal"]
    return [channel for channel in ordered if reachable.get(channel)]


def has_consent(member: Member, channel: str) -> bool:
    return channel == "in_app" or bool(getattr(member, f"consent_{channel}"))


def queue(session: Session, runtime: Runtime, request: Request, *, now: datetime) -> list[Message]:
    """Render and store the request's messages (and their in-app copies); returns the new rows."""
    usable = usable_channels(session, request.member, is_marketing=request.is_marketing)
    if request.channels == "preferred":
        chosen = usable[:1]
    else:
        chosen = [channel for channel in request.channels if channel in usable] or ["in_app"]
    template = session.scalar(select(MessageTemplate).where(MessageTemplate.key == request.template_key))
    if template is None:
        raise LookupError(f"no message template {request.template_key!r}")
    worded = in_members_language(session, template, request.member)
    created = []
    for channel in chosen:
        send_key = f"{request.key}.{channel}"
        if session.scalar(select(Message.id).where(Message.send_key == send_key)) is not None:
            continue
        message = _message(session, runtime, request, worded, channel, send_key, now=now)
        created.append(message)
        if channel != "in_app" and "in_app" not in chosen:
            copy = _message(session, runtime, request, worded, "in_app", f"{send_key}.copy", now=now)
            copy.copy_of_id = message.id
            copy.status = "held"
            copy.due_at = None
    session.flush()
    return created


@dataclass(frozen=True)
class Worded:
    """A template in the member's language, and how figures are written for them."""

    parts: TemplateParts
    locale: str
    formats: Formats
    languages: Languages


def in_members_language(session: Session, template: MessageTemplate, member: Member) -> Worded:
    """The member's locale, else its language, else the program's default, else the original; figures
    in the member's own locale when it speaks the language chosen (``fr-CA`` reading ``fr``)."""
    settings = get_settings(session)
    languages = Languages.of([member.locale], default_locale=settings.default_locale, original=settings.locales[0])
    parts, locale = parts_for(template, languages)
    wording = member.locale if language(member.locale) == language(locale) else locale
    return Worded(
        parts=parts, locale=locale, formats=Formats(locale=wording, timezone=member.timezone), languages=languages
    )


def _message(
    session: Session,
    runtime: Runtime,
    request: Request,
    worded: Worded,
    channel: str,
    send_key: str,
    *,
    now: datetime,
) -> Message:
    member = request.member
    context = message_context(session, runtime, request, worded.languages, channel=channel, send_key=send_key)
    rendered = render(worded.parts, context, worded.formats)
    message = Message(
        member_id=member.id,
        journey_id=request.journey_id,
        scenario_key=request.scenario_key,
        step=request.step,
        variant=request.variant,
        template_key=request.template_key,
        locale=worded.locale,
        channel=channel,
        is_marketing=request.is_marketing,
        send_key=send_key,
        status="queued",
        recipient={"email": member.email, "sms": member.phone or ""}.get(channel, ""),
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html if channel == "email" else None,
        body_short=rendered.short,
        data={"template": request.template_key, "unsubscribe": context["links"]["unsubscribe"]},
        attempts=0,
        due_at=now,
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def threshold_reward(session: Session, points: int) -> dict[str, Any]:
    """The name, description and translations of the reward a point threshold unlocks ({} if none)."""
    found = session.execute(
        select(Reward.name, Reward.description, Reward.translations)
        .join(PointThreshold, PointThreshold.reward_code == Reward.code)
        .where(PointThreshold.points == points)
        .order_by(PointThreshold.is_active.desc())
        .limit(1)
    ).first()
    return {"name": found.name, "description": found.description, "translations": found.translations} if found else {}


def message_context(
    session: Session, runtime: Runtime, request: Request, languages: Languages, *, channel: str, send_key: str
) -> dict[str, Any]:
    """The template variables: the journey's captured figures plus the member's current ones, names
    in the member's language."""
    member = request.member
    captured = request.context
    settings = get_settings(session)
    tier = load_ladder(session, holding=member.tier_code).get(member.tier_code)
    links = runtime.links
    points = {"balance": member.points_balance, **captured.get("points", {})}
    if "threshold" in captured:
        points["threshold"] = captured["threshold"]
        points["missing"] = max(captured["threshold"] - member.points_balance, 0)
        if "reward" not in captured:  # a near-threshold scan captures the threshold; its reward is read now
            captured = {**captured, "reward": threshold_reward(session, captured["threshold"])}
    context: dict[str, Any] = {
        key: languages.localized(value) if isinstance(value, dict) else value
        for key, value in captured.items()
        if key in ("reward", "offer", "bonus", "purchase", "tier", "badge", "selection", "date")
    }
    context.update(
        member={
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "tier": member.tier_code,
            "tier_name": languages.text(tier.name, tier.translations, "name"),
            "card_number": member.card_number,
        },
        points=points,
        brand={"name": settings.name, "currency": settings.currency},
        links={
            "account": links.click(send_key, f"{runtime.app_url}/account"),
            "newsletter": links.click(send_key, f"{runtime.app_url}/newsletter"),
            "program": links.click(send_key, f"{runtime.app_url}/program"),
            "unsubscribe": links.unsubscribe(member.id, channel if channel != "in_app" else "email"),
        },
        open_pixel=links.open_pixel(send_key) if channel == "email" else "",
    )
    return context
