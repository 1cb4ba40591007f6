"""The test database's migrations, and a statement recorder.

The tests never touch the database that DATABASE_URL names: they use its twin
(tests/twin_database.py), brought to the latest revision by the migrations once per session.
"""

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"

# The type of the count_queries fixture: `with count_queries() as statements: ...`
CountQueries = Callable[[], AbstractContextManager[list[str]]]


def alembic_config(connection: Connection) -> Config:
    """The project's alembic.ini, with migrations run on `connection` (see migrations/env.py)."""
    config = Config(ALEMBIC_INI)
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str = "base") -> None:
    command.downgrade(alembic_config(connection), revision)


@contextmanager
def recording_statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Record the SQL of every statement `engine` sends while the block runs."""
    statements: list[str] = []

    def record(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
