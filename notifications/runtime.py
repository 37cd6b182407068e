"""What the scenario workers need from their process: the channels, the link signer, the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from notifications.channels.base import Channel
from notifications.messages.links import Links
from notifications.webhooks.delivery import WebhookSender, WebhookSettings


@dataclass(frozen=True)
class Runtime:
    """Built once per process (the app, the scheduler, a simulation) from its configuration."""

    channels: Mapping[str, Channel]
    links: Links
    #: Where the app's pages live, for the links of messages (account, newsletter, program).
    app_url: str
    #: How long a worker may hold a message it is sending before another one takes it over.
    lease: timedelta = timedelta(minutes=5)
    #: The first retry's delay; each next one doubles it.
    retry_base: timedelta = timedelta(minutes=1)
    #: Sends the webhooks of the brand's subscriptions (:mod:`notifications.webhooks`).
    webhooks: WebhookSender = field(default_factory=lambda: WebhookSender(WebhookSettings()))
