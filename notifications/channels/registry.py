"""Which provider carries each channel, from configuration; files when none is configured.

In-app messages are rows the apps read, not a channel: the engine stores them itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loyalty.clock import Clock
from notifications.channels.base import Channel
from notifications.channels.email import SmtpChannel
from notifications.channels.files import DEVELOPMENT_SENDER, FileChannel
from notifications.channels.webhook import SmsChannel, WebhookProvider
from notifications.channels.webpush import PushChannel, WebPushSender


@dataclass(frozen=True, kw_only=True)
class ChannelSettings:
    """The providers' settings (``LOYALTY_*`` keys) and the folder of the development files."""

    files_directory: Path
    smtp_url: str | None = None
    mail_from: str | None = None
    sms_webhook_url: str | None = None
    sms_webhook_token: str | None = None
    push_webhook_url: str | None = None
    push_webhook_token: str | None = None
    vapid_private_key: str | None = None
    vapid_subject: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], files_directory: Path) -> ChannelSettings:
        """Read the ``LOYALTY_*`` keys of ``config`` (the application's configuration)."""
        return cls(
            files_directory=files_directory,
            smtp_url=config.get("LOYALTY_SMTP_URL"),
            mail_from=config.get("LOYALTY_MAIL_FROM"),
            sms_webhook_url=config.get("LOYALTY_SMS_WEBHOOK_URL"),
            sms_webhook_token=config.get("LOYALTY_SMS_WEBHOOK_TOKEN"),
            push_webhook_url=config.get("LOYALTY_PUSH_WEBHOOK_URL"),
            push_webhook_token=config.get("LOYALTY_PUSH_WEBHOOK_TOKEN"),
            vapid_private_key=config.get("LOYALTY_VAPID_PRIVATE_KEY"),
            vapid_subject=config.get("LOYALTY_VAPID_SUBJECT"),
        )


def build_channels(settings: ChannelSettings, *, clock: Clock | None = None) -> dict[str, Channel]:
    """``{"email": …, "sms": …, "push": …}``; raises ValueError on incomplete provider settings."""
    return {
        "email": _email(settings, clock),
        "sms": _sms(settings, clock),
        "push": _push(settings, clock),
    }


def _email(settings: ChannelSettings, clock: Clock | None) -> Channel:
    if not settings.smtp_url:
        return FileChannel(
            "email", settings.files_directory, sender=settings.mail_from or DEVELOPMENT_SENDER, clock=clock
        )
    if not settings.mail_from:
        raise ValueError("LOYALTY_SMTP_URL is set: LOYALTY_MAIL_FROM must name the sender")
    return SmtpChannel(settings.smtp_url, settings.mail_from, clock=clock)


def _sms(settings: ChannelSettings, clock: Clock | None) -> Channel:
    if not settings.sms_webhook_url:
        return FileChannel("sms", settings.files_directory, clock=clock)
    return SmsChannel(WebhookProvider(settings.sms_webhook_url, settings.sms_webhook_token))


def _push(settings: ChannelSettings, clock: Clock | None) -> Channel:
    if bool(settings.vapid_private_key) != bool(settings.vapid_subject):
        raise ValueError("Web Push needs both LOYALTY_VAPID_PRIVATE_KEY and LOYALTY_VAPID_SUBJECT")
    web_push = (
        WebPushSender(settings.vapid_private_key, settings.vapid_subject)
        if settings.vapid_private_key and settings.vapid_subject
        else None
    )
    devices = (
        WebhookProvider(settings.push_webhook_url, settings.push_webhook_token) if settings.push_webhook_url else None
    )
    if web_push is None and devices is None:
        return FileChannel("push", settings.files_directory, clock=clock)
    return PushChannel(web_push=web_push, devices=devices)
