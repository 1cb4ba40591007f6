"""The report job as arq runs it, and what the worker process owns.

startup() builds the process's engine and session factory (build_engine(settings): the
API's pool settings) and a process pool for the CPU part of jobs; shutdown() closes them.
Jobs run concurrently on the worker's one event loop: the CPU part goes to the process
pool, where it neither stalls the loop (other jobs, arq's health check, timeouts) nor
shares one core under the GIL.
"""

import asyncio
import multiprocessing
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from arq import Retry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..core.config import get_settings
from ..core.telemetry import JobContext, configure_telemetry
from ..core.worker_metrics import serve_worker_metrics
from ..db.engine import build_engine, build_sessionmaker
from ..db.errors import is_transient
from ..db.models import configure_models
from ..reports.compute import ReportInput, ReportResult
from ..reports.service import run_report

# A job that met a transient database error runs again, up to this many times, after
# 2, 4, 6 ... seconds.
MAX_RETRIES = 3
RETRY_DELAY_SECONDS = 2


@dataclass(slots=True)
class WorkerRuntime:
    """What the worker process owns; kept in arq's ctx["runtime"]."""

    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    cpu_pool: ProcessPoolExecutor

    async def offload(
        self, compute: Callable[[ReportInput], ReportResult], data: ReportInput
    ) -> ReportResult:
        return await asyncio.get_running_loop().run_in_executor(self.cpu_pool, compute, data)


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    # The jobs' records, with their request ids, as the API writes its own; arq's own
    # loggers too. Then traces and error reports, when they are asked for.
    configure_telemetry(settings)
    # Jobs run in this process (their CPU part in the pool's processes, which count nothing).
    serve_worker_metrics(settings.WORKER_METRICS_PORT, jobs_in_child_processes=False)
    configure_models()  # every model imported, every relationship resolved (as create_app)
    engine = build_engine(settings)
    ctx["runtime"] = WorkerRuntime(
        engine=engine,
        sessionmaker=build_sessionmaker(engine),
        # One process per core, started on demand. "spawn": the children import only
        # reports/compute.py and inherit no socket of this process.
        cpu_pool=ProcessPoolExecutor(mp_context=multiprocessing.get_context("spawn")),
    )


async def shutdown(ctx: dict[str, Any]) -> None:
    runtime: WorkerRuntime | None = ctx.pop("runtime", None)
    if runtime is None:
        return
    await asyncio.to_thread(runtime.cpu_pool.shutdown, wait=True, cancel_futures=True)
    await runtime.engine.dispose()


async def run_report_job(
    ctx: dict[str, Any], report_id: str, context: JobContext | None = None
) -> None:
    """Compute the report `report_id` (a UUID, also the arq job id); `context`: what the
    request that asked for it sent along (core/telemetry.py)."""
    runtime: WorkerRuntime = ctx["runtime"]
    job_try: int = ctx["job_try"]  # 1 on the first run
    will_retry = job_try <= MAX_RETRIES
    try:
        await run_report(
            runtime.sessionmaker,
            uuid.UUID(report_id),
            offload=runtime.offload,
            will_retry_transient=will_retry,
            context=context,
        )
    except Exception as error:
        if will_retry and is_transient(error):
            # arq retries a job only when it raises Retry.
            raise Retry(defer=RETRY_DELAY_SECONDS * job_try) from error
        raise
