"""Values as plain text for files and JSON documents: instants and dates in ISO-8601, amounts as strings."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """``value`` as JSON can hold it (bytes become None: files never carry binary columns)."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    return value


def csv_line(values: list[Any]) -> str:
    """One CSV line (with its line end) of the values, made plain."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow([plain(value) for value in values])
    return buffer.getvalue()
