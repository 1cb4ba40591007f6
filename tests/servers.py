"""The real servers the generated projects are tested against, and how to reach them.

One table so that the end-to-end tests, .ci/run and the generated projects'
environment agree on addresses and credentials.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Server:
    name: str
    host: str
    port: int

    def reachable(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False


POSTGRESQL = Server("PostgreSQL", "127.0.0.1", 5432)
MARIADB = Server("MariaDB", "127.0.0.1", 3306)
REDIS = Server("Redis", "127.0.0.1", 6379)
RABBITMQ = Server("RabbitMQ", "127.0.0.1", 5672)

DATABASE_SERVERS = {"postgresql": POSTGRESQL, "mysql": MARIADB, "sqlite": None}


def free_port() -> int:
    """A port nothing listens on now, on 127.0.0.1, for a server a test or benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def require(server: Server) -> None:
    """Skip (or, under CI, fail) a test whose server is down.

    Locally a missing server should not block work on unrelated parts; in CI a
    skipped end-to-end run would hide a broken setup, so it fails instead.
    """
    if server.reachable():
        return
    reason = f"{server.name} is not reachable on {server.host}:{server.port}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: servers must be up)")
    pytest.skip(reason)
