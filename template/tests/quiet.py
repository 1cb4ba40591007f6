"""Proof that shutting something down is quiet: its connections are closed by their owner,
not left for the garbage collector, and nothing is warned or logged as a problem."""

import gc
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool


@contextmanager
def nothing_complains(
    caplog: pytest.LogCaptureFixture, *, except_from: str | None = None
) -> Iterator[None]:
    """Fail if the block warns or logs at WARNING or above (loggers under `except_from`,
    whose warnings the block causes on purpose, aside), or leaves a connection unclosed."""
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()  # a connection nobody closed would complain now

    noise = [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and not (except_from and record.name.startswith(except_from))
    ]
    assert noise == []
    assert [str(warning.message) for warning in caught] == []


def pool_of(engine: AsyncEngine) -> QueuePool:
    """The engine's pool, to count its connections."""
    pool = engine.pool
    assert isinstance(pool, QueuePool)
    return pool


async def select_one(engine: AsyncEngine) -> None:
    """Open one of the engine's connections (it stays in the pool) and use it."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
