"""Prometheus metrics: requests, the connection pool, SQL statements per request, jobs.

The API serves them at GET /metrics (router below); a worker serves its own on
WORKER_METRICS_PORT (worker_metrics.py). Several processes that share one port (API
processes of one server, Celery's prefork children, RQ's work horses) each count in a
file of PROMETHEUS_MULTIPROC_DIR, and the process that answers the scrape adds them up:
prometheus-client's multiprocess mode, on whenever that variable is set (README.md,
"Operating it").
"""

import asyncio
import os

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from sqlalchemy import Pool, QueuePool, event
from sqlalchemy.ext.asyncio import AsyncEngine

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to the end of its response.",
    ["method", "route"],
)
DB_STATEMENTS_PER_REQUEST = Histogram(
    "db_statements_per_request",
    "SQL statements one HTTP request sent (a growing count is an N+1 query).",
    buckets=(0, 1, 2, 3, 4, 6, 8, 12, 16, 32, 64),
)
# Gauges of every live process are added up (livesum) in multiprocess mode: the pools of
# all the API processes behind one scrape.
DB_POOL_CONNECTIONS = Gauge(
    "db_pool_connections",
    "Connections of the engine's pool: checked_out (in use), idle, overflow (in use "
    "beyond DB_POOL_SIZE).",
    ["state"],
    multiprocess_mode="livesum",
)
DB_POOL_WAITING = Gauge(
    "db_pool_waiting",
    "Requests waiting for a connection of the pool (all DB_POOL_SIZE + DB_MAX_OVERFLOW "
    "are in use).",
    multiprocess_mode="livesum",
)
JOBS = Counter(
    "jobs",
    "Background jobs run, by outcome: succeeded, failed, retried (will run again).",
    ["job", "outcome"],
)
JOB_DURATION = Histogram(
    "job_duration_seconds",
    "Time a background job ran, whatever its outcome.",
    ["job"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)

_CHECKED_OUT = DB_POOL_CONNECTIONS.labels(state="checked_out")
_IDLE = DB_POOL_CONNECTIONS.labels(state="idle")
_OVERFLOW = DB_POOL_CONNECTIONS.labels(state="overflow")


def observe_request(method: str, route: str, status: int, seconds: float, statements: int) -> None:
    """Count one answered HTTP request (called by the request log middleware)."""
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_REQUEST_DURATION.labels(method, route).observe(seconds)
    DB_STATEMENTS_PER_REQUEST.observe(statements)


def observe_job(job: str, outcome: str, seconds: float) -> None:
    """Count one run of a background job; `outcome`: succeeded, failed or retried."""
    JOBS.labels(job, outcome).inc()
    JOB_DURATION.labels(job).observe(seconds)


def _waiting(pool: QueuePool) -> int:
    """How many are waiting for a connection of `pool`.

    SQLAlchemy counts no waiters: its async pool hands connections out through an
    asyncio.Queue, whose pending getters are the waiters. A test exhausts a pool and
    checks the count, so a change of those internals fails there, not in production.
    """
    queue = getattr(getattr(pool, "_pool", None), "_queue", None)
    getters = getattr(queue, "_getters", ())
    return sum(1 for getter in getters if not getter.done())


def publish_pool_state(pool: Pool) -> None:
    """Set the pool gauges from `pool` as it is now."""
    if not isinstance(pool, QueuePool):  # NullPool, StaticPool: nothing pooled to show
        return
    in_use = pool.checkedout()
    _CHECKED_OUT.set(in_use)
    _IDLE.set(pool.checkedin())
    # overflow() is negative while the pool holds fewer than DB_POOL_SIZE connections.
    _OVERFLOW.set(max(pool.overflow(), 0))
    DB_POOL_WAITING.set(_waiting(pool))


def track_pool(engine: AsyncEngine) -> None:
    """Keep the pool gauges current as connections come and go (they are also read at
    scrape time): in multiprocess mode, the scrape reaches one process, and the others'
    pools count through what they published last."""
    pool = engine.sync_engine.pool

    def publish(*_: object) -> None:
        publish_pool_state(pool)

    event.listen(pool, "checkout", publish)
    event.listen(pool, "checkin", publish)


def scrape_registry() -> CollectorRegistry:
    """This process's metrics, or every process's in multiprocess mode."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped upstream
        return registry
    return REGISTRY


router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The metrics in Prometheus's text format, the pool read as it is now."""
    # The lifespan's Resources (resources.py), read without importing them: core/ imports
    # nothing of the app's domains.
    engine: AsyncEngine = request.app.state.resources.engine
    publish_pool_state(engine.sync_engine.pool)
    # Off the event loop: writing every series out is CPU work that grows with the routes
    # and the histograms' buckets.
    text = await asyncio.to_thread(generate_latest, scrape_registry())
    return Response(text, media_type=CONTENT_TYPE_LATEST)


def forget_this_process() -> None:
    """Take this process's pool out of the gauges' sums: it is shutting down."""
    if os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # untyped upstream
