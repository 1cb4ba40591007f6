"""The reports domain's errors."""

import uuid

from ..core.errors import NotFoundError, UnavailableError


class ReportNotFoundError(NotFoundError):
    code = "report_not_found"

    def __init__(self, report_id: uuid.UUID) -> None:
        super().__init__(f"report {report_id} not found")
        self.report_id = report_id


class JobQueueUnavailableError(UnavailableError):
    code = "job_queue_unavailable"

    def __init__(self, report_id: uuid.UUID) -> None:
        super().__init__(
            f"report {report_id} could not be queued; try again later", retry_after_seconds=5
        )
        self.report_id = report_id
