"""3. Overload: many more clients than connections, against the generated default pool.

The generated service (pool_size 10 + max_overflow 20, pool_timeout 30 s) gets 200
concurrent clients on GET /users for 30 s. Meanwhile bench.remote.dbtool samples
pg_stat_activity for the benchmark's own database (only this server connects to it) every
50 ms. Afterwards the database must show only idle connections, no more than the pool
keeps at rest.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import IO

from bench.harness import HarnessError, Load, Server, Workspace, spawn
from bench.sizes import Sizes
from bench.stats import Latency
from bench.throughput import PATH

POOL_SIZE = 10
MAX_OVERFLOW = 20
_IDLE_WAIT_S = 15.0


@dataclass
class OverloadResult:
    clients: int
    duration_s: float
    rps: float
    latency: Latency
    statuses: dict[str, int]
    max_connections: int
    """The most connections the database saw from the service in one sample."""
    samples: int
    after: dict[str, int]
    """The database's connections by state once the load was over and the pool settled."""
    idle_after_s: float
    """Seconds from the end of the load until no connection was busy (NaN: never)."""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))

    @property
    def non_503_errors(self) -> int:
        return self.errors - self.statuses.get("503", 0)

    @property
    def met(self) -> bool:
        busy = sum(n for state, n in self.after.items() if state != "idle")
        return (
            self.non_503_errors == 0
            and self.max_connections <= POOL_SIZE + MAX_OVERFLOW
            and busy == 0
            and sum(self.after.values()) <= POOL_SIZE
        )


def run_overload(sizes: Sizes, workspace: Workspace, log: IO[str]) -> OverloadResult:
    watch_path = workspace.root / "overload-connections.json"
    server = Server(
        "overload",
        f"{workspace.package}.main:create_app",
        workspace,
        env={"DB_POOL_SIZE": str(POOL_SIZE), "DB_MAX_OVERFLOW": str(MAX_OVERFLOW)},
    )
    with server:
        watcher = spawn(
            [
                str(workspace.python), "-m", "bench.remote.dbtool", "watch", workspace.database,
                "--duration", str(sizes.overload_s + sizes.drain_s + 60),
                "--out", str(watch_path),
            ],
            cwd=workspace.project,
            env=workspace.env(),
        )  # fmt: skip
        try:
            print(f"  {sizes.overload_clients} clients for {sizes.overload_s:.0f} s", file=log)
            data = (
                Load(
                    workspace,
                    server.url(PATH),
                    sizes.overload_clients,
                    warmup_s=0,
                    duration_s=sizes.overload_s,
                    drain_s=sizes.drain_s + 30,
                )
                .start()
                .result()
            )
            after, idle_after = _settle(workspace)
        finally:
            watcher.send_signal(signal.SIGTERM)
            try:
                watcher.wait(timeout=15)
            except subprocess.TimeoutExpired:
                watcher.kill()
                watcher.wait(timeout=5)
    if not watch_path.exists():
        raise HarnessError("the connection watcher wrote nothing")
    watched = json.loads(watch_path.read_text(encoding="utf-8"))
    return OverloadResult(
        clients=sizes.overload_clients,
        duration_s=sizes.overload_s,
        rps=data["completed"] / data["window_s"],
        latency=Latency.of(data["latencies_ms"]),
        statuses=data["statuses"],
        max_connections=int(watched["max"]),
        samples=len(watched["samples"]),
        after=after,
        idle_after_s=idle_after,
    )


def _settle(workspace: Workspace) -> tuple[dict[str, int], float]:
    """Wait for every connection to be idle; then the states, and how long that took."""
    start = time.monotonic()
    states = workspace.connections()
    while time.monotonic() - start < _IDLE_WAIT_S:
        if all(state == "idle" for state in states):
            return states, time.monotonic() - start
        time.sleep(0.2)
        states = workspace.connections()
    return states, math.nan
