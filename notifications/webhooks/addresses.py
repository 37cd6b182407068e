"""Where a webhook may go: an ``https`` URL whose host resolves only to public addresses, unless the
setting ``LOYALTY_WEBHOOK_ALLOW_PRIVATE`` allows plain ``http`` and private, loopback and link-local
addresses (development, tests).

The check runs when a subscription is saved (a clear 422) and again at every connection: the
delivery's HTTP connections (:class:`GuardedAdapter`) resolve the name, refuse it if any address is
not allowed, and connect to the address they checked, so a name re-pointed inside the network after
the subscription was saved reaches nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection

from loyalty.errors import InvalidOperation


class AddressRefused(NewConnectionError):
    """The receiver's name resolves to an address webhooks may not reach; ``detail`` says which."""

    def __init__(self, conn: HTTPConnection, detail: str) -> None:
        super().__init__(conn, detail)
        self.detail = detail


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse (``InvalidOperation`` on ``url``) a URL a webhook may not be sent to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise InvalidOperation(f"not a valid URL: {error}", field="url") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise InvalidOperation(
            "must be an https URL" + ("" if allow_private else " (http needs LOYALTY_WEBHOOK_ALLOW_PRIVATE=1)"),
            field="url",
        )
    if not parts.hostname:
        raise InvalidOperation("must name a host", field="url")
    if parts.username is not None or parts.password is not None:
        raise InvalidOperation("must not carry credentials: the signature authenticates the sender", field="url")
    if parts.fragment:
        raise InvalidOperation("must not have a fragment", field="url")
    try:
        resolve(parts.hostname, port or 443, allow_private=allow_private)
    except AddressRefusedError as error:
        raise InvalidOperation(str(error), field="url") from None


class AddressRefusedError(ValueError):
    """A host that does not resolve, or resolves to an address webhooks may not reach."""


def resolve(host: str, port: int, *, allow_private: bool) -> list[str]:
    """The addresses of ``host``, every one of them allowed; raises :class:`AddressRefusedError`."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as error:  # gaierror, an IDNA label too long…
        raise AddressRefusedError(f"{host} does not resolve ({error})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private:
        refused = [address for address in addresses if not is_public(address)]
        if refused:
            raise AddressRefusedError(
                f"{host} resolves to a private, loopback or reserved address ({refused[0]}); "
                "allowed only with LOYALTY_WEBHOOK_ALLOW_PRIVATE=1"
            )
    return addresses


def is_public(address: str) -> bool:
    """Whether an address is on the public internet (not private, loopback, link-local, reserved…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _guarded(base: type[HTTPConnection], allow_private: bool) -> type[HTTPConnection]:
    class Guarded(base):  # type: ignore[valid-type, misc]
        """Connects only to an allowed address of its host, the one it checked."""

        def _new_conn(self) -> socket.socket:
            try:
                addresses = resolve(self._dns_host, self.port, allow_private=allow_private)
            except AddressRefusedError as error:
                raise AddressRefused(self, str(error)) from None
            failure: OSError | None = None
            for address in addresses:
                try:
                    return connection.create_connection(
                        (address, self.port),
                        self.timeout,
                        source_address=self.source_address,
                        socket_options=self.socket_options,
                    )
                except OSError as error:
                    failure = error
            raise NewConnectionError(self, f"Failed to establish a new connection: {failure}")

    return Guarded


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections check the address they connect to (:func:`resolve`)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        http_connection = _guarded(HTTPConnection, self.allow_private)
        https_connection = _guarded(HTTPSConnection, self.allow_private)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}),
        }
