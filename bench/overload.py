"""3. Overload: many more clients than connections, against the generated default pool.

The generated service (pool_size 10 + max_overflow 20, its default DB_QUEUE_TIMEOUT and
DB_QUEUE_LIMIT) gets 200 concurrent clients on GET /users for 30 s. Meanwhile
bench.remote.dbtool samples pg_stat_activity for the benchmark's own database (only this
server connects to it) every 50 ms. Afterwards the database must show only idle
connections, no more than the pool keeps at rest. Then the floor (bench/remote/floor.py,
the same pool sizes) gets the same load: what the machine answers with nothing on top.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
from dataclasses import dataclass
from typing import IO, Any

from bench.formatting import (
    TIMES,
    excess_over,
    format_counts,
    format_errors,
    format_number,
    format_ratio,
    markdown_table,
)
from bench.harness import HarnessError, Load, Server, Workspace, spawn
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import Latency, failures, ratio
from bench.throughput import PATH

POOL_SIZE = 10
MAX_OVERFLOW = 20
_IDLE_WAIT_S = 15.0
ANSWER_WITHIN_MS = 2000
"""Every request answered (a 200, or a 503 that sheds load) within this."""
FLOOR_P99_FACTOR = 2
"""The service's p99 at most this many times the floor's, at the same load."""


@dataclass(frozen=True)
class Answers:
    """What one load run got back."""

    rps: float
    """Successes per second."""
    latency: Latency
    """Of every answer, successes and 503s alike."""
    statuses: dict[str, int]

    @classmethod
    def of(cls, data: dict[str, Any]) -> Answers:
        return cls(
            rps=data["completed"] / data["window_s"],
            latency=Latency.of(data["latencies_ms"]),
            statuses=data["statuses"],
        )


@dataclass
class OverloadResult:
    clients: int
    duration_s: float
    service: Answers
    floor: Answers
    max_connections: int
    """The most connections the database saw from the service in one sample."""
    samples: int
    after: dict[str, int]
    """The database's connections by state once the load was over and the pool settled."""
    idle_after_s: float
    """Seconds from the end of the load until no connection was busy (NaN: never)."""

    @property
    def errors(self) -> int:
        return sum(failures(self.service.statuses).values())

    @property
    def shed(self) -> int:
        """The 503s: requests the service turned away rather than keep waiting."""
        return self.service.statuses.get("503", 0)

    @property
    def non_503_errors(self) -> int:
        return self.errors - self.shed

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
            service = _overload(server, workspace, sizes)
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
    print("  the floor, same load", file=log)
    with Server("overload-floor", "bench.remote.floor:create_app", workspace) as floor_server:
        floor = _overload(floor_server, workspace, sizes)
    return OverloadResult(
        clients=sizes.overload_clients,
        duration_s=sizes.overload_s,
        service=service,
        floor=floor,
        max_connections=int(watched["max"]),
        samples=len(watched["samples"]),
        after=after,
        idle_after_s=idle_after,
    )


def _overload(server: Server, workspace: Workspace, sizes: Sizes) -> Answers:
    load = Load(
        workspace,
        server.url(PATH),
        sizes.overload_clients,
        warmup_s=0,
        duration_s=sizes.overload_s,
        drain_s=sizes.drain_s + 30,
    )
    return Answers.of(load.start().result())


def _settle(workspace: Workspace) -> tuple[dict[str, int], float]:
    """Wait for every connection to be idle; then the states, and how long that took."""
    waited = workspace.wait_quiet(timeout=_IDLE_WAIT_S)
    states = workspace.connections()
    return states, waited if all(state == "idle" for state in states) else math.nan


# --- in the report --------------------------------------------------------------------


def _targets(result: OverloadResult) -> list[Target]:
    limit = POOL_SIZE + MAX_OVERFLOW
    open_after = sum(result.after.values())
    slowest = result.service.latency.max
    p99, floor_p99 = result.service.latency.p99, result.floor.latency.p99
    return [
        Target(
            f"{result.clients} clients: no errors but 503s",
            f"{result.non_503_errors} errors, {result.shed} 503s",
            result.non_503_errors == 0,
            f"{result.non_503_errors} errors",
        ),
        Target(
            f"{result.clients} clients: every request answered within"
            f" {ANSWER_WITHIN_MS / 1000:.0f} s (a 200 or a 503)",
            f"slowest {format_number(slowest)} ms",
            slowest <= ANSWER_WITHIN_MS,
            excess_over(slowest, ANSWER_WITHIN_MS, "ms"),
        ),
        Target(
            f"{result.clients} clients: p99 ≤ {FLOOR_P99_FACTOR}{TIMES} the floor's",
            f"{format_number(p99)} ms against {format_number(floor_p99)} ms"
            f" ({format_ratio(ratio(p99, floor_p99))})",
            p99 <= FLOOR_P99_FACTOR * floor_p99,
            excess_over(ratio(p99, floor_p99), FLOOR_P99_FACTOR, TIMES),
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
    def row(name: str, answers: Answers, connections: str, after: str, idle: str) -> list[object]:
        latency = answers.latency
        return [
            name,
            format_number(answers.rps),
            format_number(latency.p50),
            format_number(latency.p99),
            format_number(latency.max),
            format_counts(answers.statuses),
            connections,
            after,
            idle,
        ]

    return "\n".join(
        [
            f"{result.clients} concurrent clients for {result.duration_s:.0f} s on"
            " GET /users?limit=50 (with the administrator's token) against the generated"
            f" service with pool_size {POOL_SIZE} + max_overflow {MAX_OVERFLOW} and its"
            " default waiting line (DB_QUEUE_TIMEOUT 0.5 s, DB_QUEUE_LIMIT ten times the"
            " pool), then against the floor with the same pool sizes. The database's"
            f" connections were sampled every 50 ms ({result.samples} samples) in"
            " pg_stat_activity, for the benchmark's own database, during the service's run."
            " req/s counts the 200s; the latencies are of every answer, 503s included.",
            "",
            markdown_table(
                [
                    "Server",
                    "req/s",
                    "p50 ms",
                    "p99 ms",
                    "max ms",
                    "Responses",
                    "Most connections",
                    "Afterwards",
                    "Idle after",
                ],
                "lrrrrlrlr",
                [
                    row(
                        "generated service",
                        result.service,
                        str(result.max_connections),
                        format_counts(result.after),
                        f"{format_number(result.idle_after_s, 2)} s",
                    ),
                    row("floor: Starlette + asyncpg", result.floor, "", "", ""),
                ],
            ),
        ]
    )


def _notes(result: OverloadResult, _context: Context) -> list[str]:
    notes = [_queue_note(result)]
    if result.non_503_errors:
        notes.append(
            f"**Overload: {format_errors(result.service.statuses)}.** Every failure but a"
            " 503 is a defect here: the waiting line answers 503 (OverloadedError) and a"
            " database that does not answer is a 503 too (DatabaseUnavailableError)."
        )
    return notes


def _queue_note(result: OverloadResult) -> str:
    service, floor = result.service, result.floor
    return (
        f"**Overload.** {result.clients} clients against 30 connections. A request waits"
        " for the pool in a first come, first served line (`db/admission.py`), at most"
        " DB_QUEUE_TIMEOUT (0.5 s); past that it gets a 503 with Retry-After at once. The"
        f" service answered {format_number(service.rps)} req/s with 200s and turned"
        f" {result.shed} requests away (p99 of every answer {format_number(service.latency.p99)}"
        f" ms, slowest {format_number(service.latency.max)} ms); the floor, with no line"
        f" but asyncpg's own pool, answered {format_number(floor.rps)} req/s (p99"
        f" {format_number(floor.latency.p99)} ms). Without the line (SQLAlchemy's pool"
        " alone, which hands a freed connection to whichever waiter runs first) the same"
        " load measured a p99 of 5 s and a slowest request of 9 s. The 503s cost the"
        " service CPU too: these clients retry at once, ignoring Retry-After. The database"
        f" saw at most {result.max_connections} connections, and afterwards"
        f" {format_counts(result.after)}: the overflow connections were closed and the pool"
        " kept its 10."
    )


SECTION = Section(
    name="overload",
    title="Overload",
    targets=_targets,
    text=_text,
    notes=_notes,
)
