"""Access tokens: short-lived JWTs, signed with HS256 (PyJWT).

An access token names its user (`sub`) and its login (`sid`, the refresh token family), so
that revoking the login (logout, reuse of a refresh token) ends the access token too: the
CurrentUser dependency checks the family on every request.

Verification pins the one algorithm this service signs with, so a token that names another
one (`alg: none`, or RS256 with the key as a "public key") is refused, and requires every
claim below. A token signed with SECRET_KEY_PREVIOUS still verifies: a key is rotated by
moving it there and setting a new SECRET_KEY, and nobody is logged out.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from ..core.config import Settings
from .errors import InvalidTokenError

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud", "sid"]


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    family_id: uuid.UUID


def issue_access_token(
    settings: Settings, *, user_id: int, family_id: uuid.UUID, now: datetime
) -> str:
    """A signed access token for `user_id`, valid ACCESS_TOKEN_MINUTES from `now`."""
    claims = {
        "sub": str(user_id),
        "sid": str(family_id),
        "iss": settings.TOKEN_ISSUER,
        "aud": settings.TOKEN_AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=settings.ACCESS_TOKEN_MINUTES),
    }
    return jwt.encode(claims, settings.SECRET_KEY.get_secret_value(), algorithm=ALGORITHM)


def read_access_token(settings: Settings, token: str) -> AccessClaims:
    """The claims of a valid token; InvalidTokenError for anything else."""
    keys = [settings.SECRET_KEY]
    if settings.SECRET_KEY_PREVIOUS is not None:
        keys.append(settings.SECRET_KEY_PREVIOUS)
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key.get_secret_value(),
                algorithms=[ALGORITHM],
                audience=settings.TOKEN_AUDIENCE,
                issuer=settings.TOKEN_ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.InvalidSignatureError:
            continue  # perhaps signed with the previous key
        except jwt.InvalidTokenError as error:
            raise InvalidTokenError from error
        return _claims(claims)
    raise InvalidTokenError


def _claims(claims: dict[str, object]) -> AccessClaims:
    try:
        return AccessClaims(
            user_id=int(str(claims["sub"])), family_id=uuid.UUID(str(claims["sid"]))
        )
    except ValueError as error:  # well signed, so ours, but not of this shape
        raise InvalidTokenError from error
