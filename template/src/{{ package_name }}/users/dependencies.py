"""Dependencies that validate path parameters against the database."""

from typing import Annotated

from fastapi import Depends

from ..core.fields import IdPath
from ..dependencies import SessionDep
from . import service
from .models import User


async def valid_user_id(user_id: IdPath, session: SessionDep) -> User:
    """The user named by the `user_id` path parameter, or a 404 (UserNotFoundError)."""
    return await service.get_user(session, user_id=user_id)


ValidUser = Annotated[User, Depends(valid_user_id)]
