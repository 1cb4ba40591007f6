"""Start-up errors that a change of set-up mends, reported in one line.

Starlette reports an exception raised by the lifespan to the server as its formatted
traceback (the ASGI `lifespan.startup.failed` message), and uvicorn logs that message and
exits with a non-zero status. When the fix is a setting, not the code, a traceback buries
the one line that says what to do: StartupErrorsInOneLine sends the error's own message
instead. Any other exception keeps its traceback.
"""

import sys

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StartupError(Exception):
    """The service cannot start as configured; the message, one line, says what to change."""


class StartupErrorsInOneLine:
    """A pure ASGI middleware that touches only the lifespan's start-up failure message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_in_one_line(message: Message) -> None:
            # Starlette sends the failure from inside its `except` block: the exception being
            # handled there, which sys.exception() returns, is the one the lifespan raised.
            error = sys.exception()
            if message["type"] == "lifespan.startup.failed" and isinstance(error, StartupError):
                message = {**message, "message": str(error)}
            await send(message)

        await self.app(scope, receive, send_in_one_line)
