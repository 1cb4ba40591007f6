"""Reports: what the API does when a report is asked for, and the job that computes it.

The job (run_report) is the same for every worker: it receives a session factory and
opens its own sessions, one short unit of work at a time (session_scope: commit, or roll
back and re-raise, exactly as a request does). No connection is held while it computes.
"""

import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from ..db.errors import is_transient
from ..db.session import session_scope
from ..db.types import utcnow
from ..projects.errors import ProjectNotFoundError
from ..projects.models import Project
from .compute import ReportInput, ReportResult, compute_report
from .errors import JobQueueUnavailableError, ReportNotFoundError
from .models import ERROR_MAX_LENGTH, ProjectReport, ReportStatus

logger = logging.getLogger(__name__)

# Where the CPU part runs: inline, in a thread (asyncio.to_thread) or in a process pool.
Offload = Callable[[Callable[[ReportInput], ReportResult], ReportInput], Awaitable[ReportResult]]
Enqueue = Callable[[uuid.UUID], Awaitable[None]]


async def run_inline(
    compute: Callable[[ReportInput], ReportResult], data: ReportInput
) -> ReportResult:
    """Compute right here: for a worker process whose loop serves this one job only."""
    return compute(data)


async def request_report(
    session: AsyncSession, *, enqueue: Enqueue, project_id: int, simulations: int
) -> ProjectReport:
    """Record a queued report for the project and hand it to the job queue.

    The row is committed before the job is enqueued: a fast worker must find it. If the
    queue cannot take the job, the row is marked failed and JobQueueUnavailableError is
    raised (a 503).
    """
    if await session.get(Project, project_id) is None:
        raise ProjectNotFoundError(project_id)
    report = ProjectReport(id=uuid.uuid4(), project_id=project_id, simulations=simulations)
    session.add(report)
    await session.commit()
    try:
        await enqueue(report.id)
    except Exception as error:
        logger.exception("could not enqueue report %s", report.id)
        report.status = ReportStatus.FAILED
        report.error = _describe(error, prefix="could not enqueue: ")
        report.finished_at = utcnow()
        await session.commit()
        raise JobQueueUnavailableError(report.id) from error
    return report


async def get_report(session: AsyncSession, *, report_id: uuid.UUID) -> ProjectReport:
    """The report `report_id`; raise ReportNotFoundError."""
    report = await session.get(ProjectReport, report_id)
    if report is None:
        raise ReportNotFoundError(report_id)
    return report


async def run_report(
    sessionmaker: async_sessionmaker[AsyncSession],
    report_id: uuid.UUID,
    *,
    offload: Offload = run_inline,
    will_retry_transient: bool = False,
) -> None:
    """The job: load the project, compute the report, store the result.

    Three units of work: start (status running), compute (no session open), finish
    (status done, result). On any error the row records it in a fresh unit of work and the
    error is re-raised for the queue. `will_retry_transient`: the queue runs the job again
    after a transient error, so the row then goes back to queued instead of failed.
    A report already done is left alone: a message delivered twice is harmless.
    """
    try:
        data = await _start(sessionmaker, report_id)
        if data is None:
            return
        result = await offload(compute_report, data)
        await _finish(sessionmaker, report_id, result)
    except Exception as error:
        retrying = will_retry_transient and is_transient(error)
        await _record_failure(sessionmaker, report_id, error, retrying=retrying)
        raise


async def _start(
    sessionmaker: async_sessionmaker[AsyncSession], report_id: uuid.UUID
) -> ReportInput | None:
    async with session_scope(sessionmaker) as session:
        # FOR UPDATE: two deliveries of the same job never both start it.
        report = await session.get(ProjectReport, report_id, with_for_update=True)
        if report is None:
            logger.warning("report %s does not exist (deleted?); nothing to do", report_id)
            return None
        if report.status is ReportStatus.DONE:
            logger.info("report %s is already done", report_id)
            return None
        project = await session.scalar(
            select(Project)
            .where(Project.id == report.project_id)
            .options(selectinload(Project.owner))
        )
        if project is None:  # the foreign key deletes reports with their project
            return None
        report.status = ReportStatus.RUNNING
        report.attempts += 1
        report.started_at = utcnow()
        report.error = None
        return ReportInput(
            project_id=project.id,
            name=project.name,
            description=project.description,
            owner_name=project.owner.full_name,
            simulations=report.simulations,
        )


async def _finish(
    sessionmaker: async_sessionmaker[AsyncSession],
    report_id: uuid.UUID,
    result: ReportResult,
) -> None:
    async with session_scope(sessionmaker) as session:
        report = await session.get(ProjectReport, report_id, with_for_update=True)
        if report is None:
            return
        stored: dict[str, Any] = dict(result)
        report.status = ReportStatus.DONE
        report.result = stored
        report.finished_at = utcnow()


async def _record_failure(
    sessionmaker: async_sessionmaker[AsyncSession],
    report_id: uuid.UUID,
    error: Exception,
    *,
    retrying: bool,
) -> None:
    """Best effort: if the database itself is down this fails too; that is logged, and the
    job's own error still reaches the queue."""
    try:
        async with session_scope(sessionmaker) as session:
            report = await session.get(ProjectReport, report_id)
            if report is None:
                return
            report.error = _describe(error)
            if retrying:
                report.status = ReportStatus.QUEUED
            else:
                report.status = ReportStatus.FAILED
                report.finished_at = utcnow()
    except Exception:
        logger.exception("could not record the failure of report %s", report_id)


def _describe(error: Exception, prefix: str = "") -> str:
    return f"{prefix}{type(error).__name__}: {error}"[:ERROR_MAX_LENGTH]
