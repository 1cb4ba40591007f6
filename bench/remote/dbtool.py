"""The benchmark's own PostgreSQL databases: create, seed, watch, drop.

Run with asyncpg from the generated project's environment. Only databases whose name
starts with `bench_` are ever created or dropped. The server is reached through
BENCH_ADMIN_DSN (a libpq URL to its `postgres` database).

    python -m bench.remote.dbtool create bench_x
    python -m bench.remote.dbtool seed bench_x --users 50 --projects 5
    python -m bench.remote.dbtool watch bench_x --duration 30 --out watch.json
    python -m bench.remote.dbtool connections bench_x
    python -m bench.remote.dbtool drop bench_x
    python -m bench.remote.dbtool prune      (databases of runs whose process is gone)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

PREFIX = "bench_"
# Timestamps with and without microseconds, and descriptions with non-ASCII text and
# NULLs, so that the variants' JSON is compared on the cases where encoders differ.
EPOCH = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
# Nobody logs in as a seeded user (the benchmark's administrator is made by the generated
# admin command): a hash no hasher recognises never verifies, and real hashes would only
# slow the setup down.
UNUSABLE_HASH = "!unusable"


def _admin_dsn() -> str:
    return os.environ.get(
        "BENCH_ADMIN_DSN", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
    )


def _dsn_for(database: str) -> str:
    parts = urlsplit(_admin_dsn())
    return urlunsplit(parts._replace(path="/" + database))


def _checked(name: str) -> str:
    if not name.startswith(PREFIX) or not name.replace("_", "").isalnum():
        raise SystemExit(f"dbtool: refusing database {name!r}: bench databases are {PREFIX}*")
    return name


async def create(name: str) -> None:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def drop(name: str) -> None:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')
    finally:
        await connection.close()


async def prune() -> list[str]:
    """Drop the databases of earlier runs that died (bench_<size>_<pid>, that pid gone)."""
    connection = await asyncpg.connect(_admin_dsn())
    dropped = []
    try:
        names = await connection.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'"
        )
        for (name,) in names:
            pid = name.rpartition("_")[2]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                await connection.execute(f'DROP DATABASE IF EXISTS "{_checked(name)}" WITH (FORCE)')
                dropped.append(name)
    finally:
        await connection.close()
    return dropped


async def seed(name: str, *, users: int, projects: int) -> None:
    """`users` users with `projects` projects each, ids from 1 (the schema is migrated)."""
    connection = await asyncpg.connect(_dsn_for(_checked(name)))
    try:
        user_rows = [
            (
                i,
                f"user{i:04d}@example.com",
                f"User Nümber {i}",
                UNUSABLE_HASH,
                EPOCH + timedelta(seconds=i, microseconds=0 if i % 3 == 0 else i * 7919),
            )
            for i in range(1, users + 1)
        ]
        project_rows = [
            (
                (i - 1) * projects + j,
                i,
                f"project {j} of user {i}",
                None if j % 2 == 0 else f'Déscription «{i}.{j}» with a "quote"',
                EPOCH + timedelta(minutes=i, seconds=j, microseconds=j * 101),
            )
            for i in range(1, users + 1)
            for j in range(1, projects + 1)
        ]
        async with connection.transaction():
            await connection.execute("TRUNCATE users, projects RESTART IDENTITY CASCADE")
            await connection.copy_records_to_table(
                "users",
                records=user_rows,
                columns=["id", "email", "full_name", "hashed_password", "created_at"],
            )
            await connection.copy_records_to_table(
                "projects",
                records=project_rows,
                columns=["id", "owner_id", "name", "description", "created_at"],
            )
            # Later inserts through the API must not collide with the seeded ids.
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), $1)", max(users, 1)
            )
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('projects', 'id'), $1)",
                max(users * projects, 1),
            )
        await connection.execute("ANALYZE users")
        await connection.execute("ANALYZE projects")
    finally:
        await connection.close()


_STATES = """
SELECT coalesce(state, 'unknown') AS state, count(*) AS n
FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()
GROUP BY 1
"""


async def _states(connection: Any, name: str) -> dict[str, int]:
    rows = await connection.fetch(_STATES, name)
    return {str(row["state"]): int(row["n"]) for row in rows}


async def connections(name: str) -> dict[str, int]:
    """The backends connected to the database now, by state (idle, active, ...)."""
    connection = await asyncpg.connect(_admin_dsn())
    try:
        return await _states(connection, _checked(name))
    finally:
        await connection.close()


async def watch(name: str, *, duration: float, interval: float, out: Path) -> None:
    """Sample the database's connections until `duration` ends or SIGTERM comes."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    connection = await asyncpg.connect(_admin_dsn())
    samples: list[tuple[float, dict[str, int]]] = []
    deadline = time.monotonic() + duration
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            samples.append((time.time(), await _states(connection, _checked(name))))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
    finally:
        await connection.close()
        totals = [sum(states.values()) for _, states in samples]
        out.write_text(
            json.dumps({"max": max(totals, default=0), "samples": samples}), encoding="utf-8"
        )


async def server_version() -> str:
    connection = await asyncpg.connect(_admin_dsn())
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dbtool")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("create", "drop", "connections"):
        commands.add_parser(command).add_argument("name")
    seeder = commands.add_parser("seed")
    seeder.add_argument("name")
    seeder.add_argument("--users", type=int, required=True)
    seeder.add_argument("--projects", type=int, required=True)
    watcher = commands.add_parser("watch")
    watcher.add_argument("name")
    watcher.add_argument("--duration", type=float, required=True)
    watcher.add_argument("--interval", type=float, default=0.05)
    watcher.add_argument("--out", type=Path, required=True)
    commands.add_parser("version")
    commands.add_parser("prune")
    args = parser.parse_args(argv)

    if args.command == "create":
        asyncio.run(create(args.name))
    elif args.command == "drop":
        asyncio.run(drop(args.name))
    elif args.command == "seed":
        asyncio.run(seed(args.name, users=args.users, projects=args.projects))
    elif args.command == "watch":
        asyncio.run(watch(args.name, duration=args.duration, interval=args.interval, out=args.out))
    elif args.command == "prune":
        print(" ".join(asyncio.run(prune())))
    elif args.command == "connections":
        print(json.dumps(asyncio.run(connections(args.name))))
    else:
        print(asyncio.run(server_version()))


if __name__ == "__main__":
    main()
