"""The report task, and the event loop and engine each worker process runs it on.

Celery calls a task synchronously; the job (reports.service.run_report) is async. Each
process that runs tasks (a prefork child; the thread of the solo or threads pools) gets
one JobRuntime the first time it runs a job: an event loop (asyncio.Runner), its own
engine, built with build_engine(settings) like the API's, and a session factory. Every
later job of that process runs on the same loop and reuses the pooled connections.
(A fresh asyncio.run() per job with a pooled engine fails on the second job: pooled
connections belong to the loop that opened them.) When the process shuts down, its
runtimes dispose of their engine and close their loop.
"""

import asyncio
import contextvars
import logging
import os
import threading
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from celery import Task, signals
from celery.utils.time import get_exponential_backoff_interval
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from ..core.config import get_settings
from ..core.telemetry import JobContext
from ..db.engine import build_engine, build_sessionmaker
from ..db.errors import is_transient
from ..db.models import configure_models
from ..reports.queue import TASK_NAME
from ..reports.service import run_report
from . import app

logger = logging.getLogger(__name__)

# A job that met a transient database error runs again, up to this many times, after
# about 2, 4, 8 ... seconds (with jitter, at most a minute).
MAX_RETRIES = 3

_T = TypeVar("_T")


class JobRuntime:
    """One event loop, one engine and its session factory, owned by one thread."""

    def __init__(self) -> None:
        # Every model imported and every relationship resolved, as create_app() does.
        configure_models()
        self.pid = os.getpid()
        self.runner = asyncio.Runner()
        self.engine: AsyncEngine = build_engine(get_settings())
        self.sessionmaker: async_sessionmaker[AsyncSession] = build_sessionmaker(self.engine)

    def run(self, coroutine: Coroutine[Any, Any, _T]) -> _T:
        # In the context of the Celery task that runs it (its Sentry scope, for one), not in
        # the one context a Runner otherwise keeps for every coroutine it runs.
        return self.runner.run(coroutine, context=contextvars.copy_context())

    def close(self) -> None:
        try:
            self.runner.run(self.engine.dispose())
        finally:
            self.runner.close()
        logger.info("job runtime closed: engine disposed of (pid %s)", self.pid)


_local = threading.local()
_runtimes: list[JobRuntime] = []
_runtimes_lock = threading.Lock()


def job_runtime() -> JobRuntime:
    """This thread's runtime, created on first use.

    A runtime inherited through a fork belongs to the parent process: it is never used.
    """
    runtime: JobRuntime | None = getattr(_local, "runtime", None)
    if runtime is None or runtime.pid != os.getpid():
        runtime = JobRuntime()
        _local.runtime = runtime
        with _runtimes_lock:
            _runtimes.append(runtime)
    return runtime


def close_job_runtimes() -> None:
    """Dispose of this process's engines and close their loops (idempotent)."""
    pid = os.getpid()
    with _runtimes_lock:
        mine = [runtime for runtime in _runtimes if runtime.pid == pid]
        _runtimes[:] = [runtime for runtime in _runtimes if runtime.pid != pid]
    for runtime in mine:
        try:
            runtime.close()
        except Exception:
            logger.exception("could not close a job runtime")
    _local.__dict__.clear()


@signals.worker_process_shutdown.connect
def _on_worker_process_shutdown(**_: object) -> None:
    """A prefork child exits."""
    close_job_runtimes()


@signals.worker_shutdown.connect
def _on_worker_shutdown(**_: object) -> None:
    """The worker exits (the solo and threads pools run jobs in this process)."""
    close_job_runtimes()


@app.task(bind=True, name=TASK_NAME, max_retries=MAX_RETRIES)
def run_report_task(
    self: Task[[str, JobContext | None], None], report_id: str, context: JobContext | None = None
) -> None:
    """Compute the report `report_id` (a UUID, also this task's id); `context`: what the
    request that asked for it sent along (core/telemetry.py)."""
    runtime = job_runtime()
    will_retry = self.request.retries < MAX_RETRIES
    try:
        runtime.run(
            run_report(
                runtime.sessionmaker,
                uuid.UUID(report_id),
                will_retry_transient=will_retry,
                context=context,
            )
        )
    except Exception as error:
        # Not autoretry_for: it matches classes only, and whether a database error is
        # transient depends on the error itself (db/errors.py).
        if will_retry and is_transient(error):
            countdown = get_exponential_backoff_interval(
                factor=2, retries=self.request.retries, maximum=60, full_jitter=True
            )
            raise self.retry(exc=error, countdown=countdown) from error
        raise
