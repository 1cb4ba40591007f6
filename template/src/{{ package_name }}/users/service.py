"""Users: every query and rule of the domain. Receives a session, never a Request."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from .errors import EmailAlreadyRegisteredError, UserNotFoundError
from .models import User
from .security import hash_password


async def create_user(session: AsyncSession, *, email: str, full_name: str, password: str) -> User:
    """Create a user; raise EmailAlreadyRegisteredError if the email is taken.

    The flush sends the INSERT now, so the unique constraint answers here, inside the
    service, rather than at commit time. The caller (get_db) rolls back on the error.
    """
    user = User(email=email, full_name=full_name, hashed_password=await hash_password(password))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise EmailAlreadyRegisteredError(email) from exc
    return user


async def get_user(session: AsyncSession, *, user_id: int, with_projects: bool = False) -> User:
    """The user `user_id`, with its projects loaded if asked; raise UserNotFoundError."""
    statement = select(User).where(User.id == user_id)
    if with_projects:
        statement = statement.options(selectinload(User.projects))
    user = await session.scalar(statement)
    if user is None:
        raise UserNotFoundError(user_id)
    return user


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> Sequence[User]:
    """A page of users by id, each with its projects.

    Two statements whatever the page size: one for the users, one (selectinload) for the
    projects of all of them.
    """
    statement = (
        select(User)
        .options(selectinload(User.projects))
        .order_by(User.id)
        .limit(limit)
        .offset(offset)
    )
    return (await session.scalars(statement)).all()
