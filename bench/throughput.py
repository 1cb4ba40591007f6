"""2. Throughput and latency of GET /users?limit=50 (50 users, 5 projects each), four ways.

(a) the generated service; (b) the same with lazy loading per user (N+1); (c) the same
endpoint as a `def` route on a sync engine and sync sessions; (d) the floor, Starlette on
a raw asyncpg pool. See bench/remote/variants.py and bench/remote/floor.py.

All four servers run side by side (one uvicorn worker each) and are checked to return the
same JSON before anything is measured. Then, for each concurrency level in turn, each
variant is measured once, so a change in the machine's background load falls on all four
alike. Before each measurement the server must be idle (no queue left by the previous one).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import IO, Any

from bench.harness import HarnessError, Load, Server, Workspace, http
from bench.sizes import Sizes
from bench.stats import Latency, ratio

PATH = "/users?limit=50"


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    app: str
    """The uvicorn factory; {package} is the generated package."""
    statements_note: str = ""


VARIANTS = (
    Variant("a", "generated (columns, 2 statements)", "{package}.main:create_app"),
    Variant("b", "N+1 (lazy load per user)", "bench.remote.variants:create_nplus1_app"),
    Variant("c", "sync engine, def route", "bench.remote.variants:create_sync_app"),
    Variant(
        "d",
        "floor: Starlette + asyncpg",
        "bench.remote.floor:create_app",
        statements_note="2 by construction (no SQL counter)",
    ),
)

# Target ratios of (a) at the headline concurrency.
TARGETS = {"b": 2.0, "c": 1.5, "d": 0.5}


@dataclass
class Cell:
    variant: str
    concurrency: int
    rps: float
    latency: Latency
    statuses: dict[str, int]
    statements: float
    """Mean SQL statements per GET /users, from the service's request log (NaN for d)."""
    server_cpu_ms: float
    """CPU time of the server process per answered request."""
    client_cpu_share: float
    """CPU time of the load generator over the wall time it ran (1.0 = one core)."""

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if not status.startswith("2"))


@dataclass
class ThroughputResult:
    users: int
    projects_per_user: int
    concurrency: list[int]
    headline: int
    response_bytes: int
    cells: list[Cell] = field(default_factory=list)

    def cell(self, variant: str, concurrency: int) -> Cell | None:
        return next(
            (c for c in self.cells if c.variant == variant and c.concurrency == concurrency),
            None,
        )

    def ratio_to(self, other: str, concurrency: int | None = None) -> float:
        level = concurrency or self.headline
        mine, theirs = self.cell("a", level), self.cell(other, level)
        if mine is None or theirs is None:
            return math.nan
        return ratio(mine.rps, theirs.rps)

    def met(self, other: str) -> bool:
        return self.ratio_to(other) >= TARGETS[other]


def _check_same_json(servers: dict[str, Server], sizes: Sizes) -> int:
    bodies: dict[str, Any] = {}
    size = 0
    for key, server in servers.items():
        status, body = http("GET", server.url(PATH))
        if status != 200:
            raise HarnessError(f"({key}) GET {PATH} answered {status}: {body[:500]!r}")
        bodies[key] = json.loads(body)
        size = max(size, len(body))
    reference = bodies["a"]
    if len(reference) != sizes.users or any(
        len(user["projects"]) != sizes.projects_per_user for user in reference
    ):
        raise HarnessError(f"(a) GET {PATH} did not return the seeded users and projects")
    for key, body in bodies.items():
        if body != reference:
            first = next(
                (i for i, (x, y) in enumerate(zip(body, reference, strict=False)) if x != y), 0
            )
            raise HarnessError(
                f"({key}) returns other JSON than (a); first difference at user {first}:\n"
                f"  ({key}) {json.dumps(body[first] if body else None)[:600]}\n"
                f"  (a) {json.dumps(reference[first])[:600]}"
            )
    return size


def _measure(server: Server, workspace: Workspace, sizes: Sizes, concurrency: int) -> Cell:
    server.wait_idle()
    log_offset = server.log_size()
    cpu_before = server.cpu_seconds()
    data = (
        Load(
            workspace,
            server.url(PATH),
            concurrency,
            warmup_s=sizes.warmup_s,
            duration_s=sizes.duration_s,
            drain_s=sizes.drain_s,
        )
        .start()
        .result()
    )
    cpu = server.cpu_seconds() - cpu_before
    statements = server.statements(log_offset)
    wall = data["warmup_s"] + data["window_s"]
    return Cell(
        variant=server.name,
        concurrency=concurrency,
        rps=data["completed"] / data["window_s"],
        latency=Latency.of(data["latencies_ms"]),
        statuses=data["statuses"],
        statements=sum(statements) / len(statements) if statements else math.nan,
        server_cpu_ms=1000 * cpu / data["answered"] if data["answered"] else math.nan,
        client_cpu_share=data["cpu_s"] / wall if wall else math.nan,
    )


def run_throughput(sizes: Sizes, workspace: Workspace, log: IO[str]) -> ThroughputResult:
    servers = {
        v.key: Server(v.key, v.app.format(package=workspace.package), workspace) for v in VARIANTS
    }
    result = ThroughputResult(
        users=sizes.users,
        projects_per_user=sizes.projects_per_user,
        concurrency=list(sizes.concurrency),
        headline=sizes.headline_concurrency,
        response_bytes=0,
    )
    try:
        for server in servers.values():
            server.launch()
        for server in servers.values():
            server.wait_ready()
        result.response_bytes = _check_same_json(servers, sizes)
        print("  (a), (b), (c) and (d) return the same JSON", file=log)
        for concurrency in sizes.concurrency:
            for key, server in servers.items():
                cell = _measure(server, workspace, sizes, concurrency)
                result.cells.append(cell)
                print(
                    f"  ({key}) c={concurrency:<4} {cell.rps:8.1f} req/s"
                    f"  p50 {cell.latency.p50:8.1f} ms  p99 {cell.latency.p99:8.1f} ms"
                    f"  errors {cell.errors}",
                    file=log,
                )
    finally:
        for server in servers.values():
            server.stop()
    return result
