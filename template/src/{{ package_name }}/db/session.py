"""One session per request, and the transaction rule every route follows."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """Open the request's session; commit if the handler succeeded, else roll back.

    Any exception, handled by an exception handler or not, rolls the transaction back and
    is re-raised. Cancellation (a BaseException) is covered by closing the session, which
    returns the connection to the pool, where it is rolled back.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except Exception:
            await session.rollback()
            raise
        await session.commit()


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a failed commit becomes an error response instead of a success already delivered.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
