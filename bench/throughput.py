"""2. Throughput and latency of GET /users?limit=50 (50 users, 5 projects each), six ways.

(a) the generated service, which requires an administrator's access token; (f) the same
with its metrics and request ids off; (e) the same as (a) with its token check answered by
a fixed administrator (no I/O); (b) the same with lazy
loading per user (N+1); (c) the same endpoint as a `def` route on a sync engine and sync
sessions; (d) the floor, Starlette on a raw asyncpg pool. See bench/remote/variants.py and
bench/remote/floor.py. Every request carries the token; only (a) checks it. (e)/(a) is the
cost of authentication, (a)/(f) the cost of telemetry; (b), (c) and (d) check no token, so
the targets compare them with (e).

All six servers run side by side (one uvicorn worker each) and are checked to return the
same JSON before anything is measured. Then, in each of several rounds, for each
concurrency level in turn, each variant is measured once ((f) and (e) right after (a)), so
a change in the machine's background load falls on all six alike. Before each measurement
the server must be idle (no queue left by the previous one), and every connection to the
database idle (the servers share its max_connections). A table shows each variant's
median round (by req/s) with the spread of the rounds; a ratio is the median of the
rounds' ratios, each of two measurements taken moments apart.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from bench.formatting import (
    MISSING,
    TIMES,
    format_errors,
    format_number,
    format_percent,
    format_ratio,
    format_signed,
    markdown_table,
    shortfall_below,
)
from bench.harness import HarnessError, Load, Server, Workspace, http
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import Latency, failures, median, ratio

PATH = "/users?limit=50"
CHART = "latency"


class VariantKey(StrEnum):
    """How the report names each variant: (a) to (f)."""

    GENERATED = "a"
    NPLUS1 = "b"
    SYNC = "c"
    FLOOR = "d"
    NO_AUTH = "e"
    NO_TELEMETRY = "f"


@dataclass(frozen=True)
class Variant:
    key: VariantKey
    label: str
    app: str
    """The uvicorn factory; {package} is the generated package."""
    statements_note: str = ""


# In the order of measurement (and of the tables): (f) and (e) right after (a), so that the
# costs of telemetry and of authentication compare measurements taken moments apart.
VARIANTS = (
    Variant(
        VariantKey.GENERATED, "generated (token check + 2 statements)", "{package}.main:create_app"
    ),
    Variant(
        VariantKey.NO_TELEMETRY,
        "generated, no metrics, no request ids",
        "bench.remote.variants:create_no_telemetry_app",
    ),
    Variant(
        VariantKey.NO_AUTH,
        "generated, no token check",
        "bench.remote.variants:create_no_token_check_app",
    ),
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

BASELINE = VariantKey.NO_AUTH
"""What (b), (c) and (d) are judged against: like them, it checks no token."""
# Target ratios of BASELINE's req/s at the headline concurrency.
TARGETS = {VariantKey.NPLUS1: 2.0, VariantKey.SYNC: 1.5, VariantKey.FLOOR: 0.5}
# ... and the floor's at 10 clients too: busy, but without requests waiting for the pool.
ALSO_AT = {VariantKey.FLOOR: (10,)}
# Metrics and request ids cost at most 10% of (a)'s req/s: (a)/(f) at the headline.
TELEMETRY_TARGET = 0.9


@dataclass
class Cell:
    variant: VariantKey
    concurrency: int
    round: int
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


@dataclass(frozen=True)
class AuthCost:
    """What (a)'s token check costs: (a) against (e) at one concurrency."""

    concurrency: int
    rps_ratio: float
    """(e)'s req/s over (a)'s."""
    p50_added_ms: float
    """(a)'s p50 minus (e)'s."""
    p99_added_ms: float
    cpu_added_ms: float
    """(a)'s server CPU per request minus (e)'s."""

    @classmethod
    def of(cls, result: ThroughputResult, concurrency: int) -> AuthCost:
        checked = result.cell(VariantKey.GENERATED, concurrency)
        unchecked = result.cell(VariantKey.NO_AUTH, concurrency)
        if checked is None or unchecked is None:
            return cls(concurrency, math.nan, math.nan, math.nan, math.nan)
        return cls(
            concurrency=concurrency,
            rps_ratio=ratio(unchecked.rps, checked.rps),
            p50_added_ms=checked.latency.p50 - unchecked.latency.p50,
            p99_added_ms=checked.latency.p99 - unchecked.latency.p99,
            cpu_added_ms=checked.server_cpu_ms - unchecked.server_cpu_ms,
        )


@dataclass
class ThroughputResult:
    users: int
    projects_per_user: int
    concurrency: list[int]
    headline: int
    response_bytes: int
    cells: list[Cell] = field(default_factory=list)
    auth_cost: AuthCost | None = None
    """At the headline concurrency, for the JSON (the report computes it from the cells)."""
    list_cpu_ms: dict[str, list[float]] = field(default_factory=dict)
    """CPU ms per page of each way of bench/remote/listcost.py (in process, no HTTP), one
    value per round."""

    def rounds(self, variant: VariantKey, concurrency: int) -> list[Cell]:
        """Its measurements, one per round, in round order."""
        return [c for c in self.cells if c.variant == variant and c.concurrency == concurrency]

    def cell(self, variant: VariantKey, concurrency: int) -> Cell | None:
        """The median round by req/s (the lower middle one of an even number)."""
        rounds = sorted(self.rounds(variant, concurrency), key=lambda c: c.rps)
        return rounds[(len(rounds) - 1) // 2] if rounds else None

    def spread(self, variant: VariantKey, concurrency: int) -> tuple[float, float]:
        """The lowest and highest req/s of the rounds."""
        rps = [c.rps for c in self.rounds(variant, concurrency)] or [math.nan]
        return min(rps), max(rps)

    def round_ratios(
        self, numerator: VariantKey, denominator: VariantKey, concurrency: int | None = None
    ) -> list[float]:
        level = concurrency or self.headline
        theirs = {c.round: c.rps for c in self.rounds(denominator, level)}
        return [
            ratio(c.rps, theirs[c.round])
            for c in self.rounds(numerator, level)
            if c.round in theirs
        ]

    def ratio(
        self, numerator: VariantKey, denominator: VariantKey, concurrency: int | None = None
    ) -> float:
        """The median of the rounds' ratios of req/s."""
        return median(self.round_ratios(numerator, denominator, concurrency))

    def ratio_to(self, other: VariantKey, concurrency: int | None = None) -> float:
        """BASELINE's req/s over `other`'s."""
        return self.ratio(BASELINE, other, concurrency)

    def met(self, other: VariantKey, concurrency: int | None = None) -> bool:
        return self.ratio_to(other, concurrency) >= TARGETS[other]

    def target_levels(self, other: VariantKey) -> list[int]:
        """The concurrencies `other`'s target is judged at, of those measured."""
        levels = {*ALSO_AT.get(other, ()), self.headline}
        return [level for level in self.concurrency if level in levels]


def _check_same_json(servers: dict[VariantKey, Server], sizes: Sizes, workspace: Workspace) -> int:
    bodies: dict[VariantKey, Any] = {}
    size = 0
    for key, server in servers.items():
        status, body = http("GET", server.url(PATH), headers=workspace.authorization())
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
    variant: VariantKey,
    server: Server,
    workspace: Workspace,
    sizes: Sizes,
    *,
    concurrency: int,
    round_number: int,
) -> Cell:
    workspace.wait_quiet()
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
        round=round_number,
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
        result.response_bytes = _check_same_json(servers, sizes, workspace)
        print("  (a) to (f) return the same JSON", file=log)
        for round_number in range(1, sizes.throughput_rounds + 1):
            for concurrency in sizes.concurrency:
                for key, server in servers.items():
                    cell = _measure(
                        key, server, workspace, sizes,
                        concurrency=concurrency, round_number=round_number,
                    )  # fmt: skip
                    result.cells.append(cell)
                    if cell.rps == 0 or "unfinished" in cell.statuses:
                        # A stalled server (the sync variant past its threadpool) works
                        # through its backlog for minutes, holding its connections: a
                        # new process starts clean.
                        server.stop()
                        server.start()
                    print(
                        f"  round {round_number} ({key}) c={concurrency:<4} {cell.rps:8.1f} req/s"
                        f"  p50 {cell.latency.p50:8.1f} ms  p99 {cell.latency.p99:8.1f} ms"
                        f"  errors {cell.errors}",
                        file=log,
                    )
    finally:
        for server in servers.values():
            server.stop()
    result.auth_cost = AuthCost.of(result, result.headline)
    print("  the list's parts, in process (bench/remote/listcost.py)", file=log)
    rounds, pages = str(sizes.listcost_rounds), str(sizes.listcost_pages)
    listcost = workspace.remote("listcost", "--rounds", rounds, "--pages", pages, timeout=600)
    result.list_cpu_ms = json.loads(listcost)
    return result


# --- in the report --------------------------------------------------------------------


def _targets(result: ThroughputResult) -> list[Target]:
    telemetry = result.ratio(VariantKey.GENERATED, VariantKey.NO_TELEMETRY)
    return [
        *(
            Target(
                f"({BASELINE}) ≥ {goal}{TIMES} ({other}) in req/s at c={level}",
                format_ratio(result.ratio_to(other, level)),
                result.met(other, level),
                shortfall_below(result.ratio_to(other, level), goal),
            )
            for other, goal in TARGETS.items()
            for level in result.target_levels(other)
        ),
        Target(
            f"(a) ≥ {TELEMETRY_TARGET}{TIMES} (f) in req/s at c={result.headline}"
            " (metrics and request ids cost ≤ 10%)",
            format_ratio(telemetry),
            telemetry >= TELEMETRY_TARGET,
            shortfall_below(telemetry, TELEMETRY_TARGET),
        ),
    ]


def _text(result: ThroughputResult, chart: str | None) -> str:
    rows = [
        f"{result.users} users with {result.projects_per_user} projects each"
        f" ({result.response_bytes:,} bytes of JSON), PostgreSQL, one uvicorn worker per"
        " variant, default pool (10 + 20). All six were checked to return the same JSON"
        " before measuring. Every request carries an administrator's access token"
        " (`Authorization: Bearer`, from one login through POST /auth/token); only (a)"
        " checks it. Closed loop: each client sends its next request when the previous"
        " answer is in, over keep-alive connections, from a separate process"
        " (`bench/remote/loadgen.py`). Latency in ms; *SQL/req* from the service's own"
        " request log (`sql=N`, counted by its `before_cursor_execute` listener, so the"
        " driver's BEGIN and COMMIT are not in it); *CPU/req* is the server process's CPU"
        " time per answered request; *client CPU* is the load generator's share of one core.",
        "",
        "- (a) the generated service as `newservice create` makes it: the administrator's"
        " token checked (one statement), then two statements selecting the columns the"
        " response shows, async session, the page validated by its response schema in one"
        " call",
        "- (f) the same app with `METRICS_ENABLED=false` and without the request-id middleware"
        " (asgi-correlation-id): (a) without its telemetry. Both log each request (the request"
        " log counts the SQL statements the table shows).",
        "- (e) the same app, the generated GET /users endpoint with its administrator"
        " parameter answered by a fixed administrator without any I/O: (a) without the token"
        " check (not through `app.dependency_overrides`, with which FastAPI analyses every"
        " dependency's signature again on every request)",
        "- (b) the same app, GET /users replaced by lazy loading per user (one SELECT each),"
        " no token check",
        "- (c) the same app, GET /users as a `def` route on a sync engine (psycopg) and sync"
        " sessions, the same two statements, same pool sizes, no token check",
        "- (d) the floor: Starlette + a raw asyncpg pool, the same two queries, JSON by hand",
        "",
        f"The targets compare ({BASELINE}) with (b), (c) and (d): none of them checks a token,"
        " so each ratio measures only what that variant changes, as (a)'s did before the"
        f" service had authentication; the check's own cost is ({BASELINE}) against (a).",
        "",
    ]
    others = [variant.key for variant in VARIANTS if variant.key != BASELINE]
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
            [
                _cell_row(variant, cell, result.spread(variant.key, cell.concurrency))
                for variant, cell in cells
            ],
        ),
        "",
        f"Ratios of ({BASELINE})'s req/s to the others' ((e)/(a): the cost of authentication),"
        " the median of the rounds' (lowest to highest in brackets):",
        "",
        markdown_table(
            ["Clients", *(f"({BASELINE})/({other})" for other in others)],
            "r" * (1 + len(others)),
            [
                [level, *(_ratio_with_spread(result, other, level) for other in others)]
                for level in result.concurrency
            ],
        ),
        "",
        f"**Cost of authentication** at c={result.headline}: {_auth_cost(result)}.",
        "",
        f"**Cost of telemetry** at c={result.headline}: {_telemetry_cost(result)}.",
    ]
    if result.list_cpu_ms:
        rows += ["", *_list_parts(result)]
    if chart:
        rows += ["", f"![Throughput and latency by concurrency]({chart})"]
    return "\n".join(rows)


LIST_WAYS = {
    "generated": "the generated listing: session, pool checkout with pre-ping, BEGIN, the two"
    " statements, COMMIT, the rows as dicts, the page validated and serialized to JSON, on"
    " the heap the lifespan froze",
    "rows as mappings": "generated, with the rows as SQLAlchemy RowMappings instead of dicts",
    "heap not frozen": "generated, without the lifespan's gc.freeze()",
    "before": "the listing as first written: statements built per request, rows as"
    " mappings, each user validated on its own, heap not frozen",
    "no pre-ping": "generated, on an engine without pool_pre_ping",
    "statements only": "generated, without validating and serializing the page",
    "raw asyncpg": "the floor's two queries on an asyncpg pool (no session, no"
    " transaction), validated and serialized as generated",
}


def _list_rounds(result: ThroughputResult) -> list[dict[str, float]]:
    """The in-process rounds, each {way: CPU ms per page}."""
    ways = result.list_cpu_ms
    return [dict(zip(ways, values, strict=True)) for values in zip(*ways.values(), strict=True)]


def _list_part(result: ThroughputResult, part: Callable[[dict[str, float]], float]) -> str:
    """A part of the page's CPU, computed round by round, as "median ms (lowest to highest)".

    Paired by round, because a round runs every way back to back: what disturbs one round
    disturbs all its ways alike, and drops out of their differences.
    """
    values = [part(ways) for ways in _list_rounds(result)]
    text = f"{format_number(median(values), 2)} ms"
    if len(values) > 1:
        text += f" ({format_number(min(values), 2)} to {format_number(max(values), 2)})"
    return text


def _way(way: str) -> Callable[[dict[str, float]], float]:
    return lambda ways: ways[way]


def _over_generated(way: str) -> Callable[[dict[str, float]], float]:
    """What `way` costs more than generated (for a way without a change: what it saves)."""
    return lambda ways: ways[way] - ways["generated"]


def _list_parts(result: ThroughputResult) -> list[str]:
    return [
        "Where the CPU of one page goes, without HTTP (`bench/remote/listcost.py`): each way"
        f" runs in one process on the generated engine, in {len(_list_rounds(result))}"
        " interleaved rounds; CPU time per page, the median of the rounds (lowest to"
        " highest), and its difference to generated taken round by round.",
        "",
        markdown_table(
            ["Way", "CPU per page", "Against generated"],
            "lrr",
            [
                [
                    f"{way}: {LIST_WAYS.get(way, '')}",
                    _list_part(result, _way(way)),
                    _list_part(result, _over_generated(way)) if way != "generated" else MISSING,
                ]
                for way in result.list_cpu_ms
            ],
        ),
    ]


def _list_parts_note(result: ThroughputResult) -> str:
    generated = median(result.list_cpu_ms["generated"])
    cell = result.cell(BASELINE, result.headline)
    http = (cell.server_cpu_ms if cell else math.nan) - generated

    def page_json(ways: dict[str, float]) -> float:
        return ways["generated"] - ways["statements only"]

    def sqlalchemy_extra(ways: dict[str, float]) -> float:
        return ways["statements only"] - (ways["raw asyncpg"] - page_json(ways))

    def pre_ping(ways: dict[str, float]) -> float:
        return ways["generated"] - ways["no pre-ping"]

    def saved_by(way: str) -> str:
        return _list_part(result, _over_generated(way))

    return (
        f"**Where ({BASELINE})'s CPU goes** at c={result.headline}: {_cpu_ms(result, BASELINE)}"
        f" ms per request, of which the page itself is {format_number(generated, 2)} ms"
        " in process (above) and the rest, about"
        f" {format_number(http, 2)} ms, is HTTP: uvicorn, the middleware (request log,"
        " request id, metrics, body limit), FastAPI's routing, dependencies and query"
        " validation. Within the page, round by round: validating and serializing it"
        f" {_list_part(result, page_json)}; the pre-ping {_list_part(result, pre_ping)}"
        " (SQLAlchemy pings asyncpg with BEGIN, an empty statement and ROLLBACK: three"
        " round trips, kept because they make a restarted database invisible to requests);"
        " and SQLAlchemy's session, transaction and statement execution"
        f" {_list_part(result, sqlalchemy_extra)} more than asyncpg's own two fetches."
        f" Since the listing was first written, {saved_by('before')} came off each page:"
        f" the rows as dicts {saved_by('rows as mappings')}, the frozen heap"
        f" {saved_by('heap not frozen')} (more in the server: sampled with py-spy under load"
        " before the freeze, a fifth of its CPU was the garbage collector walking the"
        " start-up heap), and the rest from statements built once with bound parameters (an"
        " array parameter for PostgreSQL) and the page validated in one call."
    )


def _ratio_with_spread(result: ThroughputResult, other: VariantKey, level: int) -> str:
    ratios = result.round_ratios(BASELINE, other, level)
    text = format_ratio(result.ratio_to(other, level))
    if len(ratios) > 1:
        text += f" ({format_ratio(min(ratios))} to {format_ratio(max(ratios))})"
    return text


def _auth_cost(result: ThroughputResult) -> str:
    cost = AuthCost.of(result, result.headline)
    return (
        f"(e)/(a) = {format_ratio(cost.rps_ratio)} in req/s; (a)'s p50"
        f" {format_signed(cost.p50_added_ms)} ms and p99 {format_signed(cost.p99_added_ms)} ms"
        f" against (e)'s, server CPU per request {format_signed(cost.cpu_added_ms, 2)} ms"
    )


def _telemetry_cost(result: ThroughputResult) -> str:
    level = result.headline
    on, off = result.cell(VariantKey.GENERATED, level), result.cell(VariantKey.NO_TELEMETRY, level)
    if on is None or off is None:
        return "not measured"
    return (
        f"(a)/(f) = {format_ratio(ratio(on.rps, off.rps))} in req/s; (a)'s p50"
        f" {format_signed(on.latency.p50 - off.latency.p50)} ms against (f)'s, server CPU per"
        f" request {format_signed(on.server_cpu_ms - off.server_cpu_ms, 2)} ms (the request"
        " id in and out, the metrics of each request and the pool gauges at each checkout"
        " and checkin)"
    )


def _cell_row(variant: Variant, cell: Cell, spread: tuple[float, float]) -> list[object]:
    low, high = spread
    return [
        f"({variant.key}) {variant.label}",
        cell.concurrency,
        format_number(cell.rps)
        + ("" if low == high else f" ({format_number(low)} to {format_number(high)})"),
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
        f"cost of authentication at c={result.headline}: {_auth_cost(result)}",
        f"cost of telemetry at c={result.headline}: {_telemetry_cost(result)}",
    ]


def _notes(result: ThroughputResult, _context: Context) -> list[str]:
    notes = [_where_the_time_goes(result), _auth_note(result)]
    if result.list_cpu_ms:
        notes.append(_list_parts_note(result))
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
    floor = VariantKey.FLOOR
    if not all(result.met(floor, level) for level in result.target_levels(floor)):
        notes.append(_floor_missed_note(result))
    return notes


def _cpu_ms(result: ThroughputResult, variant: VariantKey) -> str:
    """CPU per request at the headline concurrency."""
    cell = result.cell(variant, result.headline)
    return format_number(cell.server_cpu_ms if cell else math.nan)


def _each(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}"


def _where_the_time_goes(result: ThroughputResult) -> str:
    def busy(variant: VariantKey) -> str:
        cell = result.cell(variant, result.headline)
        return format_percent(cell.rps * cell.server_cpu_ms / 1000 if cell else math.nan)

    keys = [variant.key for variant in VARIANTS]
    return (
        f"**Where the time goes.** At c={result.headline} the server process spends"
        f" {_each([f'{_cpu_ms(result, key)} ms in ({key})' for key in keys])} of CPU per"
        f" request, and is busy {_each([busy(key) for key in keys])} of one core: one Python"
        " process is the bottleneck (PostgreSQL and the load generator share the other core),"
        " so req/s is about 1000 divided by the CPU per request, and more clients add queueing"
        " (p50 grows with them), not throughput."
    )


def _auth_note(result: ThroughputResult) -> str:
    return (
        f"**The cost of authentication** at c={result.headline}: {_auth_cost(result)}. On every"
        " request (a) verifies the JWT (HS256 with PyJWT: signature, expiry, issuer, audience)"
        " and sends one indexed SELECT: the user by primary key, on condition that its login"
        " still has an unrevoked refresh token (EXISTS on the indexed family_id), so that a"
        " logout ends its access tokens at once. That is the third statement in (a)'s SQL/req."
        " (e) receives the same header and runs the same list; only the check is missing. No"
        " target: the check's share depends on how much the endpoint does besides (here a"
        " page of 50 users with their projects), so no ratio measured on one endpoint holds"
        " for another."
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
            f"**({BASELINE}) against N+1 (b): missed.** (b) sends 51 statements per request; at"
            f" c={result.headline} its CPU per request is {_cpu_ms(result, VariantKey.NPLUS1)}"
            f" ms against {_cpu_ms(result, BASELINE)} ms for ({BASELINE}). Loopback round"
            " trips are cheap here, so the N+1 costs less than it would with the database on"
            " another host."
        )
    return (
        f"**({BASELINE}) against N+1 (b): {format_ratio(result.ratio_to(VariantKey.NPLUS1))}.**"
        " 51 statements instead of 2; each costs a round trip and the ORM's per-statement work."
        " On a network with real latency to the database the gap grows with every round trip."
    )


def _sync_missed_note(result: ThroughputResult) -> str:
    return (
        f"**({BASELINE}) against sync (c): {format_ratio(result.ratio_to(VariantKey.SYNC))},"
        " missed.** Both send the same two statements, built once, and validate the same"
        " page the same way; the endpoint"
        f" is CPU work, not waiting: ({BASELINE}) and (c) spend {_cpu_ms(result, BASELINE)} and"
        f" {_cpu_ms(result, VariantKey.SYNC)} ms of CPU per request, and"
        " two queries on loopback take little of a request's time. What async saves is a"
        " thread per waiting request: (c) pays for handing each request to the threadpool"
        " and back, and for its threads taking turns on the GIL, which is the whole gap"
        " here. It pays off most when requests wait (slow queries, remote calls), and"
        " past the threadpool's size, where (c) stalls (above). On a CPU-bound list"
        " against a local database, one process gains less than the target assumes."
    )


def _floor_missed_note(result: ThroughputResult) -> str:
    floor = VariantKey.FLOOR
    levels = [
        f"{_ratio_with_spread(result, floor, level)} at c={level}"
        for level in result.target_levels(floor)
    ]
    return (
        f"**({BASELINE}) against the floor (d): {', '.join(levels)}; missed where the median"
        f" is under {format_ratio(TARGETS[floor])}.** (d) spends {_cpu_ms(result, floor)} ms"
        f" of CPU per request at c={result.headline}, ({BASELINE})"
        f" {_cpu_ms(result, BASELINE)}, with the same two statements and rows; where the"
        " difference goes is above (*Where the CPU goes*). What is left is the seed's"
        " patterns themselves: SQLAlchemy's session and transaction per request (with BEGIN"
        " and COMMIT round trips (d) skips), the pre-ping, FastAPI's routing and"
        " dependencies, the request log, and validating the response against its schema."
        " Measured in process and left out, each under a tenth of the page's CPU: pinging"
        " with one empty statement instead of SQLAlchemy's BEGIN, statement, ROLLBACK (a"
        " hand-written pool hook in place of the library's); one joined statement instead"
        " of two (against the selectinload shape the service teaches, with more rows to"
        " read). The spread in brackets is how far one server's rate moves from round to"
        " round on this machine."
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
