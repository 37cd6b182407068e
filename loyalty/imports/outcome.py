"""What importing a batch of rows did."""

from __future__ import annotations

from dataclasses import dataclass, field

#: How many bad rows a total keeps (with their line, column and reason); the others are counted.
MAX_KEPT_ERRORS = 1000


@dataclass(frozen=True)
class RowError:
    line: int
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass
class Outcome:
    rows: int = 0
    imported: int = 0
    #: Rows imported before: their natural key or ref is taken, nothing changed.
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Bad rows, kept in ``errors`` or not.
    failed: int = 0

    def fail(self, error: RowError) -> None:
        self.failed += 1
        if len(self.errors) < MAX_KEPT_ERRORS:
            self.errors.append(error)

    def add(self, other: Outcome) -> None:
        self.rows += other.rows
        self.imported += other.imported
        self.skipped += other.skipped
        for error in other.errors:
            self.fail(error)
        self.failed += other.failed - len(other.errors)
