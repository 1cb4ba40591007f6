"""The users API: validate input, call the service, return a schema."""

from typing import Annotated

from fastapi import APIRouter, Query, status

from ..core.fields import MAX_INTEGER, IdPath
from ..dependencies import SessionDep
from . import service
from .schemas import UserCreate, UserPublic, UserWithProjects

router = APIRouter(prefix="/users", tags=["users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_user(payload: UserCreate, session: SessionDep) -> UserPublic:
    user = await service.create_user(
        session,
        email=payload.email,
        full_name=payload.full_name,
        password=payload.password.get_secret_value(),
    )
    return UserPublic.model_validate(user)


@router.get("")
async def list_users(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_INTEGER)] = 0,
) -> list[UserWithProjects]:
    users = await service.list_users(session, limit=limit, offset=offset)
    return [UserWithProjects.model_validate(user) for user in users]


@router.get("/{user_id}")
async def get_user(user_id: IdPath, session: SessionDep) -> UserWithProjects:
    user = await service.get_user(session, user_id=user_id, with_projects=True)
    return UserWithProjects.model_validate(user)
