"""The report job as RQ runs it.

The worker (`rq worker`) forks a work horse per job: that process is the job's whole
life. The job therefore builds its own engine and session factory when it starts
(build_engine(settings), the API's pool settings) and disposes of them before it returns,
all inside the one event loop it runs on (asyncio.run): nothing pooled outlives its loop
or its process.
"""

import asyncio
import uuid

from rq import Retry, get_current_job

from ..core.config import get_settings
from ..core.telemetry import JobContext, configure_telemetry
from ..core.tracing import flush_traces
from ..db.engine import build_engine, build_sessionmaker
from ..db.errors import is_transient
from ..db.models import configure_models
from ..reports.service import run_report

# A job that met a transient database error runs again, up to MAX_RETRIES times, after
# these delays in seconds (retries are scheduled: the worker needs --with-scheduler).
MAX_RETRIES = 3
RETRY_INTERVALS = (2, 10, 30)


def run_report_job(report_id: str, context: JobContext | None = None) -> Retry | None:
    """Compute the report `report_id` (a UUID, also the RQ job id); `context`: what the
    request that asked for it sent along (core/telemetry.py).

    Only transient errors are retried: RQ retries every exception of a job enqueued with
    a Retry, so instead the job returns one when it wants another try.
    """
    job = get_current_job()
    retries_done = (job.number_of_retries or 0) if job is not None else 0
    will_retry = retries_done < MAX_RETRIES
    return asyncio.run(_run(uuid.UUID(report_id), context, will_retry=will_retry))


async def _run(
    report_id: uuid.UUID, context: JobContext | None, *, will_retry: bool
) -> Retry | None:
    settings = get_settings()
    # The work horse's records, with their request id, as the API writes its own; then
    # traces and error reports, when they are asked for.
    configure_telemetry(settings)
    configure_models()  # every model imported, every relationship resolved (as create_app)
    engine = build_engine(settings)
    try:
        await run_report(
            build_sessionmaker(engine),
            report_id,
            will_retry_transient=will_retry,
            context=context,
        )
    except Exception as error:
        if will_retry and is_transient(error):
            return Retry(max=MAX_RETRIES, interval=list(RETRY_INTERVALS))
        raise
    finally:
        await engine.dispose()
        # The work horse exits when the job returns: its buffered spans go now.
        flush_traces()
    return None
