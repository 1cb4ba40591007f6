"""The floor: GET /users as a minimal Starlette app on a raw asyncpg pool.

The same two queries as the generated service's `selectinload` (the page of users, then
the projects of all of them in one statement), the same JSON, no ORM, no validation:
what the hardware, the driver and the server cost with nothing else on top. Two
statements per request by construction. Pool: 10 connections at rest, at most 30, like the
generated default (pool_size 10 + max_overflow 20).

    uvicorn --factory bench.remote.floor:create_app   (DATABASE_URL in the environment)
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

USERS = (
    "SELECT id, email, full_name, is_admin, created_at FROM users ORDER BY id LIMIT $1 OFFSET $2"
)
PROJECTS = (
    "SELECT id, owner_id, name, description, created_at FROM projects"
    " WHERE owner_id = ANY($1::integer[]) ORDER BY id"
)
MAX_LIMIT = 100


def _timestamp(value: datetime) -> str:
    # pydantic writes UTC as "Z"; asyncpg returns timestamptz in UTC.
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _bad_request(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=422)


async def list_users(request: Request) -> JSONResponse:
    try:
        limit = int(request.query_params.get("limit", 50))
        offset = int(request.query_params.get("offset", 0))
    except ValueError:
        return _bad_request("limit and offset are integers")
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        return _bad_request(f"1 <= limit <= {MAX_LIMIT}, offset >= 0")
    pool: Any = request.app.state.pool
    async with pool.acquire() as connection:
        users = await connection.fetch(USERS, limit, offset)
        projects = await connection.fetch(PROJECTS, [user["id"] for user in users])
    by_owner: dict[int, list[dict[str, Any]]] = {user["id"]: [] for user in users}
    for project in projects:
        by_owner[project["owner_id"]].append(
            {
                "id": project["id"],
                "owner_id": project["owner_id"],
                "name": project["name"],
                "description": project["description"],
                "created_at": _timestamp(project["created_at"]),
            }
        )
    return JSONResponse(
        [
            {
                "id": user["id"],
                "email": user["email"],
                "full_name": user["full_name"],
                "is_admin": user["is_admin"],
                "created_at": _timestamp(user["created_at"]),
                "projects": by_owner[user["id"]],
            }
            for user in users
        ]
    )


async def live(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    # The extra 20 closed soon after use, as SQLAlchemy closes its overflow: kept open, the
    # floor's idle connections would count against max_connections while the variants
    # measured after it open theirs (the sync variant then failed with "too many clients").
    pool = await asyncpg.create_pool(
        dsn, min_size=10, max_size=30, max_inactive_connection_lifetime=1.0
    )
    app.state.pool = pool
    try:
        yield
    finally:
        await pool.close()


def create_app() -> Starlette:
    return Starlette(
        routes=[Route("/users", list_users), Route("/health/live", live)], lifespan=lifespan
    )
