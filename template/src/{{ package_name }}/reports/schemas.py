"""The reports API's response bodies."""

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from .models import ReportStatus


class ReportAccepted(BaseModel):
    """The answer to a report request (202): where to follow the job."""

    id: uuid.UUID
    status: ReportStatus
    status_url: str


class ReportResultPublic(BaseModel):
    owner: str
    tasks: int
    simulations: int
    mean_days: float
    p50_days: float
    p90_days: float
    top_words: list[tuple[str, int]]


class ReportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    project_id: int
    status: ReportStatus
    simulations: int
    attempts: int
    result: ReportResultPublic | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
