"""Rows streamed from CSV (a header row naming the columns) or JSON lines (one object a line), each
with its line number as in the file: a CSV's header is line 1, its first row line 2."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawRow:
    line: int
    values: dict[str, Any]
    #: Why the row could not even be read (not JSON, not an object), or None.
    unreadable: str | None = None


def read_rows(lines: Iterable[str], fmt: str) -> Iterator[RawRow]:
    """The rows of a file given as an iterable of its text lines (a file opened in text mode)."""
    if fmt == "csv":
        yield from _csv_rows(lines)
    else:
        yield from _jsonl_rows(lines)


def _csv_rows(lines: Iterable[str]) -> Iterator[RawRow]:
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        return
    columns = [name.strip() for name in header]
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        if len(values) != len(columns):
            yield RawRow(reader.line_num, {}, f"{len(values)} values for {len(columns)} columns")
            continue
        yield RawRow(reader.line_num, {name: value.strip() for name, value in zip(columns, values) if value.strip() != ""})


def _jsonl_rows(lines: Iterable[str]) -> Iterator[RawRow]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except ValueError:
            yield RawRow(number, {}, "not a JSON object")
            continue
        if not isinstance(value, dict):
            yield RawRow(number, {}, "not a JSON object")
            continue
        yield RawRow(number, {key: item for key, item in value.items() if item is not None and item != ""})
