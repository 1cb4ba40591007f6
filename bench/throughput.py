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
from enum import StrEnum
from typing import IO, Any

from bench.formatting import (
    TIMES,
    format_errors,
    format_number,
    format_percent,
    format_ratio,
    markdown_table,
    shortfall_below,
)
from bench.harness import HarnessError, Load, Server, Workspace, http
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import Latency, failures, ratio

PATH = "/users?limit=50"
CHART = "latency"


class VariantKey(StrEnum):
    """How the report names each variant: (a) to (d)."""

    GENERATED = "a"
    NPLUS1 = "b"
    SYNC = "c"
    FLOOR = "d"


@dataclass(frozen=True)
class Variant:
    key: VariantKey
    label: str
    app: str
    """The uvicorn factory; {package} is the generated package."""
    statements_note: str = ""


VARIANTS = (
    Variant(VariantKey.GENERATED, "generated (columns, 2 statements)", "{package}.main:create_app"),
    Variant(
        VariantKey.NPLUS1, "N+1 (lazy load per user)", "bench.remote.variants:create_nplus1_app"
    ),
    Variant(VariantKey.SYNC, "sync engine, def route", "bench.remote.variants:create_sync_app"),
    Variant(
        VariantKey.FLOOR,
        "floor: Starlette + asyncpg",
        "bench.remote.floor:create_app",
        statements_note="2 by construction (no SQL counter)",
    ),
)

# Target ratios of (a) at the headline concurrency.
TARGETS = {VariantKey.NPLUS1: 2.0, VariantKey.SYNC: 1.5, VariantKey.FLOOR: 0.5}


@dataclass
class Cell:
    variant: VariantKey
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
        return sum(failures(self.statuses).values())


@dataclass
class ThroughputResult:
    users: int
    projects_per_user: int
    concurrency: list[int]
    headline: int
    response_bytes: int
    cells: list[Cell] = field(default_factory=list)

    def cell(self, variant: VariantKey, concurrency: int) -> Cell | None:
        return next(
            (c for c in self.cells if c.variant == variant and c.concurrency == concurrency),
            None,
        )

    def ratio_to(self, other: VariantKey, concurrency: int | None = None) -> float:
        level = concurrency or self.headline
        mine, theirs = self.cell(VariantKey.GENERATED, level), self.cell(other, level)
        if mine is None or theirs is None:
            return math.nan
        return ratio(mine.rps, theirs.rps)

    def met(self, other: VariantKey) -> bool:
        return self.ratio_to(other) >= TARGETS[other]


def _check_same_json(servers: dict[VariantKey, Server], sizes: Sizes) -> int:
    bodies: dict[VariantKey, Any] = {}
    size = 0
    for key, server in servers.items():
        status, body = http("GET", server.url(PATH))
        if status != 200:
            raise HarnessError(f"({key}) GET {PATH} answered {status}: {body[:500]!r}")
        bodies[key] = json.loads(body)
        size = max(size, len(body))
    reference = bodies[VariantKey.GENERATED]
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


def _measure(
    variant: VariantKey, server: Server, workspace: Workspace, sizes: Sizes, concurrency: int
) -> Cell:
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
        variant=variant,
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
                cell = _measure(key, server, workspace, sizes, concurrency)
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


# --- in the report --------------------------------------------------------------------

LONG_TAIL_FACTOR = 4
"""A p99 this many times the p50 under a full pool points at the pool's waiting line."""
LONG_TAIL = "**The long tail"
"""How the note explaining that waiting line begins."""


def long_tail_note(p50: float, p99: float, clients: int) -> str:
    return (
        f"{LONG_TAIL} at {clients} clients** (p50 {format_number(p50)} ms,"
        f" p99 {format_number(p99)} ms) is the"
        " pool's waiting line, which is not first come, first served: SQLAlchemy's asyncio"
        " pool queue hands a returned connection to whoever asks first without waiting"
        " (`get_nowait`), so a newly arrived request can take it before the waiter that was"
        " woken for it runs, and asyncio.Queue puts that waiter back at the end of the line."
        " Most requests get a connection quickly, a few wait many turns. Capping the"
        " requests in flight near the pool size (uvicorn --limit-concurrency, or a"
        " semaphore in front of the session) would turn that tail into quick 503s."
    )


def _targets(result: ThroughputResult) -> list[Target]:
    return [
        Target(
            f"(a) ≥ {goal}{TIMES} ({other}) in req/s at c={result.headline}",
            format_ratio(result.ratio_to(other)),
            result.met(other),
            shortfall_below(result.ratio_to(other), goal),
        )
        for other, goal in TARGETS.items()
    ]


def _text(result: ThroughputResult, chart: str | None) -> str:
    rows = [
        f"{result.users} users with {result.projects_per_user} projects each"
        f" ({result.response_bytes:,} bytes of JSON), PostgreSQL, one uvicorn worker per"
        " variant, default pool (10 + 20). All four were checked to return the same JSON"
        " before measuring. Closed loop: each client sends its next request when the previous"
        " answer is in, over keep-alive connections, from a separate process"
        " (`bench/remote/loadgen.py`). Latency in ms; *SQL/req* from the service's own"
        " request log (`sql=N`, counted by its `before_cursor_execute` listener, so the"
        " driver's BEGIN and COMMIT are not in it); *CPU/req* is the server process's CPU"
        " time per answered request; *client CPU* is the load generator's share of one core.",
        "",
        "- (a) the generated service: two statements selecting the columns the response"
        " shows, async session, rows validated into the pydantic response model",
        "- (b) the same app, GET /users replaced by lazy loading per user (one SELECT each)",
        "- (c) the same app, GET /users as a `def` route on a sync engine (psycopg) and sync"
        " sessions, the same two statements, same pool sizes",
        "- (d) the floor: Starlette + a raw asyncpg pool, the same two queries, JSON by hand",
        "",
    ]
    others = [variant.key for variant in VARIANTS if variant.key != VariantKey.GENERATED]
    cells = [
        (variant, cell)
        for level in result.concurrency
        for variant in VARIANTS
        if (cell := result.cell(variant.key, level)) is not None
    ]
    rows += [
        markdown_table(
            [
                "Variant",
                "Clients",
                "req/s",
                "p50",
                "p90",
                "p99",
                "Errors",
                "SQL/req",
                "CPU/req ms",
                "Client CPU",
            ],
            "lrrrrrrrrr",
            [_cell_row(variant, cell) for variant, cell in cells],
        ),
        "",
        "Ratios of (a)'s req/s to the others':",
        "",
        markdown_table(
            ["Clients", *(f"(a)/({other})" for other in others)],
            "rrrr",
            [
                [level, *(format_ratio(result.ratio_to(other, level)) for other in others)]
                for level in result.concurrency
            ],
        ),
    ]
    if chart:
        rows += ["", f"![Throughput and latency by concurrency]({chart})"]
    return "\n".join(rows)


def _cell_row(variant: Variant, cell: Cell) -> list[object]:
    return [
        f"({variant.key}) {variant.label}",
        cell.concurrency,
        format_number(cell.rps),
        format_number(cell.latency.p50),
        format_number(cell.latency.p90),
        format_number(cell.latency.p99),
        format_errors(cell.statuses),
        variant.statements_note or format_number(cell.statements),
        format_number(cell.server_cpu_ms),
        f"{cell.client_cpu_share:.0%}",
    ]


def _console(result: ThroughputResult) -> list[str]:
    return [
        "",
        "variant  clients     req/s    p50 ms    p99 ms  errors  sql/req",
        *(
            f"({c.variant})      {c.concurrency:>7} {c.rps:9.1f} {c.latency.p50:9.1f}"
            f" {c.latency.p99:9.1f} {c.errors:7d}  {format_number(c.statements)}"
            for c in result.cells
        ),
    ]


def _notes(result: ThroughputResult, _context: Context) -> list[str]:
    notes = [_where_the_time_goes(result)]
    top = max(result.concurrency)
    top_generated = result.cell(VariantKey.GENERATED, top)
    if (
        top_generated is not None
        and top_generated.latency.p99 > LONG_TAIL_FACTOR * top_generated.latency.p50
    ):
        notes.append(long_tail_note(top_generated.latency.p50, top_generated.latency.p99, top))
    stalled = [
        cell
        for cell in result.cells
        if cell.variant == VariantKey.SYNC and (cell.rps == 0 or "unfinished" in cell.statuses)
    ]
    if stalled:
        notes.append(_sync_stall_note(result, stalled[-1]))
    notes.append(_nplus1_note(result))
    if not result.met(VariantKey.SYNC):
        notes.append(_sync_missed_note(result))
    if not result.met(VariantKey.FLOOR):
        notes.append(_floor_missed_note(result))
    return notes


def _cpu_ms(result: ThroughputResult, variant: VariantKey) -> str:
    """CPU per request at the headline concurrency."""
    cell = result.cell(variant, result.headline)
    return format_number(cell.server_cpu_ms if cell else math.nan)


def _where_the_time_goes(result: ThroughputResult) -> str:
    def busy(variant: VariantKey) -> str:
        cell = result.cell(variant, result.headline)
        return format_percent(cell.rps * cell.server_cpu_ms / 1000 if cell else math.nan)

    a, b, c, d = VariantKey
    return (
        f"**Where the time goes.** At c={result.headline} the server process spends"
        f" {_cpu_ms(result, a)} ms of CPU per request in (a), {_cpu_ms(result, b)} in (b),"
        f" {_cpu_ms(result, c)} in (c) and {_cpu_ms(result, d)} in (d), and is busy"
        f" {busy(a)}, {busy(b)}, {busy(c)} and {busy(d)} of one core: one Python process is"
        " the bottleneck (PostgreSQL and the load generator share the other core), so req/s"
        " is about 1000 divided by the CPU per request, and more clients add queueing"
        " (p50 grows with them), not throughput."
    )


def _sync_stall_note(result: ThroughputResult, worst: Cell) -> str:
    generated = result.cell(VariantKey.GENERATED, worst.concurrency)
    return (
        f"**(c) stalls at {worst.concurrency} clients** ({format_number(worst.rps)} req/s,"
        f" {format_errors(worst.statuses)}). This is the known deadlock of sync `yield`"
        " dependencies: the endpoint and the dependency's exit (which closes the session"
        " and returns its connection) both need a threadpool thread (40). When more"
        " requests wait than there are connections (30), the threads fill with endpoints"
        " blocked on the empty pool, the exits that would refill it queue behind them,"
        " and nothing moves until pool_timeout (30 s) fails the waiters with an error. The"
        " async service has no such coupling: at the same load (a) served"
        f" {format_number(generated.rps if generated else math.nan)} req/s."
    )


def _nplus1_note(result: ThroughputResult) -> str:
    if not result.met(VariantKey.NPLUS1):
        return (
            "**(a) against N+1 (b): missed.** (b) sends 51 statements per request; at"
            f" c={result.headline} its CPU per request is {_cpu_ms(result, VariantKey.NPLUS1)}"
            f" ms against {_cpu_ms(result, VariantKey.GENERATED)} ms for (a). Loopback round"
            " trips are cheap here, so the N+1 costs less than it would with the database on"
            " another host."
        )
    return (
        f"**(a) against N+1 (b): {format_ratio(result.ratio_to(VariantKey.NPLUS1))}.** 51"
        " statements instead of 2; each costs a round trip and the ORM's per-statement work."
        " On a network with real latency to the database the gap grows with every round trip."
    )


def _sync_missed_note(result: ThroughputResult) -> str:
    return (
        f"**(a) against sync (c): {format_ratio(result.ratio_to(VariantKey.SYNC))}, missed.**"
        " Both send the same two statements and validate the same rows; the endpoint is CPU"
        f" work, not waiting: (a) and (c) spend {_cpu_ms(result, VariantKey.GENERATED)} and"
        f" {_cpu_ms(result, VariantKey.SYNC)} ms of CPU per request, and"
        " two queries on loopback take little of a request's time. What async saves is a"
        " thread per waiting request: (c) pays for handing each request to the threadpool"
        " and back, and for its threads taking turns on the GIL, which is the whole gap"
        " here. It pays off most when requests wait (slow queries, remote calls), and"
        " past the threadpool's size, where (c) stalls (above). On a CPU-bound list"
        " against a local database, one process gains less than the target assumes."
    )


def _floor_missed_note(result: ThroughputResult) -> str:
    return (
        f"**(a) against the floor (d): {format_ratio(result.ratio_to(VariantKey.FLOOR))},"
        f" missed.** (d) spends {_cpu_ms(result, VariantKey.FLOOR)} ms of CPU per request,"
        f" (a) {_cpu_ms(result, VariantKey.GENERATED)}, with the same two"
        " statements and rows. The difference is the framework and the safety (a) keeps:"
        " FastAPI's routing, dependency injection and response validation, the request"
        " log, a session per request, and three more round trips to the database per"
        " request that (d) skips: `pool_pre_ping` at checkout, BEGIN and COMMIT (get_db's"
        " transaction). (a) no longer builds ORM entities for the list (it selects"
        " columns), which was most of its cost in earlier runs."
    )


SECTION = Section(
    name="throughput",
    title="Throughput and latency: GET /users?limit=50",
    targets=_targets,
    text=_text,
    notes=_notes,
    chart=CHART,
    console=_console,
)
