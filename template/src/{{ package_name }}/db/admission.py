"""Admission to the pool: requests wait for a connection in line, and never for long.

SQLAlchemy's pool hands a freed connection to whichever waiting task the event loop runs
first, not to the one that has waited longest: under overload a few requests wait until
DB_POOL_TIMEOUT while later ones pass them (the benchmark measured a p99 of 5 s and a
maximum of 9 s at 200 clients against the default pool). get_db waits here first, for a
permit: one per connection the pool may open, handed out by an asyncio.Semaphore, whose
waiters are woken in the order they came. A request that finds DB_QUEUE_LIMIT others
waiting, or waits DB_QUEUE_TIMEOUT seconds, is answered at once: 503 with Retry-After
(OverloadedError), which a client or a load balancer can retry elsewhere, rather than
an answer too late to be of use.

Written by hand, in a dependency rather than a middleware: only here is it known that a
request needs a connection, and it needs one permit for as long as it holds its session.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ..core.errors import UnavailableError


class OverloadedError(UnavailableError):
    code = "overloaded"

    def __init__(self) -> None:
        super().__init__("too many requests wait for the database; retry", retry_after_seconds=1)


class Admission:
    """Permits to use the pool, first come first served, with a bounded line."""

    def __init__(self, *, permits: int, queue_limit: int, timeout: float) -> None:
        self._permits = asyncio.Semaphore(permits)
        self._queue_limit = queue_limit
        self._timeout = timeout
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """The requests in line now."""
        return self._waiting

    @asynccontextmanager
    async def permit(self) -> AsyncIterator[None]:
        """Hold a permit for the block: at once if one is free, else in line, or raise
        OverloadedError when the line is full or the wait too long."""
        if self._permits.locked() and self._waiting >= self._queue_limit:
            raise OverloadedError
        self._waiting += 1
        try:
            async with asyncio.timeout(self._timeout):
                await self._permits.acquire()
        except TimeoutError:
            raise OverloadedError from None
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._permits.release()
