"""Development delivery: each message becomes a file, so nothing leaves the machine.

``<directory>/<channel>/<send key>.eml`` holds an email as the full MIME message (any mail client
opens it); SMS and push become ``.json`` files. A retried message overwrites its own file.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

from loyalty.clock import Clock, SystemClock
from notifications.channels.base import Delivery, Envelope
from notifications.channels.email import build_message, stable_token

#: The sender of development emails when ``LOYALTY_MAIL_FROM`` is not set.
DEVELOPMENT_SENDER = "loyalty@localhost"


class FileChannel:
    """A channel that writes its messages under ``directory/<name>/``; the file's path is the reference."""

    def __init__(
        self, name: str, directory: Path, *, sender: str = DEVELOPMENT_SENDER, clock: Clock | None = None
    ) -> None:
        self.name = name
        self.folder = Path(directory) / name
        self.sender = sender
        self.clock = clock or SystemClock()

    def send(self, envelope: Envelope) -> Delivery:
        """Write ``envelope`` to its file, replacing the one an earlier attempt wrote."""
        if self.name == "email":
            content = build_message(envelope, self.sender, self.clock).as_bytes()
            suffix = ".eml"
        else:
            content = json.dumps(asdict(envelope), indent=2, ensure_ascii=False, default=dict).encode()
            suffix = ".json"
        path = self.folder / f"{stable_token(envelope.send_key)}{suffix}"
        _write_atomically(path, content)
        return Delivery(provider_ref=str(path))


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
