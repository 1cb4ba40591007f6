"""Projects: every query and rule of the domain. Receives a session, never a Request."""

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..users.models import User
from .errors import ProjectNotFoundError
from .models import Project


async def create_project(
    session: AsyncSession, *, owner: User, name: str, description: str | None = None
) -> Project:
    """Create a project owned by `owner`."""
    # Set by key, not through `owner=`: the back-reference would touch owner.projects,
    # which is not loaded (and lazy="raise").
    project = Project(owner_id=owner.id, name=name, description=description)
    session.add(project)
    await session.flush()
    return project


async def list_projects(session: AsyncSession, *, owner_id: int) -> Sequence[Project]:
    """The projects of one user, by id."""
    statement = select(Project).where(Project.owner_id == owner_id).order_by(Project.id)
    return (await session.scalars(statement)).all()


async def get_project(session: AsyncSession, *, project_id: int) -> Project:
    """The project `project_id`; raise ProjectNotFoundError."""
    project = await session.get(Project, project_id)
    if project is None:
        raise ProjectNotFoundError(project_id)
    return project
