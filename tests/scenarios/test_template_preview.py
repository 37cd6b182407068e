"""A template previewed for a member on every channel, with the figures their journey captured."""

from __future__ import annotations

from sqlalchemy import func, select

from loyalty.members.models import Member
from notifications.messages.models import Message
from notifications.scenarios.operations import get_scenario
from notifications.scenarios.preview import journey_context, preview_template

NEAR_THRESHOLD = {"threshold": 100, "reward": {"name": "10 € voucher", "description": ""}, "points": {"at_entry": 92}}


def test_each_channel_shows_the_template_rendered_for_the_member(make_member, runtime, sessions) -> None:
    member_id = make_member(first_name="Aline")["id"]

    with sessions() as session:
        member = session.get(Member, member_id)
        previews = preview_template(
            session, runtime, "near_threshold_reminder", member, context=NEAR_THRESHOLD, is_marketing=True
        )
        queued = session.scalar(select(func.count()).select_from(Message))

    assert [preview.channel for preview in previews] == ["email", "sms", "push", "in_app"]
    assert all(preview.error is None and preview.rendered is not None for preview in previews)
    email = previews[0].rendered
    assert email is not None and email.html is not None
    assert "Aline" in email.subject and "10 € voucher" in email.html
    assert "Aline" in previews[1].rendered.short  # type: ignore[union-attr]
    assert queued == 0


def test_a_figure_the_journey_did_not_capture_is_named_instead_of_rendered(make_member, runtime, sessions) -> None:
    member_id = make_member()["id"]

    with sessions() as session:
        member = session.get(Member, member_id)
        context = journey_context(session, get_scenario(session, "near_threshold"), member_id)
        previews = preview_template(session, runtime, "near_threshold_reminder", member, context=context, is_marketing=True)

    assert context == {}
    assert all(preview.rendered is None for preview in previews)
    assert all((preview.error or "").startswith("subject: ") and "missing" in (preview.error or "") for preview in previews)
