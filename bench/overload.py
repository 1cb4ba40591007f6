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

from bench.formatting import format_counts, format_errors, format_number, markdown_table
from bench.harness import HarnessError, Load, Server, Workspace, spawn
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import Latency, failures
from bench.throughput import LONG_TAIL, LONG_TAIL_FACTOR, PATH, long_tail_note

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
        return sum(failures(self.statuses).values())

    @property
    def non_503_errors(self) -> int:
        return self.errors - self.statuses.get("503", 0)

    @property
    def busy_after(self) -> int:
        return sum(n for state, n in self.after.items() if state != "idle")


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


# --- in the report --------------------------------------------------------------------


def _targets(result: OverloadResult) -> list[Target]:
    limit = POOL_SIZE + MAX_OVERFLOW
    open_after = sum(result.after.values())
    return [
        Target(
            f"{result.clients} clients: no errors but 503s",
            f"{result.non_503_errors} errors, {result.statuses.get('503', 0)} 503s",
            result.non_503_errors == 0,
            f"{result.non_503_errors} errors",
        ),
        Target(
            f"≤ {limit} connections from the service",
            f"{result.max_connections} at most",
            result.max_connections <= limit,
            f"{result.max_connections - limit} too many",
        ),
        Target(
            "pool idle afterwards",
            format_counts(result.after),
            result.busy_after == 0 and open_after <= POOL_SIZE,
            f"{result.busy_after} busy, {open_after} open",
        ),
    ]


def _text(result: OverloadResult, _chart: str | None) -> str:
    latency = result.latency
    return "\n".join(
        [
            f"{result.clients} concurrent clients for {result.duration_s:.0f} s on"
            " GET /users?limit=50 (with the administrator's token) against the generated"
            f" service with pool_size {POOL_SIZE} +"
            f" max_overflow {MAX_OVERFLOW} (pool_timeout 30 s). The database's connections"
            f" were sampled every 50 ms ({result.samples} samples) in pg_stat_activity, for"
            " the benchmark's own database.",
            "",
            markdown_table(
                [
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "Responses",
                    "Most connections",
                    "Afterwards",
                    "Idle after",
                ],
                "rrrrlrlr",
                [
                    [
                        format_number(result.rps),
                        format_number(latency.p50),
                        format_number(latency.p99),
                        format_number(latency.max),
                        format_counts(result.statuses),
                        result.max_connections,
                        format_counts(result.after),
                        f"{format_number(result.idle_after_s, 2)} s",
                    ]
                ],
            ),
        ]
    )


def _notes(result: OverloadResult, context: Context) -> list[str]:
    notes = [_queue_note(result)]
    latency = result.latency
    if latency.p99 > LONG_TAIL_FACTOR * latency.p50:
        if any(note.startswith(LONG_TAIL) for note in context.earlier_notes):
            notes.append(
                f"**The same long tail** in the overload run (p50 {format_number(latency.p50)}"
                f" ms, p99 {format_number(latency.p99)} ms): the pool's waiting line, see above."
            )
        else:
            notes.append(long_tail_note(latency.p50, latency.p99, result.clients))
    if result.non_503_errors:
        notes.append(_errors_note(result))
    return notes


def _queue_note(result: OverloadResult) -> str:
    return (
        f"**Overload.** {result.clients} clients against 30 connections: the requests queue"
        f" for a connection (p99 {format_number(result.latency.p99 / 1000, 2)} s against the"
        f" 30 s pool_timeout), the database saw at most {result.max_connections} connections,"
        f" and afterwards {format_counts(result.after)}: the overflow connections were closed"
        " and the pool kept its 10."
        + (
            ""
            if result.non_503_errors == 0
            else f" {result.non_503_errors} requests failed otherwise than with a 503."
        )
    )


def _errors_note(result: OverloadResult) -> str:
    return (
        f"**Overload: {format_errors(result.statuses)}, missed.** A request that waits longer"
        " than pool_timeout (30 s) for a connection gets sqlalchemy.exc.TimeoutError,"
        " which no exception handler maps, so the service answers 500, not the 503"
        " the target allows. The average wait was about"
        f" {format_number(result.clients / result.rps)} s (clients / req/s) and the slowest"
        f" success took {format_number(result.latency.max / 1000)} s: only the unfair waiting"
        " line above lets a request reach 30 s at this load. A handler mapping TimeoutError"
        " to 503 (with Retry-After) meets the target's letter; a fair or bounded line meets"
        " its intent."
    )


SECTION = Section(
    name="overload",
    title="Overload",
    targets=_targets,
    text=_text,
    notes=_notes,
)
