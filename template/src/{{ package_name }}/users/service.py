"""Users: every query and rule of the domain. Receives a session, never a Request."""

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ..projects.models import Project
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


# What a listing selects: the columns UserPublic and ProjectPublic show.
USER_COLUMNS = (User.id, User.email, User.full_name, User.created_at)
PROJECT_COLUMNS = (
    Project.id,
    Project.owner_id,
    Project.name,
    Project.description,
    Project.created_at,
)


async def list_users(session: AsyncSession, *, limit: int, offset: int) -> list[dict[str, Any]]:
    """A page of users by id, each with its projects: one mapping per user, shaped like
    UserWithProjects.

    Two statements whatever the page size: one for the users, one for the projects of all
    of them. They select the columns the response needs instead of User and Project
    entities: building hundreds of entities (identity map, change tracking) costs most of a
    list request's CPU, and a listing modifies nothing. Single-object reads and writes use
    the entities (get_user, create_user).
    """
    page = select(*USER_COLUMNS).order_by(User.id).limit(limit).offset(offset)
    users = (await session.execute(page)).mappings().all()
    if not users:
        return []
    owned = select(*PROJECT_COLUMNS).where(Project.owner_id.in_([user["id"] for user in users]))
    projects: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for project in (await session.execute(owned.order_by(Project.id))).mappings():
        projects[project["owner_id"]].append(dict(project))
    return [{**user, "projects": projects[user["id"]]} for user in users]
