"""When each periodic job last ran, so that a restarted scheduler knows what it owes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from loyalty.db import Base, UTCDateTime


class JobRun(Base):
    """The last completed run of a periodic job (a scan, the daily maintenance)."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime] = mapped_column(UTCDateTime())
