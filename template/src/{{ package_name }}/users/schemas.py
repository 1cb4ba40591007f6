"""The users API's request and response bodies."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, SecretStr

from ..core.fields import STORED_TEXT
from ..projects.schemas import ProjectPublic
from .models import FULL_NAME_MAX_LENGTH

PASSWORD_MIN_LENGTH = 8
PASSWORD_MAX_LENGTH = 128


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Lower-cased: "Ann@Example.com" and "ann@example.com" are the same account.
    email: Annotated[EmailStr, AfterValidator(str.lower)]
    full_name: str = Field(min_length=1, max_length=FULL_NAME_MAX_LENGTH, pattern=STORED_TEXT)
    password: SecretStr = Field(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    created_at: datetime


class UserWithProjects(UserPublic):
    projects: list[ProjectPublic]
