"""Health probes: liveness (the process answers) and readiness (its dependencies answer).

Readiness runs every check of READINESS_CHECKS, concurrently, each under a timeout. A new
dependency (a message broker, a cache) adds its check to that mapping.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, FastAPI, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/health", tags=["health"])

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]

CHECK_TIMEOUT_SECONDS = 3.0


async def check_database(app: FastAPI) -> None:
    """Run SELECT 1 on a pooled connection of the app's engine."""
    engine: AsyncEngine = app.state.engine
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


READINESS_CHECKS: dict[str, ReadinessCheck] = {"database": check_database}


async def _run_check(name: str, check: ReadinessCheck, app: FastAPI) -> bool:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check(app)
    except Exception as exc:  # any failure means "not ready"; the reason goes to the log
        logger.warning("readiness check %r failed: %s: %s", name, type(exc).__name__, exc)
        return False
    return True


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving; no I/O."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"description": "A dependency is down"}},
)
async def ready(request: Request) -> JSONResponse:
    """200 when every dependency answers, 503 with the failing ones named otherwise."""
    names = list(READINESS_CHECKS)
    results = await asyncio.gather(
        *(_run_check(name, READINESS_CHECKS[name], request.app) for name in names)
    )
    checks = {name: "ok" if ok else "unavailable" for name, ok in zip(names, results, strict=True)}
    ready = all(results)
    return JSONResponse(
        status_code=status.HTTP_200_OK if ready else status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"status": "ok" if ready else "unavailable", "checks": checks},
    )
