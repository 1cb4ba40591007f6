"""Who is calling: `user: CurrentUser` in a route requires a valid access token,
`admin: AdminUser` an administrator's. Declared once, here; services receive the user."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from ..dependencies import SessionDep, SettingsDep
from ..users.models import User
from . import service
from .errors import AdministratorsOnlyError, InvalidTokenError

# Declares the scheme in the OpenAPI schema (the "Authorize" button of /docs) and reads the
# Authorization header. auto_error=False: a missing token gets this API's own 401 body.
bearer_token = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


async def current_user(
    token: Annotated[str | None, Depends(bearer_token)],
    session: SessionDep,
    settings: SettingsDep,
) -> User:
    """The user of the request's access token; 401 without a valid one."""
    if token is None:
        raise InvalidTokenError
    return await service.authenticate(session, settings, access_token=token)


CurrentUser = Annotated[User, Depends(current_user)]


async def admin_user(user: CurrentUser) -> User:
    """The current user if an administrator; 403 for anybody else."""
    if not user.is_admin:
        raise AdministratorsOnlyError
    return user


AdminUser = Annotated[User, Depends(admin_user)]
