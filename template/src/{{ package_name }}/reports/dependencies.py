"""Dependencies of the reports API: what the lifespan built, read from app.state."""

from typing import Annotated

from fastapi import Depends, Request

from ..core.config import Settings
from .queue import JobQueue


def get_job_queue(request: Request) -> JobQueue:
    """The job queue the lifespan opened."""
    queue: JobQueue = request.app.state.job_queue
    return queue


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


JobQueueDep = Annotated[JobQueue, Depends(get_job_queue)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
