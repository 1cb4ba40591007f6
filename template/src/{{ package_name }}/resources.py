"""The app's shared state: what the lifespan builds once per process, declared with its types.

create_app() is given the settings; the lifespan builds the engine, the session factory,
the admission to its pool and the job queue from them, keeps them on app.state as one
`Resources` (with the process's drain state, core/shutdown.py), and closes them at
shutdown. Requests reach them through the dependencies of dependencies.py; tests and tools
that hold the app read them with resources_of(app).
"""

from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from .core.config import Settings
from .core.shutdown import Drain
from .db.admission import Admission
from .reports.queue import JobQueue


@dataclass(frozen=True, slots=True)
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    job_queue: JobQueue
    drain: Drain
    admission: Admission


def resources_of(app: FastAPI) -> Resources:
    """The resources the lifespan of `app` built; there are none before it starts."""
    resources: Resources = app.state.resources
    return resources
