"""Email over SMTP: one MIME message per envelope, through one reused connection.

``LOYALTY_SMTP_URL`` names the server: ``smtp://user:password@host:587?starttls=1`` (STARTTLS),
``smtps://user:password@host:465`` (implicit TLS) or ``smtp://host:25`` (plain, a local relay).
The Message-ID is made from the send key, so a retried message carries the same id.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

from loyalty.clock import Clock, SystemClock
from notifications.channels.base import Delivery, DeliveryFailed, Envelope

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
_TRUE = ("1", "true", "yes", "on")


def stable_token(send_key: str) -> str:
    """The send key where it is safe as a Message-ID's left part and as a file name, else its SHA-256."""
    if len(send_key) <= 128 and _TOKEN.fullmatch(send_key):
        return send_key
    return hashlib.sha256(send_key.encode()).hexdigest()


def message_id(send_key: str, sender: str) -> str:
    """``<send_key@sender's domain>``: the same for every attempt at one message."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    return f"<{stable_token(send_key)}@{domain}>"


def build_message(envelope: Envelope, sender: str, clock: Clock) -> EmailMessage:
    """The MIME message of ``envelope``: text, and HTML as its alternative when there is one."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = envelope.recipient
    message["Subject"] = envelope.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = message_id(envelope.send_key, sender)
    for name, value in envelope.headers.items():
        message[name] = value
    message.set_content(envelope.text)
    if envelope.html:
        message.add_alternative(envelope.html, subtype="html")
    return message


@dataclass(frozen=True)
class SmtpEndpoint:
    """Where and how to connect, read from ``LOYALTY_SMTP_URL``."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None

    @classmethod
    def from_url(cls, url: str) -> SmtpEndpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"LOYALTY_SMTP_URL must be smtp://… or smtps://…, not {url!r}")
        starttls = parse_qs(parts.query).get("starttls", [""])[0].lower() in _TRUE
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if parts.scheme == "smtps" else 25),
            implicit_tls=parts.scheme == "smtps",
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


class SmtpChannel:
    """The email channel: one SMTP connection per instance, shared by the threads that send."""

    name = "email"

    def __init__(
        self,
        url: str,
        sender: str,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.endpoint = SmtpEndpoint.from_url(url)
        self.sender = sender
        self.sender_address = parseaddr(sender)[1]
        if "@" not in self.sender_address:
            raise ValueError(f"LOYALTY_MAIL_FROM must hold an email address, not {sender!r}")
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()
        self.clock = clock or SystemClock()
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def send(self, envelope: Envelope) -> Delivery:
        """Hand the message to the SMTP server; its Message-ID is the provider reference."""
        message = build_message(envelope, self.sender, self.clock)
        with self._lock:
            self._transmit(message, envelope.recipient)
        return Delivery(provider_ref=message["Message-ID"])

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        with self._lock:
            self._drop(polite=True)

    def _transmit(self, message: EmailMessage, recipient: str) -> None:
        reused = self._connection is not None
        try:
            connection = self._connected()
        except OSError as error:  # smtplib's errors are OSErrors too: a refused login is configuration
            raise DeliveryFailed(f"cannot open an SMTP session: {error}") from error
        try:
            connection.send_message(message, from_addr=self.sender_address, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as error:
            code, reply = error.recipients[recipient]
            raise _refused(code, reply, permanent_if_5xx=True) from error
        except smtplib.SMTPSenderRefused as error:
            # The sender is our configuration, not this message: retrying after a fix can succeed.
            raise _refused(error.smtp_code, error.smtp_error, permanent_if_5xx=False) from error
        except smtplib.SMTPResponseException as error:
            raise _refused(error.smtp_code, error.smtp_error, permanent_if_5xx=True) from error
        except OSError as error:
            self._drop(polite=False)
            if not reused:
                raise DeliveryFailed(f"SMTP session failed: {error}") from error
            # A kept connection the server closed while idle: try once more on a new one.
            logger.info("SMTP connection lost (%s); reconnecting", error)
            self._transmit(message, recipient)

    def _connected(self) -> smtplib.SMTP:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _connect(self) -> smtplib.SMTP:
        endpoint = self.endpoint
        connection: smtplib.SMTP
        if endpoint.implicit_tls:
            connection = smtplib.SMTP_SSL(endpoint.host, endpoint.port, timeout=self.timeout, context=self.ssl_context)
        else:
            connection = smtplib.SMTP(endpoint.host, endpoint.port, timeout=self.timeout)
        try:
            if endpoint.starttls:
                connection.starttls(context=self.ssl_context)
            if endpoint.username:
                connection.login(endpoint.username, endpoint.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    def _drop(self, *, polite: bool) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if polite:
                connection.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            connection.close()


def _refused(code: int, reply: bytes | str, *, permanent_if_5xx: bool) -> DeliveryFailed:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return DeliveryFailed(f"SMTP {code} {text}", permanent=permanent_if_5xx and code >= 500)
