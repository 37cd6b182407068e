"""Real local servers the channels talk to in tests: SMTP (aiosmtpd) and an HTTP provider.

:class:`SmtpServer` keeps every message it accepted, parsed, and can refuse the next ones.
:class:`ProviderServer` plays an SMS/push gateway or a Web Push service: it records every request,
can fail or slow down on demand, and honours ``Idempotency-Key`` as real providers do (the same key
answers the same id and is not a new message).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: ``(certificate file, key file)``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = directory / "server.crt", directory / "server.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate_file, key_file


@dataclass(frozen=True)
class ReceivedMail:
    """A message the SMTP server accepted."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    #: The user the client logged in as, if it did.
    login: str | None
    #: The client's (address, port): one connection, one peer.
    peer: tuple[str, int]


class _MailHandler:
    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        refusal = self.owner._take_refusal()
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        login = session.auth_data if session.authenticated else None
        self.owner._receive(
            ReceivedMail(
                envelope.mail_from, list(envelope.rcpt_tos), cast(EmailMessage, message), login, tuple(session.peer)
            ),
            server.transport,
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """An SMTP server on a free local port; ``with SmtpServer() as server:`` starts and stops it.

    ``starttls_context`` offers STARTTLS (and requires it), ``implicit_tls_context`` makes it an SMTPS
    server; ``credentials`` requires that login.
    """

    def __init__(
        self,
        *,
        starttls_context: ssl.SSLContext | None = None,
        implicit_tls_context: ssl.SSLContext | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = HOST
        self.port = free_port()
        self.messages: list[ReceivedMail] = []
        self._credentials = credentials
        self._refusals: list[str] = []
        self._transports: set[asyncio.BaseTransport] = set()
        self._lock = threading.Lock()
        options: dict[str, Any] = {}
        if starttls_context is not None:
            options.update(tls_context=starttls_context, require_starttls=True)
        if implicit_tls_context is not None:
            options.update(ssl_context=implicit_tls_context)
        if credentials is not None:
            options.update(authenticator=self._authenticate, auth_require_tls=False)
        self._controller = Controller(_MailHandler(self), hostname=self.host, port=self.port, **options)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._controller.stop()

    def refuse_next(self, count: int, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        """Answer ``reply`` to the recipient of the next ``count`` messages (a 4xx or a 5xx)."""
        with self._lock:
            self._refusals.extend([reply] * count)

    def drop_connections(self) -> None:
        """Close every client connection, as a server does with idle ones."""
        with self._lock:
            transports, self._transports = list(self._transports), set()

        async def close() -> None:
            for transport in transports:
                transport.close()

        asyncio.run_coroutine_threadsafe(close(), self._controller.loop).result(timeout=5)

    def _take_refusal(self) -> str | None:
        with self._lock:
            return self._refusals.pop(0) if self._refusals else None

    def _receive(self, mail: ReceivedMail, transport: asyncio.BaseTransport) -> None:
        with self._lock:
            self.messages.append(mail)
            self._transports.add(transport)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        valid = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self._credentials
        return AuthResult(success=valid, handled=False, auth_data=data.login.decode() if valid else None)


@dataclass(frozen=True)
class ProviderRequest:
    """One request the provider received."""

    path: str
    #: Header names in lower case.
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Behaviour:
    failures: list[int] = field(default_factory=list)
    delay: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    expired_tokens: set[str] = field(default_factory=set)
    ids: dict[str, str] = field(default_factory=dict)


class ThreadedHttpServer:
    """An HTTP server on a free local port, serving in a thread between ``with`` and its end."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self._http = ThreadingHTTPServer((HOST, 0), handler)
        self._http.daemon_threads = True
        self.port = int(self._http.server_address[1])
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.shutdown()
        self._http.server_close()


class ProviderServer(ThreadedHttpServer):
    """An HTTP provider on a free local port, in a thread; ``with ProviderServer() as server:``."""

    def __init__(self) -> None:
        self.requests: list[ProviderRequest] = []
        #: The requests taken as new messages (a replayed Idempotency-Key is not one).
        self.messages: list[ProviderRequest] = []
        self._behaviour = _Behaviour()
        self._lock = threading.Lock()
        super().__init__(_provider_handler(self))
        self.url = f"http://{HOST}:{self.port}"

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer ``status`` to the next ``count`` requests."""
        with self._lock:
            self._behaviour.failures.extend([status] * count)

    def slow_down(self, seconds: float) -> None:
        """Wait ``seconds`` before answering each request."""
        self._behaviour.delay = seconds

    def answer(self, path: str, status: int) -> None:
        """Always answer ``status`` on ``path`` (a push subscription that is gone: 410)."""
        with self._lock:
            self._behaviour.statuses[path] = status

    def expire_tokens(self, *tokens: str) -> None:
        """Report these device tokens as expired in the answers that name them."""
        with self._lock:
            self._behaviour.expired_tokens.update(tokens)

    def _respond(self, request: ProviderRequest) -> tuple[int, dict[str, Any] | None]:
        with self._lock:
            self.requests.append(request)
            behaviour = self._behaviour
            if behaviour.failures:
                return behaviour.failures.pop(0), None
            if request.path in behaviour.statuses:
                return behaviour.statuses[request.path], None
            key = request.headers.get("idempotency-key")
            if key is not None and key in behaviour.ids:
                return 200, {"id": behaviour.ids[key]}
            message_id = f"msg-{len(self.messages) + 1}"
            self.messages.append(request)
            if key is not None:
                behaviour.ids[key] = message_id
            answer: dict[str, Any] = {"id": message_id}
            tokens = _tokens(request)
            if tokens & behaviour.expired_tokens:
                answer["expired_tokens"] = sorted(tokens & behaviour.expired_tokens)
            return 201, answer


def _tokens(request: ProviderRequest) -> set[str]:
    if request.headers.get("content-type") != "application/json":
        return set()
    return set(request.json().get("tokens", []))


def _provider_handler(provider: ProviderServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            request = ProviderRequest(self.path, {name.lower(): value for name, value in self.headers.items()}, body)
            time.sleep(provider._behaviour.delay)
            status, answer = provider._respond(request)
            content = json.dumps(answer).encode() if answer is not None else b'{"error": "refused"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            if answer is not None:
                self.send_header("Location", f"{provider.url}/messages/{answer['id']}")
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests read the recorded requests instead."""

    return Handler
