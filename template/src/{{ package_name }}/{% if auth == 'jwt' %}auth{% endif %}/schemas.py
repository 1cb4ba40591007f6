"""The authentication API's request and response bodies."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from ..core.fields import STORED_TEXT
from ..users.models import EMAIL_MAX_LENGTH
from ..users.schemas import PASSWORD_MAX_LENGTH

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
REFRESH_TOKEN_MAX_LENGTH = 100


class LoginForm(BaseModel):
    """OAuth2's password flow (a form), which the "Authorize" button of /docs sends.

    `username` is the email. Other fields of the flow (scope, client_id) are ignored.
    """

    username: str = Field(min_length=1, max_length=EMAIL_MAX_LENGTH, pattern=STORED_TEXT)
    password: SecretStr = Field(min_length=1, max_length=PASSWORD_MAX_LENGTH)


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: SecretStr = Field(min_length=1, max_length=REFRESH_TOKEN_MAX_LENGTH)


class TokenPair(BaseModel):
    """An access token for the Authorization header, and the refresh token that gets the
    next pair when it expires (`expires_in` seconds from now)."""

    model_config = ConfigDict(from_attributes=True)

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a scheme's name, not a secret
    expires_in: int
