"""Login throttling: after LOGIN_MAX_FAILURES failed logins for one email within
LOGIN_WINDOW_SECONDS, that email is refused (429) until enough failures leave the window.

The failures are rows of login_failures, so every API process and replica counts the same
ones. Refusing happens before any password hash is computed: a locked email costs the
service a query, not a hash.
"""

import math
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.config import Settings
from .errors import LoginThrottledError
from .models import LoginFailure


async def refuse_if_locked(
    session: AsyncSession, settings: Settings, *, email: str, now: datetime
) -> None:
    """Raise LoginThrottledError, with how long to wait, if `email` has too many failures."""
    window = timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    # The most recent failures, up to the limit: the email is locked until the oldest of
    # them leaves the window (then fewer than the limit remain in it).
    recent = (
        await session.scalars(
            select(LoginFailure.failed_at)
            .where(LoginFailure.email == email, LoginFailure.failed_at > now - window)
            .order_by(LoginFailure.failed_at.desc())
            .limit(settings.LOGIN_MAX_FAILURES)
        )
    ).all()
    if len(recent) < settings.LOGIN_MAX_FAILURES:
        return
    unlocked_at = recent[-1] + window
    raise LoginThrottledError(max(1, math.ceil((unlocked_at - now).total_seconds())))


async def record_failure(
    session: AsyncSession, settings: Settings, *, email: str, now: datetime
) -> None:
    """Count a failed login for `email`, and commit it: the request ends in an error, and
    get_db rolls back whatever is not committed.

    Failures that left the window are deleted afterwards, in a statement of their own, so
    the table holds only the current window's rows.
    """
    session.add(LoginFailure(email=email, failed_at=now))
    await session.commit()
    cutoff = now - timedelta(seconds=settings.LOGIN_WINDOW_SECONDS)
    await session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= cutoff))
    await session.commit()


async def forget_failures(session: AsyncSession, *, email: str) -> None:
    """A successful login starts the count of `email` again."""
    await session.execute(delete(LoginFailure).where(LoginFailure.email == email))
