"""Channels against real local servers: SMTP, an HTTP provider, a Web Push service; and the file fallback."""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import ssl
import threading
from pathlib import Path
from typing import Any

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from loyalty.clock import FrozenClock
from notifications.channels.base import Delivery, DeliveryFailed, Envelope, PushTarget
from notifications.channels.email import SmtpChannel
from notifications.channels.files import FileChannel
from notifications.channels.registry import ChannelSettings, build_channels
from notifications.channels.webhook import SmsChannel, WebhookProvider
from notifications.channels.webpush import PushChannel, WebPushSender, application_server_key
from tests.conftest import NOW
from tests.servers import HOST, ProviderServer, SmtpServer, free_port, make_certificate

SENDER = "Maison Lumière <club@maison-lumiere.example>"
UNSUBSCRIBE = "https://club.maison-lumiere.example/u/9f2c"


def email_envelope(send_key: str = "j12.welcome.email", **overrides: Any) -> Envelope:
    fields: dict[str, Any] = {
        "send_key": send_key,
        "channel": "email",
        "member_id": 12,
        "recipient": "camille.durand@example.com",
        "subject": "Welcome to Maison Lumière, Camille",
        "text": f"Hi Camille,\n\nWelcome!\n\nUnsubscribe: {UNSUBSCRIBE}",
        "html": f'<!DOCTYPE html><html><body><p>Hi Camille,</p><a href="{UNSUBSCRIBE}">Unsubscribe</a></body></html>',
        "headers": {"List-Unsubscribe": f"<{UNSUBSCRIBE}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    }
    return Envelope(**{**fields, **overrides})


def sms_envelope(send_key: str = "j12.reminder.sms") -> Envelope:
    return Envelope(
        send_key=send_key,
        channel="sms",
        member_id=12,
        recipient="+33612345678",
        subject="",
        text="Camille, only 40 points to go! Maison Lumière",
    )


def push_envelope(*targets: PushTarget, send_key: str = "j12.badge.push") -> Envelope:
    return Envelope(
        send_key=send_key,
        channel="push",
        member_id=12,
        recipient="",
        subject="New badge for you",
        text="Well done Camille! You earned the Early Bird badge.",
        push_targets=targets,
        data={"message_id": 77, "link": "/badges"},
    )


def smtp_channel(server: SmtpServer, **options: Any) -> SmtpChannel:
    return SmtpChannel(f"smtp://{server.host}:{server.port}", SENDER, clock=FrozenClock(NOW), **options)


# Email


def test_an_email_arrives_with_its_text_its_html_and_its_headers(smtp_server: SmtpServer) -> None:
    channel = smtp_channel(smtp_server)

    delivery = channel.send(email_envelope())

    (mail,) = smtp_server.messages
    message = mail.message
    assert mail.sender == "club@maison-lumiere.example"
    assert mail.recipients == ["camille.durand@example.com"]
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "Welcome to Maison Lumière, Camille"
    assert message["From"] == SENDER
    assert message["To"] == "camille.durand@example.com"
    assert message["Date"] == "Sun, 22 Nov 2026 10:00:00 +0000"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and text.get_content().replace("\r\n", "\n").rstrip() == email_envelope().text
    assert html is not None and f'href="{UNSUBSCRIBE}"' in html.get_content()
    assert message["Message-ID"] == "<j12.welcome.email@maison-lumiere.example>"
    assert delivery == Delivery(provider_ref="<j12.welcome.email@maison-lumiere.example>")


def test_an_email_without_html_is_plain_text(smtp_server: SmtpServer) -> None:
    smtp_channel(smtp_server).send(email_envelope(html=None))

    assert smtp_server.messages[0].message.get_content_type() == "text/plain"


def test_a_retried_email_keeps_its_message_id(smtp_server: SmtpServer) -> None:
    channel = smtp_channel(smtp_server)
    smtp_server.refuse_next(1, "451 4.3.0 Try again later")

    with pytest.raises(DeliveryFailed):
        channel.send(email_envelope())
    retried = channel.send(email_envelope())
    other = channel.send(email_envelope("j13.welcome.email"))

    ids = [mail.message["Message-ID"] for mail in smtp_server.messages]
    assert ids == [retried.provider_ref, other.provider_ref]
    assert retried.provider_ref != other.provider_ref


def test_a_send_key_unfit_for_a_message_id_is_hashed_into_one(smtp_server: SmtpServer) -> None:
    delivery = smtp_channel(smtp_server).send(email_envelope("j12 welcome <email>"))

    assert delivery.provider_ref is not None
    assert " " not in delivery.provider_ref and delivery.provider_ref.count("<") == 1


def test_a_recipient_refused_with_5xx_is_a_permanent_failure(smtp_server: SmtpServer) -> None:
    channel = smtp_channel(smtp_server)
    smtp_server.refuse_next(1, "550 5.1.1 Mailbox unavailable")

    with pytest.raises(DeliveryFailed) as failure:
        channel.send(email_envelope())

    assert failure.value.permanent
    assert "550" in failure.value.reason
    channel.send(email_envelope("j13.welcome.email"))
    assert len(smtp_server.messages) == 1


def test_a_recipient_refused_with_4xx_is_a_temporary_failure(smtp_server: SmtpServer) -> None:
    smtp_server.refuse_next(1, "452 4.2.2 Mailbox full")

    with pytest.raises(DeliveryFailed) as failure:
        smtp_channel(smtp_server).send(email_envelope())

    assert not failure.value.permanent


def test_an_unreachable_smtp_server_is_a_temporary_failure() -> None:
    channel = SmtpChannel(f"smtp://{HOST}:{free_port()}", SENDER, timeout=2)

    with pytest.raises(DeliveryFailed) as failure:
        channel.send(email_envelope())

    assert not failure.value.permanent


def test_emails_share_one_connection_across_threads(smtp_server: SmtpServer) -> None:
    channel = smtp_channel(smtp_server)

    def send_five(thread: int) -> None:
        for index in range(5):
            channel.send(email_envelope(f"j{thread}.{index}.email"))

    threads = [threading.Thread(target=send_five, args=(thread,)) for thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(smtp_server.messages) == 30
    assert len({mail.message["Message-ID"] for mail in smtp_server.messages}) == 30
    assert len({mail.peer for mail in smtp_server.messages}) == 1


def test_the_email_channel_reconnects_when_the_server_dropped_the_connection(smtp_server: SmtpServer) -> None:
    channel = smtp_channel(smtp_server)
    channel.send(email_envelope("j1.email"))

    smtp_server.drop_connections()
    channel.send(email_envelope("j2.email"))

    first, second = smtp_server.messages
    assert first.peer != second.peer


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_an_email_goes_over_tls_with_a_login(tmp_path: Path, tls: str) -> None:
    certificate, key = make_certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(certificate, key)
    context_option = "starttls_context" if tls == "starttls" else "implicit_tls_context"
    server = SmtpServer(credentials=("club", "s3cret/+"), **{context_option: server_context})
    url = (
        f"smtp://club:s3cret%2F%2B@{HOST}:{server.port}?starttls=1"
        if tls == "starttls"
        else f"smtps://club:s3cret%2F%2B@{HOST}:{server.port}"
    )

    with server:
        channel = SmtpChannel(url, SENDER, ssl_context=ssl.create_default_context(cafile=str(certificate)))
        channel.send(email_envelope())
        channel.close()

    assert [mail.login for mail in server.messages] == ["club"]


def test_a_refused_login_is_a_temporary_failure() -> None:
    with SmtpServer(credentials=("club", "right")) as server:
        channel = SmtpChannel(f"smtp://club:wrong@{HOST}:{server.port}", SENDER)

        with pytest.raises(DeliveryFailed) as failure:
            channel.send(email_envelope())

    assert not failure.value.permanent
    assert server.messages == []


# SMS and device push through the webhook provider


def test_an_sms_reaches_the_provider_with_its_token_and_idempotency_key(provider_server: ProviderServer) -> None:
    channel = SmsChannel(WebhookProvider(f"{provider_server.url}/sms", "sms-token"))

    delivery = channel.send(sms_envelope())

    (request,) = provider_server.messages
    assert request.path == "/sms"
    assert request.headers["authorization"] == "Bearer sms-token"
    assert request.headers["idempotency-key"] == "j12.reminder.sms"
    assert request.json() == {
        "to": "+33612345678",
        "text": "Camille, only 40 points to go! Maison Lumière",
        "send_key": "j12.reminder.sms",
    }
    assert delivery.provider_ref == "msg-1"


def test_a_resent_sms_is_one_message_at_the_provider(provider_server: ProviderServer) -> None:
    channel = SmsChannel(WebhookProvider(provider_server.url, "sms-token"))

    first = channel.send(sms_envelope())
    again = channel.send(sms_envelope())

    assert len(provider_server.requests) == 2
    assert len(provider_server.messages) == 1
    assert first.provider_ref == again.provider_ref == "msg-1"


@pytest.mark.parametrize(
    ("status", "is_permanent"),
    [(503, False), (500, False), (429, False), (408, False), (400, True), (401, True), (422, True)],
)
def test_provider_refusals_are_classified(provider_server: ProviderServer, status: int, is_permanent: bool) -> None:
    provider_server.fail_next(1, status)

    with pytest.raises(DeliveryFailed) as failure:
        SmsChannel(WebhookProvider(provider_server.url)).send(sms_envelope())

    assert failure.value.permanent is is_permanent
    assert str(status) in failure.value.reason


def test_an_sms_retried_after_a_provider_outage_goes_through(provider_server: ProviderServer) -> None:
    channel = SmsChannel(WebhookProvider(provider_server.url))
    provider_server.fail_next(2)

    for _ in range(2):
        with pytest.raises(DeliveryFailed):
            channel.send(sms_envelope())
    delivery = channel.send(sms_envelope())

    assert delivery.provider_ref == "msg-1"
    assert [request.headers["idempotency-key"] for request in provider_server.requests] == ["j12.reminder.sms"] * 3


def test_a_provider_slower_than_the_timeout_is_a_temporary_failure(provider_server: ProviderServer) -> None:
    provider_server.slow_down(0.5)

    with pytest.raises(DeliveryFailed) as failure:
        SmsChannel(WebhookProvider(provider_server.url, timeout=0.1)).send(sms_envelope())

    assert not failure.value.permanent


def test_an_unreachable_provider_is_a_temporary_failure() -> None:
    with pytest.raises(DeliveryFailed) as failure:
        SmsChannel(WebhookProvider(f"http://{HOST}:{free_port()}/sms")).send(sms_envelope())

    assert not failure.value.permanent


def device(target_id: int, token: str) -> PushTarget:
    return PushTarget(id=target_id, kind="device", token=token)


def test_a_push_reaches_every_device_in_one_request(provider_server: ProviderServer) -> None:
    channel = PushChannel(devices=WebhookProvider(f"{provider_server.url}/push", "push-token"))

    delivery = channel.send(push_envelope(device(1, "tok-phone"), device(2, "tok-tablet")))

    (request,) = provider_server.messages
    assert request.headers["authorization"] == "Bearer push-token"
    assert request.headers["idempotency-key"] == "j12.badge.push"
    assert request.json() == {
        "tokens": ["tok-phone", "tok-tablet"],
        "title": "New badge for you",
        "text": "Well done Camille! You earned the Early Bird badge.",
        "data": {"message_id": 77, "link": "/badges"},
        "send_key": "j12.badge.push",
    }
    assert delivery == Delivery(provider_ref="msg-1", expired_targets=())


def test_device_tokens_the_provider_reports_expired_come_back(provider_server: ProviderServer) -> None:
    provider_server.expire_tokens("tok-old")
    channel = PushChannel(devices=WebhookProvider(provider_server.url))

    delivery = channel.send(push_envelope(device(1, "tok-phone"), device(2, "tok-old")))

    assert delivery.expired_targets == (2,)


def test_a_device_push_during_an_outage_is_a_temporary_failure(provider_server: ProviderServer) -> None:
    provider_server.fail_next(1)

    with pytest.raises(DeliveryFailed) as failure:
        PushChannel(devices=WebhookProvider(provider_server.url)).send(push_envelope(device(1, "tok-phone")))

    assert not failure.value.permanent


# Web Push


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Browser:
    """A browser's push subscription: its keys decrypt what the push service receives for it."""

    def __init__(self, target_id: int, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.target = PushTarget(
            id=target_id, kind="webpush", endpoint=endpoint, p256dh=b64url(public), auth=b64url(self.auth)
        )

    def read(self, body: bytes) -> dict[str, Any]:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@pytest.fixture
def vapid_key() -> str:
    """A VAPID private key as most tools print it: the raw 32 bytes, base64url."""
    vapid = Vapid02()
    vapid.generate_keys()
    return b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))


def test_a_web_push_is_signed_with_vapid_and_readable_only_by_the_browser(
    provider_server: ProviderServer, vapid_key: str
) -> None:
    browser = Browser(5, f"{provider_server.url}/push/browser-5")
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    delivery = channel.send(push_envelope(browser.target))

    (request,) = provider_server.messages
    authorization = request.headers["authorization"]
    assert authorization.startswith("vapid t=")
    assert Vapid02.verify(authorization)
    assert f"k={application_server_key(vapid_key)}" in authorization
    token = authorization.split("t=", 1)[1].split(",", 1)[0]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == provider_server.url
    assert claims["sub"] == "mailto:club@maison-lumiere.example"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert int(request.headers["ttl"]) > 0
    assert browser.read(request.body) == {
        "title": "New badge for you",
        "body": "Well done Camille! You earned the Early Bird badge.",
        "data": {"message_id": 77, "link": "/badges"},
        "send_key": "j12.badge.push",
    }
    assert delivery == Delivery(provider_ref=f"{provider_server.url}/messages/msg-1")


def test_a_retried_web_push_keeps_its_topic(provider_server: ProviderServer, vapid_key: str) -> None:
    browser = Browser(5, f"{provider_server.url}/push/browser-5")
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    channel.send(push_envelope(browser.target))
    channel.send(push_envelope(browser.target))
    channel.send(push_envelope(browser.target, send_key="j13.badge.push"))

    topics = [request.headers["topic"] for request in provider_server.requests]
    assert topics[0] == topics[1] != topics[2]


def test_a_subscription_the_push_service_says_is_gone_comes_back_expired(
    provider_server: ProviderServer, vapid_key: str
) -> None:
    kept, gone = Browser(5, f"{provider_server.url}/push/kept"), Browser(6, f"{provider_server.url}/push/gone")
    provider_server.answer("/push/gone", 410)
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    delivery = channel.send(push_envelope(kept.target, gone.target))

    assert delivery.expired_targets == (6,)
    assert delivery.provider_ref is not None


def test_a_push_whose_every_subscription_is_gone_fails_for_good_and_names_them(
    provider_server: ProviderServer, vapid_key: str
) -> None:
    provider_server.answer("/push/gone", 404)
    gone = Browser(6, f"{provider_server.url}/push/gone")
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    with pytest.raises(DeliveryFailed) as failure:
        channel.send(push_envelope(gone.target))

    assert failure.value.permanent
    assert failure.value.expired_targets == (6,)


def test_a_push_all_of_whose_subscriptions_fail_for_now_is_a_temporary_failure(
    provider_server: ProviderServer, vapid_key: str
) -> None:
    provider_server.fail_next(1, 503)
    provider_server.fail_next(1, 429)
    browsers = [Browser(5, f"{provider_server.url}/push/a"), Browser(6, f"{provider_server.url}/push/b")]
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    with pytest.raises(DeliveryFailed) as failure:
        channel.send(push_envelope(*(browser.target for browser in browsers)))

    assert not failure.value.permanent
    assert failure.value.expired_targets == ()


def test_one_push_reaches_browsers_and_devices(provider_server: ProviderServer, vapid_key: str) -> None:
    browser = Browser(5, f"{provider_server.url}/push/browser-5")
    channel = PushChannel(
        web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"),
        devices=WebhookProvider(f"{provider_server.url}/devices"),
    )

    channel.send(push_envelope(browser.target, device(7, "tok-phone")))

    assert sorted(request.path for request in provider_server.messages) == ["/devices", "/push/browser-5"]


def test_a_push_with_no_reachable_subscription_fails_for_good(vapid_key: str) -> None:
    channel = PushChannel(web_push=WebPushSender(vapid_key, "mailto:club@maison-lumiere.example"))

    with pytest.raises(DeliveryFailed) as failure:
        channel.send(push_envelope(device(7, "tok-phone")))

    assert failure.value.permanent


def test_a_vapid_key_in_pem_is_the_same_key(vapid_key: str) -> None:
    pem = Vapid02.from_string(vapid_key).private_pem().decode()

    assert application_server_key(pem) == application_server_key(vapid_key)


# The file fallback and the registry


def test_without_providers_every_channel_writes_files(tmp_path: Path) -> None:
    channels = build_channels(ChannelSettings(files_directory=tmp_path), clock=FrozenClock(NOW))

    email_delivery = channels["email"].send(email_envelope())
    channels["sms"].send(sms_envelope())
    channels["push"].send(push_envelope(device(1, "tok-phone")))

    assert {name: type(channel) for name, channel in channels.items()} == dict.fromkeys(channels, FileChannel)
    eml = tmp_path / "email" / "j12.welcome.email.eml"
    assert email_delivery.provider_ref == str(eml)
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] == "<j12.welcome.email@localhost>"
    assert message["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    sms = json.loads((tmp_path / "sms" / "j12.reminder.sms.json").read_text())
    assert (sms["recipient"], sms["text"]) == ("+33612345678", "Camille, only 40 points to go! Maison Lumière")
    push = json.loads((tmp_path / "push" / "j12.badge.push.json").read_text())
    assert push["push_targets"][0]["token"] == "tok-phone"
    assert push["data"] == {"message_id": 77, "link": "/badges"}


def test_a_message_written_again_replaces_its_file(tmp_path: Path) -> None:
    channel = FileChannel("sms", tmp_path)

    channel.send(sms_envelope())
    channel.send(sms_envelope())

    assert [path.name for path in (tmp_path / "sms").iterdir()] == ["j12.reminder.sms.json"]


def test_a_send_key_cannot_write_outside_the_folder(tmp_path: Path) -> None:
    delivery = FileChannel("sms", tmp_path / "messages").send(sms_envelope("../../escape"))

    assert delivery.provider_ref is not None
    assert Path(delivery.provider_ref).parent == tmp_path / "messages" / "sms"


def test_the_registry_sends_through_the_providers_configured(
    tmp_path: Path, smtp_server: SmtpServer, provider_server: ProviderServer, vapid_key: str
) -> None:
    config = {
        "LOYALTY_SMTP_URL": f"smtp://{smtp_server.host}:{smtp_server.port}",
        "LOYALTY_MAIL_FROM": SENDER,
        "LOYALTY_SMS_WEBHOOK_URL": f"{provider_server.url}/sms",
        "LOYALTY_SMS_WEBHOOK_TOKEN": "sms-token",
        "LOYALTY_PUSH_WEBHOOK_URL": f"{provider_server.url}/devices",
        "LOYALTY_PUSH_WEBHOOK_TOKEN": "push-token",
        "LOYALTY_VAPID_PRIVATE_KEY": vapid_key,
        "LOYALTY_VAPID_SUBJECT": "mailto:club@maison-lumiere.example",
    }
    channels = build_channels(ChannelSettings.from_config(config, tmp_path))

    channels["email"].send(email_envelope())
    channels["sms"].send(sms_envelope())
    channels["push"].send(push_envelope(device(1, "tok-phone")))

    push = channels["push"]
    assert isinstance(channels["email"], SmtpChannel)
    assert isinstance(channels["sms"], SmsChannel)
    assert isinstance(push, PushChannel) and push.web_push is not None and push.devices is not None
    assert len(smtp_server.messages) == 1
    assert [(request.path, request.headers["authorization"]) for request in provider_server.messages] == [
        ("/sms", "Bearer sms-token"),
        ("/devices", "Bearer push-token"),
    ]
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"LOYALTY_SMTP_URL": "smtp://localhost:25"}, "LOYALTY_MAIL_FROM"),
        ({"LOYALTY_SMTP_URL": "smtp://localhost:25", "LOYALTY_MAIL_FROM": "Club"}, "LOYALTY_MAIL_FROM"),
        ({"LOYALTY_SMTP_URL": "http://localhost", "LOYALTY_MAIL_FROM": SENDER}, "LOYALTY_SMTP_URL"),
        ({"LOYALTY_VAPID_PRIVATE_KEY": "not-a-key", "LOYALTY_VAPID_SUBJECT": "mailto:a@b.example"}, "VAPID"),
        ({"LOYALTY_VAPID_SUBJECT": "mailto:a@b.example"}, "VAPID"),
    ],
)
def test_incomplete_provider_settings_are_refused_at_start(
    tmp_path: Path, config: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        build_channels(ChannelSettings.from_config(config, tmp_path))
