"""The postal export: every letter cleared by the pressure rules becomes a line of the batch's CSV (the
address and the merge fields) and a PDF, and is marked sent in the same transaction.

Letters waiting for the export are the ``postal`` messages that the scheduler's delivery judged like
any other (consent, cap, blackouts) and left ``queued`` without a due time. They are claimed with
``SKIP LOCKED`` and marked sent before the transaction commits: two exports, even at once, never
carry the same letter. A member who lost their address in between gets no letter (``suppressed``).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from loyalty.members.models import Member
from loyalty.serialize import csv_line
from notifications.messages.delivery import POSTAL_READY, finish_postal
from notifications.messages.models import Message
from notifications.postal.letters import letter_pdf

CSV_COLUMNS = (
    "message_id", "member_id", "card_number", "first_name", "last_name", "address_line1", "address_line2",
    "postcode", "city", "country", "scenario", "template", "subject", "text", "pdf",
)  # fmt: skip


@dataclass
class PostalBatch:
    #: The CSV's rows, in message order.
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: ``(file name, PDF)`` per letter.
    letters: list[tuple[str, bytes]] = field(default_factory=list)

    def csv(self) -> str:
        return "".join([csv_line(list(CSV_COLUMNS)), *(csv_line([row[name] for name in CSV_COLUMNS]) for row in self.rows)])

    def write(self, directory: Path) -> None:
        """``letters.csv`` and one PDF per letter in ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "letters.csv").write_text(self.csv(), encoding="utf-8")
        for name, pdf in self.letters:
            (directory / name).write_bytes(pdf)

    def zip(self) -> bytes:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("letters.csv", self.csv())
            for name, pdf in self.letters:
                archive.writestr(name, pdf)
        return buffer.getvalue()


def export_letters(session: Session, *, now: datetime, limit: int = 10_000) -> PostalBatch:
    """The next batch of letters (up to ``limit``), each marked sent."""
    waiting = session.scalars(
        select(Message)
        .where(
            Message.channel == "postal",
            Message.status == "queued",
            Message.due_at.is_(None),
            Message.reason == POSTAL_READY,
        )
        .order_by(Message.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    batch = PostalBatch()
    for message in waiting:
        member = session.get_one(Member, message.member_id)
        address = member.postal_address
        if address is None:
            message.status, message.reason = "suppressed", "no postal address"
            continue
        name = f"letter-{message.id}.pdf"
        lines = [f"{member.first_name} {member.last_name}".strip(), address["line1"], address["line2"],
                 f"{address['postcode']} {address['city']}", address["country"]]  # fmt: skip
        batch.letters.append(
            (name, letter_pdf(address=[line for line in lines if line], on=now.date(), subject=message.subject, text=message.body_text))
        )
        batch.rows.append(
            {
                "message_id": message.id, "member_id": member.id, "card_number": member.card_number,
                "first_name": member.first_name, "last_name": member.last_name, "address_line1": address["line1"],
                "address_line2": address["line2"] or "", "postcode": address["postcode"], "city": address["city"],
                "country": address["country"], "scenario": message.scenario_key or "", "template": message.template_key,
                "subject": message.subject, "text": message.body_text, "pdf": name,
            }
        )  # fmt: skip
        finish_postal(session, message, now=now)
    session.flush()
    return batch
