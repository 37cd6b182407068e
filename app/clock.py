"""The application's clock (design rule 7): routes pass ``now()`` to the operations they call."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from loyalty.clock import Clock


def clock() -> Clock:
    return current_app.extensions["loyalty.clock"]


def now() -> datetime:
    return clock().now()
