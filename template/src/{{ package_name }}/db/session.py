"""One session per request (or per unit of work of a job), and the transaction rule they follow."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
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


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """Open the request's session; commit if the handler succeeded, else roll back.

    Any exception, handled by an exception handler or not, reaches session_scope through
    this generator, so it rolls the transaction back and is re-raised.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with session_scope(sessionmaker) as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a failed commit becomes an error response instead of a success already delivered.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
