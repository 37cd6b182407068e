"""Signed links in messages: the open pixel, click redirects and the unsubscribe link.

Tokens are signed with the application's secret (itsdangerous), so a link cannot be forged to mark
another message opened, to unsubscribe someone else, or to redirect anywhere (a click token carries
its target URL inside the signature: no open redirect).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from loyalty.errors import NotFound


@dataclass(frozen=True)
class Links:
    """Builds and reads the tracking URLs under ``base_url`` (the API's public address)."""

    base_url: str
    secret: str

    def _serializer(self, purpose: str) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=f"loyalty.{purpose}")

    def open_pixel(self, send_key: str) -> str:
        return f"{self.base_url}/t/o/{self._serializer('open').dumps(send_key)}"

    def click(self, send_key: str, url: str) -> str:
        return f"{self.base_url}/t/c/{self._serializer('click').dumps([send_key, url])}"

    def unsubscribe(self, member_id: int, channel: str) -> str:
        return f"{self.base_url}/t/u/{self._serializer('unsubscribe').dumps([member_id, channel])}"

    def read(self, purpose: str, token: str) -> Any:
        """The value signed in ``token`` for ``purpose``; a forged or altered token is a NotFound."""
        try:
            return self._serializer(purpose).loads(token)
        except BadSignature:
            raise NotFound("this link is not valid", field="token") from None
