"""Leadership among scheduler processes: a PostgreSQL session-level advisory lock.

The leader runs the scans and the maintenance; every process claims journeys and messages. The lock
belongs to a connection kept open for it: when the leader dies, its connection closes, the lock is
released and the next process to try becomes the leader. On SQLite (one machine, one writer) the
only process leads.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

#: The advisory lock's key: any constant the rest of the database does not use.
LOCK_KEY = 7_311_202_611


class Leadership:
    """Try to lead; stay leader while the connection lives."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None

    def try_lead(self) -> bool:
        """Whether this process leads now (taking the lead if it is free)."""
        if self._engine.dialect.name != "postgresql":
            return True
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except DBAPIError:  # the connection died: so did the lock
                self.release()
        connection = self._engine.connect()
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar_one()
        connection.commit()
        if taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._connection.commit()
            except DBAPIError:
                pass  # a dead connection has released the lock already
            finally:
                self._connection.close()
                self._connection = None
