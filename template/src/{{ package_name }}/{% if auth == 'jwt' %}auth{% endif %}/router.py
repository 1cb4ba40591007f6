"""The authentication API: log in (OAuth2's password flow), refresh, log out."""

from typing import Annotated

from fastapi import APIRouter, Form, status

from ..core.responses import UnreadableBodyError, error_responses
from ..dependencies import SessionDep, SettingsDep
from . import service
from .errors import (
    InvalidCredentialsError,
    InvalidTokenError,
    LoginThrottledError,
    RefreshTokenReusedError,
)
from .schemas import LoginForm, RefreshRequest, TokenPair

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    responses=error_responses(UnreadableBodyError, InvalidCredentialsError, LoginThrottledError),
)
async def log_in(
    form: Annotated[LoginForm, Form()], session: SessionDep, settings: SettingsDep
) -> TokenPair:
    """Exchange an email (`username`) and password for an access and a refresh token."""
    tokens = await service.log_in(
        session, settings, email=form.username, password=form.password.get_secret_value()
    )
    return TokenPair.model_validate(tokens)


@router.post(
    "/refresh",
    responses=error_responses(UnreadableBodyError, InvalidTokenError, RefreshTokenReusedError),
)
async def refresh(payload: RefreshRequest, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Exchange a refresh token, once, for the next pair."""
    tokens = await service.refresh(
        session, settings, refresh_token=payload.refresh_token.get_secret_value()
    )
    return TokenPair.model_validate(tokens)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(UnreadableBodyError),
)
async def log_out(payload: RefreshRequest, session: SessionDep) -> None:
    """Revoke the login of this refresh token, with its access tokens."""
    await service.log_out(session, refresh_token=payload.refresh_token.get_secret_value())
