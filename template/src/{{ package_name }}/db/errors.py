"""Which errors mean "the database cannot be reached right now", as opposed to a bug.

SQLAlchemy knows, for each driver, which errors mean that a connection is gone (a restart,
a failover, a network cut): it throws the connection away and marks the error
(`connection_invalidated`). What it does not count is a connection that could not be
opened at all, whatever the driver's error says (the server is down, refusing, starting up
or out of connections): `mark_unavailable`, registered on every engine by build_engine(),
adds those.

The API answers transient errors as DatabaseUnavailableError: a 503 with `Retry-After`
(core/responses.py), so a client knows to try again; background jobs retry them
(reports/service.py and the worker). Anything else (no such table, a syntax error, an
IntegrityError, ...) is a bug or a domain error: a 500 with its traceback, or what the
service maps it to.
"""

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext

from ..core.errors import UnavailableError

# Every class a transient error belongs to; is_transient() tells which of their errors are.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError)

# SQLite's result codes for "another connection holds the database" (past the busy
# timeout): contention that passes, where SQLite has no server to lose.
_SQLITE_BUSY = ("SQLITE_BUSY", "SQLITE_LOCKED")


class DatabaseUnavailableError(UnavailableError):
    code = "database_unavailable"

    def __init__(self) -> None:
        super().__init__("the database is unavailable; try again later", retry_after_seconds=1)


def mark_unavailable(context: ExceptionContext) -> None:
    """The engine's `handle_error` listener: a failure to open a connection counts as a
    disconnect, so the error comes out marked `connection_invalidated`."""
    if context.connection is None and not context.is_disconnect:
        context.is_disconnect = True
        # The pooled connections may still be good (a full server refuses only new ones):
        # they stay, and pre-ping tests each one before use.
        context.invalidate_pool_on_disconnect = False


def is_transient(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached, so that trying again later
    may succeed."""
    if isinstance(error, sa_exc.DBAPIError):
        busy = str(getattr(error.orig, "sqlite_errorname", "")).startswith(_SQLITE_BUSY)
        return error.connection_invalidated or busy
    # No free connection in the pool within DB_POOL_TIMEOUT (sqlalchemy's TimeoutError), or
    # a connection refused before the driver answered: asyncpg raises a bare OSError that
    # SQLAlchemy does not wrap (ConnectionRefusedError, socket.gaierror, TimeoutError of
    # DB_CONNECT_TIMEOUT).
    return isinstance(error, sa_exc.TimeoutError | OSError)


def describe_error(error: BaseException) -> str:
    """The error for a log line: its type and the driver's message, never the SQL parameters
    (SQLAlchemy's own message repeats them, and they may hold personal data)."""
    if isinstance(error, sa_exc.DBAPIError):
        return f"{type(error).__name__}: {error.orig}"
    return f"{type(error).__name__}: {error}"
