"""The projects API: validate input, call the service, return a schema."""

from fastapi import APIRouter, status

from ..core.fields import IdPath
from ..dependencies import SessionDep
from ..users.dependencies import ValidUser
from . import service
from .schemas import ProjectCreate, ProjectPublic

router = APIRouter(tags=["projects"])


# user_id is read by the ValidUser dependency, which ruff's FAST003 does not follow.
@router.post("/users/{user_id}/projects", status_code=status.HTTP_201_CREATED)  # noqa: FAST003
async def create_project(
    payload: ProjectCreate, owner: ValidUser, session: SessionDep
) -> ProjectPublic:
    project = await service.create_project(
        session, owner=owner, name=payload.name, description=payload.description
    )
    return ProjectPublic.model_validate(project)


@router.get("/users/{user_id}/projects")  # noqa: FAST003
async def list_user_projects(owner: ValidUser, session: SessionDep) -> list[ProjectPublic]:
    projects = await service.list_projects(session, owner_id=owner.id)
    return [ProjectPublic.model_validate(project) for project in projects]


@router.get("/projects/{project_id}")
async def get_project(project_id: IdPath, session: SessionDep) -> ProjectPublic:
    project = await service.get_project(session, project_id=project_id)
    return ProjectPublic.model_validate(project)
