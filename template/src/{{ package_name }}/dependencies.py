"""What routes depend on, in one place: the request's session and the app's shared state.

Each is an `Annotated` alias that a route or another dependency declares as a parameter
(`session: SessionDep`, `queue: JobQueueDep`, ...). A test replaces one through
app.dependency_overrides, keyed by its function (get_sessionmaker, get_job_queue, ...).
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .core.config import Settings
from .db.admission import Admission
from .db.session import session_scope
from .reports.queue import JobQueue
from .resources import Resources, resources_of

# The getters are coroutines, so that FastAPI calls them on the event loop rather than
# sending each one to its thread pool.


async def get_resources(request: Request) -> Resources:
    """Everything the lifespan built (see resources.py)."""
    return resources_of(request.app)


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return resources_of(request.app).settings


async def get_sessionmaker(request: Request) -> async_sessionmaker[AsyncSession]:
    """The app's session factory, built by the lifespan."""
    return resources_of(request.app).sessionmaker


async def get_admission(request: Request) -> Admission:
    """The admission to the app's pool (db/admission.py)."""
    return resources_of(request.app).admission


async def get_job_queue(request: Request) -> JobQueue:
    """The job queue the lifespan opened."""
    return resources_of(request.app).job_queue


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
AdmissionDep = Annotated[Admission, Depends(get_admission)]


async def get_db(
    sessionmaker: SessionmakerDep, admission: AdmissionDep
) -> AsyncIterator[AsyncSession]:
    """Wait in line for the pool (a 503 if the line is too long), then open the request's
    session; commit if the handler succeeded, else roll back.

    Any exception, handled by an exception handler or not, reaches session_scope through
    this generator, so it rolls the transaction back and is re-raised.
    """
    async with admission.permit(), session_scope(sessionmaker) as session:
        yield session


# scope="function": the commit runs when the endpoint returns, before the response is sent,
# so a failed commit becomes an error response instead of a success already delivered.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]
