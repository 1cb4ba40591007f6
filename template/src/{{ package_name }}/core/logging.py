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

from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import LogFormat
from .metrics import observe_request
from .request_id import stamp_request_ids

PACKAGE = __name__.partition(".")[0]
_HANDLER_NAME = f"{PACKAGE}-stderr"

request_logger = logging.getLogger(f"{PACKAGE}.request")
# Each line names the request (or job) it was written for: see request_id.py.
CONSOLE_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
# The attributes every JSON line has, renamed as log platforms expect; a record's extra
# fields (the request log's status_code, duration_ms ...) follow as fields of their own.
JSON_FIELDS = "{levelname}{name}{message}{request_id}"
JSON_RENAMED = {"levelname": "level", "name": "logger"}
# The servers' and workers' own loggers, at the service's level: uvicorn's, Celery's, RQ's
# and arq's. Uvicorn's access log is left to warnings: the request log says more, with
# the request id.
HOST_LOGGERS = ("uvicorn", "uvicorn.error", "celery", "rq", "arq")
QUIET_HOST_LOGGERS = ("uvicorn.access",)
# The route label of a request that matched no route: one value, not one per raw path.
UNMATCHED_ROUTE = "<unmatched>"


def _formatter(log_format: LogFormat) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, style="{", rename_fields=JSON_RENAMED, timestamp=True)
    return logging.Formatter(CONSOLE_FORMAT)


def configure_logging(level: str, log_format: LogFormat = "console") -> None:
    """Write every record of this process to stderr in `log_format`; calling it again
    reconfigures.

    One handler, on the root logger, so that every library's records look alike. It is
    added next to any handler already there (pytest's caplog, for one), never instead.
    The package's loggers and the host's (HOST_LOGGERS) are at `level`, and the host's lose
    the handlers their command gave them: their records reach the root's handler too.
    """
    stamp_request_ids()
    handler = logging.StreamHandler()
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(_formatter(log_format))
    root = logging.getLogger()
    for previous in [each for each in root.handlers if each.get_name() == _HANDLER_NAME]:
        root.removeHandler(previous)
    root.addHandler(handler)

    logging.getLogger(PACKAGE).setLevel(level)
    for name, host_level in [
        *((name, level) for name in HOST_LOGGERS),
        *((name, "WARNING") for name in QUIET_HOST_LOGGERS),
    ]:
        host_logger = logging.getLogger(name)
        host_logger.handlers.clear()
        host_logger.propagate = True
        host_logger.setLevel(host_level)


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
    """Log one line per HTTP request, and count it in the request metrics (metrics.py)
    unless `metrics` is off. A pure ASGI middleware: it neither buffers the body nor moves
    the endpoint to another task, as BaseHTTPMiddleware would."""

    def __init__(self, app: ASGIApp, *, metrics: bool = True) -> None:
        self.app = app
        self.metrics = metrics

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
                seconds = time.perf_counter() - start
                # The router leaves the route it matched in the scope: its template
                # (/users/{user_id}) keeps the metrics' labels few.
                route: BaseRoute | None = scope.get("route")
                route_path = getattr(route, "path", UNMATCHED_ROUTE)
                request_logger.info(
                    "%s %s %d %.1fms sql=%d",
                    scope["method"],
                    scope["path"],
                    status_code,
                    seconds * 1000,
                    statements.count,
                    extra={
                        "http_method": scope["method"],
                        "http_path": scope["path"],
                        "http_route": route_path,
                        "status_code": status_code,
                        "duration_ms": round(seconds * 1000, 1),
                        "sql_statements": statements.count,
                    },
                )
                if self.metrics:
                    observe_request(
                        scope["method"], route_path, status_code, seconds, statements.count
                    )
