"""Which errors mean "the database cannot be reached right now", as opposed to a bug.

The API answers them with 503 and a JSON body (main.py), so a client knows to try again;
background jobs retry them (reports/service.py and the worker). Anything else (an
IntegrityError, a ValueError, ...) is not transient: a domain error where a service expects
it, else a 500.
"""

from sqlalchemy import exc as sa_exc

# Every class a transient error belongs to; is_transient() tells which of their errors are.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DBAPIError, sa_exc.TimeoutError, OSError)

_TRANSIENT_CLASSES: tuple[type[Exception], ...] = (
    # The server refused, dropped or could not serve the connection (it is down, restarting,
    # out of connections; on SQLite, the file cannot be opened or stays locked).
    sa_exc.OperationalError,
    # The driver lost its connection.
    sa_exc.InterfaceError,
    # No free connection in the pool within DB_POOL_TIMEOUT.
    sa_exc.TimeoutError,
    # asyncpg refuses a new connection with a bare OSError that SQLAlchemy does not wrap:
    # ConnectionRefusedError, socket.gaierror, TimeoutError (DB_CONNECT_TIMEOUT).
    OSError,
)


# SQLSTATEs of a server that cannot serve now, which drivers may report as a plain
# DBAPIError: "the database system is starting up / shutting down" (57P03), an
# administrator's or a crash's shutdown (57P01, 57P02), out of connections (53300), and
# class 08, connection exceptions.
_TRANSIENT_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})


def is_transient(error: BaseException) -> bool:
    """Whether `error` says the database could not be reached, so that trying again later
    may succeed."""
    if isinstance(error, sa_exc.DBAPIError):
        # A connection lost in the middle of a statement: asyncpg's "connection was closed in
        # the middle of operation" is a plain DBAPIError, which SQLAlchemy marks as a
        # disconnect (the connection is invalidated, the pool replaces it).
        if error.connection_invalidated:
            return True
        sqlstate = getattr(error.orig, "sqlstate", None)
        if isinstance(sqlstate, str) and (
            sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")
        ):
            return True
    return isinstance(error, _TRANSIENT_CLASSES)


def describe_error(error: BaseException) -> str:
    """The error for a log line: its type and the driver's message, never the SQL parameters
    (SQLAlchemy's own message repeats them, and they may hold personal data)."""
    if isinstance(error, sa_exc.DBAPIError):
        return f"{type(error).__name__}: {error.orig}"
    return f"{type(error).__name__}: {error}"
