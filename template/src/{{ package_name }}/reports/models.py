"""The project_reports table: one row per requested report, the state of its job.

The API inserts the row (queued) before it enqueues the job; the job, in the worker,
updates it (running, then done or failed) and stores the result. The status endpoint
reads only this table, so it answers the same whichever worker ran the job, and the
row's id is also the queue's job id.
"""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.types import UTCDateTime, utcnow

ERROR_MAX_LENGTH = 2000


class ReportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ProjectReport(Base):
    __tablename__ = "project_reports"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Deleting a project deletes its reports in the database (ON DELETE CASCADE).
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    # Stored as a plain VARCHAR (no database enum type), so adding a status needs no
    # schema change.
    status: Mapped[ReportStatus] = mapped_column(
        Enum(
            ReportStatus,
            native_enum=False,
            length=16,
            values_callable=lambda statuses: [status.value for status in statuses],
        ),
        default=ReportStatus.QUEUED,
    )
    # The size of the work, fixed when the report is requested.
    simulations: Mapped[int]
    attempts: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX_LENGTH), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self) -> str:
        return f"ProjectReport(id={self.id!r}, status={self.status!r})"
