"""The report job as RQ runs it.

The worker (`rq worker`) forks a work horse per job: that process is the job's whole
life. The job therefore builds its own engine and session factory when it starts
(build_engine(settings), the API's pool settings) and disposes of them before it returns,
all inside the one event loop it runs on (asyncio.run): nothing pooled outlives its loop
or its process.
"""

import asyncio
import uuid

from rq import get_current_job

from ..core.config import get_settings
from ..core.telemetry import JobContext, configure_telemetry
from ..core.tracing import flush_traces
from ..db.engine import build_engine, build_sessionmaker
from ..db.errors import is_transient
from ..db.models import configure_models
from ..reports.service import run_report


def run_report_job(report_id: str, context: JobContext | None = None) -> None:
    """Compute the report `report_id` (a UUID, also the RQ job id); `context`: what the
    request that asked for it sent along (core/telemetry.py).

    The job is enqueued with a Retry (reports/queue.py), so that RQ runs it again when its
    work horse dies mid-job. RQ would retry any error the same way: an error that another
    try cannot mend (not a transient one) uses up the job's retries, and stays final.
    """
    job = get_current_job()
    will_retry = job is not None and job.should_retry
    try:
        asyncio.run(_run(uuid.UUID(report_id), context, will_retry=will_retry))
    except Exception as error:
        if job is not None and not is_transient(error):
            job.retries_left = 0
        raise


async def _run(report_id: uuid.UUID, context: JobContext | None, *, will_retry: bool) -> None:
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
    finally:
        await engine.dispose()
        # The work horse exits when the job returns: its buffered spans go now.
        flush_traces()
