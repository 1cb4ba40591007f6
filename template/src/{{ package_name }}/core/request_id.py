"""Request ids: one per request, on every log record written while it is handled and on
every log record of the job it enqueues.

asgi-correlation-id's middleware (see main.py) takes the caller's `X-Request-ID` when it
is sane, or makes a new one, keeps it in a context variable for the request and returns it
in the response. A job receives it as an argument and sets it again around its work
(`request_id_scope`), in whichever process the worker runs it.
"""

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgi_correlation_id import correlation_id

HEADER = "X-Request-ID"
# What proxies and clients generate (UUIDs, hex, base64url, dotted or dashed ids), bounded
# so that a caller can neither flood the logs nor forge a log line.
_SANE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# A record written outside any request or job.
NO_REQUEST = "-"


def is_sane(value: str) -> bool:
    """Whether the caller's id is kept; anything else is replaced by a new one."""
    return _SANE.fullmatch(value) is not None


def current_request_id() -> str | None:
    """The id of the request (or job) being handled, if any."""
    return correlation_id.get()


@contextmanager
def request_id_scope(value: str | None) -> Iterator[None]:
    """Make `value` the current request id for the block (a job of that request); None
    keeps whatever is current (a job that runs in the request's own context)."""
    if value is None:
        yield
        return
    token = correlation_id.set(value)
    try:
        yield
    finally:
        correlation_id.reset(token)


class _RequestIdRecordFactory:
    """Wraps the process's log record factory: each record gets `request_id`."""

    def __init__(self, previous: Callable[..., logging.LogRecord]) -> None:
        self._previous = previous

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._previous(*args, **kwargs)
        record.request_id = correlation_id.get() or NO_REQUEST
        return record


def stamp_request_ids() -> None:
    """Give every log record of this process a `request_id` attribute; idempotent.

    A record factory rather than a handler filter (asgi-correlation-id's): it reaches the
    records of every logger and every handler (uvicorn's, a worker's own, pytest's), so
    any format can name %(request_id)s.
    """
    current = logging.getLogRecordFactory()
    if not isinstance(current, _RequestIdRecordFactory):
        logging.setLogRecordFactory(_RequestIdRecordFactory(current))
