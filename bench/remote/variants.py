"""uvicorn factories for the variants of the generated service, each the smallest change to it.

Every factory builds the real generated app (`create_app()` of the package named by
BENCH_PACKAGE) and swaps one route or dependency, so the middleware (request log with its
SQL count), the lifespan, the settings, the models and the schemas are the generated ones:

- `create_nplus1_app`: GET /users loads each user's projects lazily, one SELECT per user
  (the N+1 pattern; the generated listing sends two statements for any page).
- `create_sync_app`: GET /users as a `def` route on a sync engine and sync sessions (the
  common tutorial shape), with the same two statements, pool sizes and transaction rule.
- `create_no_token_check_app`: the generated GET /users with its administrator check
  (`auth.dependencies.admin_user`) answered by a fixed administrator, without any I/O.
- `create_no_telemetry_app`: the generated app with its metrics switched off
  (METRICS_ENABLED=false) and without the request-id middleware: what they cost.
- `create_inline_jobs_app`, `create_process_jobs_app`: the generated report job
  (POST /projects/{id}/report) with its CPU part run on the event loop, or in a process
  pool, instead of the generated asyncio.to_thread.

The routes that replace GET /users (N+1, sync) check no token: what they compare with is
the no-token-check app.

This module is imported by uvicorn in the generated project's environment; the generated
package is only known at run time, so its objects are typed `Any` here.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import multiprocessing
import os
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from types import GenericAlias, SimpleNamespace
from typing import Annotated, Any

from fastapi import Depends, Query
from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, lazyload, sessionmaker

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]


def _generated(module: str) -> Any:
    return importlib.import_module(f"{os.environ['BENCH_PACKAGE']}.{module}")


def _replace_route(app: Any, path: str, method: str, endpoint: Callable[..., Any]) -> None:
    """Serve `method path` with `endpoint`, typed by the generated response schema.

    The new route goes first: the first full match wins, so the generated route for the
    same path and method is never reached. (Removing it is not an option: FastAPI may keep
    an included router as one entry of `app.router.routes`.)
    """
    # GenericAlias is list[UserWithProjects], for a class known only at run time.
    response_model = GenericAlias(list, (_generated("users.schemas").UserWithProjects,))
    app.add_api_route(path, endpoint, methods=[method], response_model=response_model)
    app.router.routes.insert(0, app.router.routes.pop())


def _wrap_lifespan(app: Any, extra: Lifespan) -> None:
    """Run `extra` inside the generated lifespan (engine first, then the variant's state)."""
    generated: Lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with generated(app), extra(app):
            yield

    app.router.lifespan_context = lifespan


def _page_parameters(endpoint: Callable[..., Any], session: Any) -> None:
    # The dependency and query declarations are objects of the generated package, only
    # known at run time, so they are set as annotations here (FastAPI reads them from the
    # signature) instead of being written in the def.
    endpoint.__annotations__.update(
        session=session,
        limit=Annotated[int, Query(ge=1, le=100)],
        offset=Annotated[int, Query(ge=0)],
    )


def create_nplus1_app() -> Any:
    app = _generated("main").create_app()
    user_model = _generated("users.models").User
    schema = _generated("users.schemas").UserWithProjects

    async def list_users(session: Any, limit: int = 50, offset: int = 0) -> list[Any]:
        statement = (
            select(user_model)
            .options(lazyload(user_model.projects))
            .order_by(user_model.id)
            .limit(limit)
            .offset(offset)
        )

        def load(sync_session: Session) -> list[Any]:
            users = sync_session.scalars(statement).all()
            # Validation reads user.projects: one lazy SELECT per user, as in sync ORM code.
            return [schema.model_validate(user) for user in users]

        result: list[Any] = await session.run_sync(load)
        return result

    _page_parameters(list_users, _generated("dependencies").SessionDep)
    _replace_route(app, "/users", "GET", list_users)
    return app


def create_sync_app() -> Any:
    app = _generated("main").create_app()
    settings = _generated("core.config").get_settings()  # what create_app() was given
    service = _generated("users.service")
    schemas = _generated("users.schemas")
    as_dicts = _generated("db.rows").as_dicts
    # The generated pool settings, on psycopg (3) instead of asyncpg.
    engine = create_engine(
        make_url(settings.DATABASE_URL).set(drivername="postgresql+psycopg"),
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT,
        pool_recycle=settings.DB_POOL_RECYCLE,
        pool_pre_ping=True,
    )
    # The request log counts statements through `engine.sync_engine`; a sync engine is its
    # own sync engine, so the generated counter needs only this stand-in to see it.
    _generated("core.logging").track_sql_statements(SimpleNamespace(sync_engine=engine))
    make_session = sessionmaker(engine, expire_on_commit=False)

    def get_sync_db() -> Iterator[Session]:
        # The generated transaction rule (commit after success, roll back on error), sync.
        with make_session() as session:
            try:
                yield session
            except Exception:
                session.rollback()
                raise
            session.commit()

    def list_users(session: Any, limit: int = 50, offset: int = 0) -> Any:
        # The generated service's two statements and its page validation
        # (users.service.list_users, users.router.list_users), run sync.
        users = as_dicts(session.execute(service.USERS_PAGE, {"limit": limit, "offset": offset}))
        projects: dict[int, list[Any]] = {user["id"]: [] for user in users}
        if users:
            owned = session.execute(service.PROJECTS_OF_OWNERS, {"owner_ids": list(projects)})
            for project in as_dicts(owned):
                projects[project["owner_id"]].append(project)
        for user in users:
            user["projects"] = projects[user["id"]]
        return schemas.USERS_WITH_PROJECTS.validate_python(users)

    @asynccontextmanager
    async def dispose(_app: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            engine.dispose()

    _page_parameters(list_users, Annotated[Session, Depends(get_sync_db, scope="function")])
    _replace_route(app, "/users", "GET", list_users)
    _wrap_lifespan(app, dispose)
    return app


def create_no_token_check_app() -> Any:
    app = _generated("main").create_app()
    generated = _generated("users.router").list_users
    # Transient, never added to a session: the listing only requires that there is one.
    admin = _generated("users.models").User(
        id=1, email="admin@example.com", full_name="Administrator", is_admin=True
    )

    # async: FastAPI runs a plain `def` dependency in its threadpool, a cost the generated
    # check does not have.
    async def fixed_admin() -> Any:
        return admin

    async def list_users(**arguments: Any) -> Any:
        return await generated(**arguments)

    # The generated endpoint, its administrator parameter answered by fixed_admin. Not
    # app.dependency_overrides: with any override set, FastAPI analyses the signature of
    # every dependency of every request again, a cost the generated app does not have.
    signature = inspect.signature(generated)
    list_users.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[
            parameter.replace(annotation=Annotated[Any, Depends(fixed_admin)])
            if parameter.name == "_admin"
            else parameter
            for parameter in signature.parameters.values()
        ]
    )
    _replace_route(app, "/users", "GET", list_users)
    return app


def create_no_telemetry_app() -> Any:
    settings = _generated("core.config").get_settings()
    app = _generated("main").create_app(settings.model_copy(update={"METRICS_ENABLED": False}))
    # Before the first request: Starlette builds its middleware stack from this list then.
    app.user_middleware = [
        middleware
        for middleware in app.user_middleware
        if middleware.cls.__name__ != "CorrelationIdMiddleware"
    ]
    return app


class _JobQueue:
    """The generated worker=none job queue with another place for the CPU part.

    The same job (reports.service.run_report) as an asyncio task of the API process; only
    its `offload` differs from the generated queue, which passes asyncio.to_thread.
    """

    def __init__(self, sessionmaker: Any, offload: Any) -> None:
        self._sessionmaker = sessionmaker
        self._offload = offload
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue_report(self, report_id: Any) -> None:
        run_report = _generated("reports.service").run_report
        task = asyncio.create_task(run_report(self._sessionmaker, report_id, offload=self._offload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _with_job_queue(offload: Callable[[], AbstractAsyncContextManager[Any]]) -> Any:
    """The generated app, its job queue replaced by one whose offload `offload()` opens."""
    app = _generated("main").create_app()

    @asynccontextmanager
    async def queue(app: Any) -> AsyncIterator[None]:
        async with offload() as run:
            bench_queue = _JobQueue(_generated("resources").resources_of(app).sessionmaker, run)
            app.dependency_overrides[_generated("dependencies").get_job_queue] = lambda: bench_queue
            try:
                yield
            finally:
                # Before the generated lifespan disposes of the engine the jobs use.
                await bench_queue.aclose()

    _wrap_lifespan(app, queue)
    return app


def create_inline_jobs_app() -> Any:
    """Reports computed on the event loop itself (reports.service.run_inline)."""

    @asynccontextmanager
    async def inline() -> AsyncIterator[Any]:
        yield _generated("reports.service").run_inline

    return _with_job_queue(inline)


def create_process_jobs_app() -> Any:
    """Reports computed in a process pool, as a worker process would."""

    @asynccontextmanager
    async def processes() -> AsyncIterator[Any]:
        # spawn, not fork: forking a process that runs an event loop copies its threads'
        # locks in whatever state they are in.
        executor = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
        loop = asyncio.get_running_loop()
        # Started now, so that no measured job pays for the interpreters' start.
        await asyncio.gather(
            *(loop.run_in_executor(executor, os.getpid) for _ in range(os.cpu_count() or 1))
        )

        async def in_process(compute: Callable[[Any], Any], data: Any) -> Any:
            return await loop.run_in_executor(executor, compute, data)

        try:
            yield in_process
        finally:
            executor.shutdown(cancel_futures=True)

    return _with_job_queue(processes)
