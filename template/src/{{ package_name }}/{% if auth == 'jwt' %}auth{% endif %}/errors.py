"""Authentication's errors. Every 401 says as little as possible: which part of a
credential was wrong helps an attacker, not the caller."""

from ..core.errors import NotAuthenticatedError, PermissionDeniedError, TooManyAttemptsError


class InvalidCredentialsError(NotAuthenticatedError):
    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("incorrect email or password")


class InvalidTokenError(NotAuthenticatedError):
    code = "invalid_token"

    def __init__(self) -> None:
        super().__init__("missing, invalid, expired or revoked token")


class RefreshTokenReusedError(NotAuthenticatedError):
    code = "refresh_token_reused"

    def __init__(self) -> None:
        super().__init__("this refresh token was already used: the login is revoked; log in again")


class LoginThrottledError(TooManyAttemptsError):
    code = "too_many_login_failures"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "too many failed logins for this email; try again later",
            retry_after_seconds=retry_after_seconds,
        )


class AdministratorsOnlyError(PermissionDeniedError):
    code = "administrators_only"

    def __init__(self) -> None:
        super().__init__("only administrators may do this")
