"""Authentication: every rule of logging in, refreshing, logging out and recognising a
token. Receives a session and the settings, never a Request.

A login starts a family of refresh tokens (see models.RefreshToken). Each refresh uses its
token up and issues the next one of the family; a used token presented again means that
two parties hold it, one of them a thief, so the whole family is revoked: the next refresh
of either fails and the thief's access ends with the login's.
"""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.config import Settings
from ..db.types import utcnow
from ..users.models import User
from ..users.security import verify_and_rehash
from . import throttle
from .errors import InvalidCredentialsError, InvalidTokenError, RefreshTokenReusedError
from .models import RefreshToken
from .tokens import issue_access_token, read_access_token


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


async def log_in(session: AsyncSession, settings: Settings, *, email: str, password: str) -> Tokens:
    """Tokens for the user with this email and password.

    Raises LoginThrottledError (before any hash is computed) when the email has too many
    recent failures, and InvalidCredentialsError for a wrong email or password: the same
    error, after the same work (one hash), whether the email is registered or not.
    """
    email = email.strip().lower()
    now = utcnow()
    await throttle.refuse_if_locked(session, settings, email=email, now=now)
    user = await session.scalar(select(User).where(User.email == email))
    # An unknown email is checked against no hash, which costs one hash computation all the
    # same (see verify_and_rehash): its answer and its time are those of a wrong password.
    stored = user.hashed_password if user is not None else ""
    valid, new_hash = await verify_and_rehash(password, stored)
    if user is None or not valid:
        await throttle.record_failure(session, settings, email=email, now=now)
        raise InvalidCredentialsError
    if new_hash is not None:
        user.hashed_password = new_hash
    await throttle.forget_failures(session, email=email)
    # The user's refresh tokens that expired are of no use, even to detect a reuse.
    await session.execute(
        delete(RefreshToken).where(RefreshToken.user_id == user.id, RefreshToken.expires_at < now)
    )
    return await issue_tokens(session, settings, user_id=user.id, now=now)


async def issue_tokens(
    session: AsyncSession,
    settings: Settings,
    *,
    user_id: int,
    family_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Tokens:
    """A new access token and refresh token: of a new login (family) unless one is given."""
    now = now or utcnow()
    family_id = family_id or uuid.uuid4()
    refresh_token = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=_digest(refresh_token),
            family_id=family_id,
            user_id=user_id,
            created_at=now,
            expires_at=now + timedelta(days=settings.REFRESH_TOKEN_DAYS),
        )
    )
    await session.flush()
    return Tokens(
        access_token=issue_access_token(settings, user_id=user_id, family_id=family_id, now=now),
        refresh_token=refresh_token,
        expires_in=settings.ACCESS_TOKEN_MINUTES * 60,
    )


async def refresh(session: AsyncSession, settings: Settings, *, refresh_token: str) -> Tokens:
    """The next pair of the login, in exchange for its current refresh token.

    Raises InvalidTokenError for an unknown, expired or revoked token, and
    RefreshTokenReusedError for one already used, after revoking its family.
    """
    now = utcnow()
    token = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token))
    )
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise InvalidTokenError
    # Used up in one conditional UPDATE, so that of two concurrent refreshes with the same
    # token exactly one wins, on every database (no SELECT ... FOR UPDATE needed).
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == token.id, RefreshToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke_family(session, token.family_id, now=now)
        # Committed here: the request ends in an error, and get_db rolls back the rest.
        await session.commit()
        raise RefreshTokenReusedError
    return await issue_tokens(
        session, settings, user_id=token.user_id, family_id=token.family_id, now=now
    )


async def log_out(session: AsyncSession, *, refresh_token: str) -> None:
    """Revoke the login of this refresh token: its refresh tokens and its access tokens.

    An unknown token is not an error: logging out twice ends in the same state.
    """
    family_id = await session.scalar(
        select(RefreshToken.family_id).where(RefreshToken.token_hash == _digest(refresh_token))
    )
    if family_id is not None:
        await _revoke_family(session, family_id, now=utcnow())


async def authenticate(session: AsyncSession, settings: Settings, *, access_token: str) -> User:
    """The user of a valid access token whose login is not revoked; InvalidTokenError
    otherwise. One query: the user, on condition that the login still has a live token."""
    claims = read_access_token(settings, access_token)
    login_is_live = exists().where(
        RefreshToken.family_id == claims.family_id, RefreshToken.revoked_at.is_(None)
    )
    user = await session.scalar(select(User).where(User.id == claims.user_id, login_is_live))
    if user is None:  # deleted since, or logged out
        raise InvalidTokenError
    return user


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, *, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
