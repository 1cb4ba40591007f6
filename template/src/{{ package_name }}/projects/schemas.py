"""The projects API's request and response bodies."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ..core.fields import NON_BLANK_TEXT, STORED_TEXT
from .models import DESCRIPTION_MAX_LENGTH, NAME_MAX_LENGTH


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=NAME_MAX_LENGTH, pattern=NON_BLANK_TEXT)
    description: str | None = Field(
        default=None, max_length=DESCRIPTION_MAX_LENGTH, pattern=STORED_TEXT
    )


class ProjectPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    name: str
    description: str | None
    created_at: datetime
