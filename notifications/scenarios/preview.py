"""A message template rendered for one member on each channel, as a scenario would send it, without
queueing anything: what the marketer checks before activating a scenario."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from notifications.channels.base import CHANNELS
from notifications.journeys.models import Journey
from notifications.messages.compose import Request, in_members_language, message_context
from notifications.rendering import Rendered, RenderFailed, render
from notifications.runtime import Runtime
from notifications.scenarios.models import Scenario
from notifications.scenarios.templates import get_template


@dataclass(frozen=True)
class ChannelPreview:
    """What one channel shows (email: subject, text and the HTML document; SMS: the short text; push:
    the subject as title and the short text; in-app: subject and text), or why it cannot render."""

    channel: str
    rendered: Rendered | None
    error: str | None = None


def journey_context(session: Session, scenario: Scenario, member_id: int) -> dict[str, Any]:
    """The figures the member's latest journey in the scenario captured; none if they never entered."""
    context = session.scalar(
        select(Journey.context)
        .where(Journey.scenario_id == scenario.id, Journey.member_id == member_id)
        .order_by(Journey.entered_at.desc(), Journey.id.desc())
        .limit(1)
    )
    return dict(context or {})


def preview_template(
    session: Session, runtime: Runtime, template_key: str, member: Member, *, context: dict[str, Any], is_marketing: bool
) -> list[ChannelPreview]:
    """The template rendered for ``member`` with a journey's captured ``context``, on every channel, in
    the member's language."""
    worded = in_members_language(session, get_template(session, template_key), member)
    request = Request(
        member=member, template_key=template_key, channels="preferred", is_marketing=is_marketing, key="preview",
        context=context,
    )  # fmt: skip
    previews = []
    for channel in CHANNELS:
        variables = message_context(session, runtime, request, worded.languages, channel=channel, send_key=f"preview.{channel}")
        try:
            previews.append(ChannelPreview(channel, render(worded.parts, variables, worded.formats)))
        except RenderFailed as failed:
            previews.append(ChannelPreview(channel, None, f"{failed.part}: {failed.reason}"))
    return previews
