"""Logging setup, and the request log with its SQL statement count.

Every HTTP request is logged once, when it is over: method, path, status, duration in ms
and the number of SQL statements it ran. The count comes from a `before_cursor_execute`
listener on the engine, which adds to a per-request counter held in a context variable.
SQLAlchemy's asyncio layer runs the listener inside a greenlet that shares the context of
the awaiting task, so the request's counter is the one that sees the increment (a test
checks it).
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from http import HTTPStatus

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .request_id import stamp_request_ids

PACKAGE = __name__.partition(".")[0]
_HANDLER_NAME = f"{PACKAGE}-console"

request_logger = logging.getLogger(f"{PACKAGE}.request")
# Each line names the request (or job) it was written for: see request_id.py.
LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send the package's records to stderr at `level`; idempotent.

    Only the package's logger is configured: the root logger is left to the host (uvicorn,
    pytest's caplog), and records still propagate to it.
    """
    stamp_request_ids()
    logger = logging.getLogger(PACKAGE)
    logger.setLevel(level)
    if not any(handler.get_name() == _HANDLER_NAME for handler in logger.handlers):
        handler = logging.StreamHandler()
        handler.set_name(_HANDLER_NAME)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)


@dataclass(slots=True)
class StatementCounter:
    """How many SQL statements were sent while the counter was current."""

    count: int = 0


_current_counter: ContextVar[StatementCounter | None] = ContextVar(
    "sql_statement_counter", default=None
)


@contextmanager
def count_sql_statements() -> Iterator[StatementCounter]:
    """Count the statements sent by tracked engines in this context (and tasks it starts)."""
    counter = StatementCounter()
    token = _current_counter.set(counter)
    try:
        yield counter
    finally:
        _current_counter.reset(token)


def _on_cursor_execute(*_: object) -> None:
    counter = _current_counter.get()
    if counter is not None:
        counter.count += 1


def track_sql_statements(engine: AsyncEngine) -> None:
    """Make every statement sent through `engine` count towards the current counter."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _on_cursor_execute):
        event.listen(engine.sync_engine, "before_cursor_execute", _on_cursor_execute)


class RequestLogMiddleware:
    """Log one line per HTTP request. A pure ASGI middleware: it neither buffers the body
    nor moves the endpoint to another task, as BaseHTTPMiddleware would."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        status_code = HTTPStatus.INTERNAL_SERVER_ERROR.value

        async def send_and_record_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        start = time.perf_counter()
        with count_sql_statements() as statements:
            try:
                await self.app(scope, receive, send_and_record_status)
            finally:
                duration_ms = (time.perf_counter() - start) * 1000
                request_logger.info(
                    "%s %s %d %.1fms sql=%d",
                    scope["method"],
                    scope["path"],
                    status_code,
                    duration_ms,
                    statements.count,
                    extra={
                        "http_method": scope["method"],
                        "http_path": scope["path"],
                        "status_code": status_code,
                        "duration_ms": round(duration_ms, 1),
                        "sql_statements": statements.count,
                    },
                )
