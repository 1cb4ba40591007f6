"""Where the CPU of one GET /users?limit=50 goes, without HTTP: its parts timed in process.

Each way of producing the page is run in turn, in rounds, inside one process on the
generated engine and sessions, and timed in CPU seconds (time.process_time): what the
service's process spends per page, without the load generator or the HTTP server. The
process holds the generated app, and freezes its heap as the app's lifespan does, so that
the garbage collector has as much to walk as in the server. The ways, each the smallest
change to the generated code:

- generated: users.service.list_users in the generated session_scope, validated as the
  route validates it (users.schemas.USERS_WITH_PROJECTS) and serialized to JSON;
- rows as mappings: generated, with the rows as SQLAlchemy RowMappings instead of dicts;
- heap not frozen: generated, without gc.freeze();
- before: the listing as first written (statements built per request, rows as mappings,
  each user validated on its own), without gc.freeze();
- no pre-ping: generated, on the same engine settings without pool_pre_ping;
- statements only: generated, without the validation and the JSON;
- raw asyncpg: the floor's two queries on an asyncpg pool, no session, no transaction,
  validated and serialized as generated.

    python -m bench.remote.listcost --rounds 5 --pages 200   (DATABASE_URL in the env)

Prints {way: [CPU ms per page, one per round]}: rounds interleave the ways, so the
report compares ways round by round (paired). Typed Any where the generated package is, as in
bench/remote/variants.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvloop
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bench.remote.floor import PROJECTS, USERS

LIMIT = 50


@dataclass(frozen=True)
class Way:
    page: Callable[[], Awaitable[object]]
    frozen_heap: bool = True


def _generated(module: str) -> Any:
    return importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.{module}")


async def _before(session: Any) -> list[Any]:
    """The listing as first written: statements built per request, rows as mappings."""
    service, schemas = _generated("users.service"), _generated("users.schemas")
    user, project = _generated("users.models").User, _generated("projects.models").Project
    users_page = service.USERS_PAGE.selected_columns
    page = select(*users_page).order_by(user.id).limit(LIMIT).offset(0)
    users = (await session.execute(page)).mappings().all()
    owned = select(*service.PROJECTS_OF_OWNERS.selected_columns).where(
        project.owner_id.in_([row["id"] for row in users])
    )
    projects: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (await session.execute(owned.order_by(project.id))).mappings():
        projects[row["owner_id"]].append(dict(row))
    return [
        schemas.UserWithProjects.model_validate({**row, "projects": projects[row["id"]]})
        for row in users
    ]


async def _rows_as_mappings(session: Any) -> list[dict[str, Any]]:
    """The generated listing with the rows as RowMappings, as before db/rows.py."""
    service = _generated("users.service")
    parameters = {"limit": LIMIT, "offset": 0}
    users = (await session.execute(service.USERS_PAGE, parameters)).mappings().all()
    owner_ids = [user["id"] for user in users]
    owned = await session.execute(service.PROJECTS_OF_OWNERS, {"owner_ids": owner_ids})
    projects: defaultdict[int, list[Any]] = defaultdict(list)
    for project in owned.mappings():
        projects[project["owner_id"]].append(project)
    return [{**user, "projects": projects[user["id"]]} for user in users]


async def _measure(ways: dict[str, Way], rounds: int, per_round: int) -> dict[str, list[float]]:
    for way in ways.values():  # warm every cache before timing anything
        for _ in range(20):
            await way.page()
    timings: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(rounds):
        for name, way in ways.items():
            if not way.frozen_heap:
                gc.unfreeze()
            start = time.process_time()
            for _ in range(per_round):
                await way.page()
            timings[name].append(1000 * (time.process_time() - start) / per_round)
            if not way.frozen_heap:  # as the lifespan left it
                gc.collect()
                gc.freeze()
    return timings


async def main(rounds: int, per_round: int) -> dict[str, list[float]]:
    settings = _generated("core.config").get_settings()
    app = _generated("main").create_app(settings)  # the server's heap: every module, route
    engine_module = _generated("db.engine")
    session_scope = _generated("db.session").session_scope
    service, schemas = _generated("users.service"), _generated("users.schemas")
    page_schema = schemas.USERS_WITH_PROJECTS
    engine = engine_module.build_engine(settings)
    unpinged = create_async_engine(
        settings.DATABASE_URL,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_pre_ping=False,
    )
    _generated("core.logging").track_sql_statements(unpinged)  # as build_engine does
    pool = await asyncpg.create_pool(
        settings.DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://", 1),
        min_size=1,
        max_size=1,
    )

    async def generated_listing(session: Any) -> Any:
        return await service.list_users(session, limit=LIMIT, offset=0)

    def generated(
        sessionmaker: Any, *, validate: bool = True, listing: Any = generated_listing
    ) -> Any:
        async def page() -> object:
            async with session_scope(sessionmaker) as session:
                users = await listing(session)
            if not validate:
                return users
            return page_schema.dump_json(page_schema.validate_python(users))

        return page

    sessions = engine_module.build_sessionmaker(engine)

    async def before() -> object:
        async with session_scope(sessions) as session:
            users = await _before(session)
        return page_schema.dump_json(users)

    async def raw() -> object:
        async with pool.acquire() as connection:
            users = await connection.fetch(USERS, LIMIT, 0)
            projects = await connection.fetch(PROJECTS, [user["id"] for user in users])
        by_owner: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
        for project in projects:
            by_owner[project["owner_id"]].append(dict(project))
        rows = [{**user, "projects": by_owner[user["id"]]} for user in users]
        return page_schema.dump_json(page_schema.validate_python(rows))

    ways = {
        "generated": Way(generated(sessions)),
        "rows as mappings": Way(generated(sessions, listing=_rows_as_mappings)),
        "heap not frozen": Way(generated(sessions), frozen_heap=False),
        "before": Way(before, frozen_heap=False),
        "no pre-ping": Way(generated(engine_module.build_sessionmaker(unpinged))),
        "statements only": Way(generated(sessions, validate=False)),
        "raw asyncpg": Way(raw),
    }
    try:
        json_pages = {
            name: await way.page() for name, way in ways.items() if name != "statements only"
        }
        if len(set(json_pages.values())) != 1:
            raise SystemExit(f"the ways return different JSON: {sorted(json_pages)}")
        gc.collect()
        gc.freeze()  # as the app's lifespan does once started
        return await _measure(ways, rounds, per_round)
    finally:
        del app
        await pool.close()
        await engine.dispose()
        await unpinged.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pages", type=int, default=200, help="pages per way and round")
    args = parser.parse_args()
    # The event loop uvicorn runs the service on.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        print(json.dumps(runner.run(main(args.rounds, args.pages))))
