"""One session per request (or per unit of work of a job), and the transaction rule they follow."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit if the block succeeded, else roll back.

    Any exception rolls the transaction back and is re-raised. Cancellation (a
    BaseException) is covered by closing the session, which returns the connection to the
    pool, where it is rolled back. Requests (get_db) and background jobs both use it.
    """
    async with sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        await session.commit()
