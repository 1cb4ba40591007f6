"""The reports API: ask for a report (202, a job is queued), then follow it."""

import uuid

from fastapi import APIRouter, Response, status

from ..core.fields import IdPath
from ..dependencies import JobQueueDep, SessionDep, SettingsDep
from . import service
from .schemas import ReportAccepted, ReportPublic

router = APIRouter(tags=["reports"])


@router.post(
    "/projects/{project_id}/report",
    status_code=status.HTTP_202_ACCEPTED,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "The job queue is down"}},
)
async def request_report(
    project_id: IdPath,
    session: SessionDep,
    queue: JobQueueDep,
    settings: SettingsDep,
    response: Response,
) -> ReportAccepted:
    """Queue a report on the project; poll `status_url` (also the Location header)."""
    report = await service.request_report(
        session,
        enqueue=queue.enqueue_report,
        project_id=project_id,
        simulations=settings.REPORT_SIMULATIONS,
    )
    status_url = f"/reports/{report.id}"
    response.headers["Location"] = status_url
    return ReportAccepted(id=report.id, status=report.status, status_url=status_url)


@router.get("/reports/{report_id}")
async def get_report(report_id: uuid.UUID, session: SessionDep) -> ReportPublic:
    """The report's state: queued, running, done (with its result) or failed (with why)."""
    report = await service.get_report(session, report_id=report_id)
    return ReportPublic.model_validate(report)
