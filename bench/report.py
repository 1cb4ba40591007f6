"""The report: every target with its verdict, the tables, and why a miss is a miss.

The same `Report` gives the markdown (docs/benchmarks.md for a full run), the JSON beside
it (what tests/test_bench_smoke.py reads) and the table printed at the end of a run.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bench import eventloop, generation, overload, recovery, throughput
from bench.eventloop import EventLoopResult
from bench.generation import GenerationResult
from bench.machine import Machine
from bench.overload import OverloadResult
from bench.recovery import RecoveryResult
from bench.sizes import Sizes
from bench.stats import median
from bench.throughput import VARIANTS, ThroughputResult

SECTIONS = ("generation", "throughput", "overload", "eventloop", "recovery")
# Typographic signs, spelled as escapes so that no source line holds a look-alike letter.
TIMES = "\u00d7"
MISSING = "\u2013"


@dataclass
class Report:
    sizes: Sizes
    command: str
    started: datetime
    machine: Machine
    elapsed_s: float = 0.0
    generation: GenerationResult | None = None
    throughput: ThroughputResult | None = None
    overload: OverloadResult | None = None
    eventloop: EventLoopResult | None = None
    recoveries: list[RecoveryResult] = field(default_factory=list)
    charts: dict[str, str] = field(default_factory=dict)
    """Chart kind -> file name, beside the markdown."""


@dataclass(frozen=True)
class Target:
    section: str
    goal: str
    measured: str
    met: bool
    shortfall: str = ""
    """How far a missed target is from its goal."""


def _n(value: float, digits: int = 1) -> str:
    return MISSING if value is None or math.isnan(value) else f"{value:,.{digits}f}"


def _pct(value: float) -> str:
    return MISSING if math.isnan(value) else f"{value:.0%}"


def _x(value: float) -> str:
    return MISSING if math.isnan(value) else f"{value:.2f}{TIMES}"


def _below(measured: float, goal: float) -> str:
    """Shortfall of a 'at least goal' target."""
    if math.isnan(measured):
        return "not measured"
    return f"{(goal - measured) / goal:.0%} short ({_x(measured)} of {_x(goal)})"


def _over(measured: float, goal: float, unit: str) -> str:
    """Excess of an 'at most goal' target."""
    if math.isnan(measured):
        return "not measured"
    return f"{(measured - goal) / goal:.0%} over ({_n(measured, 2)} {unit} for {_n(goal, 2)})"


def targets(report: Report) -> list[Target]:
    found: list[Target] = []
    gen = report.generation
    if gen is not None:
        found.append(
            Target(
                "1",
                f"`create` ≤ {generation.CREATE_TARGET}{TIMES} plain `copier copy`",
                _x(gen.create_ratio),
                gen.create_met,
                _over(gen.create_ratio, generation.CREATE_TARGET, TIMES),
            )
        )
        help_s = median(gen.help_s)
        found.append(
            Target(
                "1",
                f"`newservice --help` < {generation.HELP_TARGET_S} s",
                f"{_n(help_s, 3)} s",
                gen.help_met,
                _over(help_s, generation.HELP_TARGET_S, "s"),
            )
        )
    tp = report.throughput
    if tp is not None:
        for other, goal in throughput.TARGETS.items():
            value = tp.ratio_to(other)
            found.append(
                Target(
                    "2",
                    f"(a) ≥ {goal}{TIMES} ({other}) in req/s at c={tp.headline}",
                    _x(value),
                    tp.met(other),
                    _below(value, goal),
                )
            )
    ov = report.overload
    if ov is not None:
        limit = overload.POOL_SIZE + overload.MAX_OVERFLOW
        busy = sum(n for state, n in ov.after.items() if state != "idle")
        found += [
            Target(
                "3",
                f"{ov.clients} clients: no errors but 503s",
                f"{ov.non_503_errors} errors, {ov.statuses.get('503', 0)} 503s",
                ov.non_503_errors == 0,
                f"{ov.non_503_errors} errors",
            ),
            Target(
                "3",
                f"≤ {limit} connections from the service",
                f"{ov.max_connections} at most",
                ov.max_connections <= limit,
                f"{ov.max_connections - limit} too many",
            ),
            Target(
                "3",
                "pool idle afterwards",
                _states(ov.after),
                busy == 0 and sum(ov.after.values()) <= overload.POOL_SIZE,
                f"{busy} busy, {sum(ov.after.values())} open",
            ),
        ]
    loop = report.eventloop
    if loop is not None:
        for name in eventloop.OFFLOADED:
            mode = loop.mode(name)
            p99 = mode.probe.p99 if mode else math.nan
            found.append(
                Target(
                    "4",
                    f"/health/live p99 < {eventloop.TARGET_P99_MS:.0f} ms, job {_OFFLOAD[name]}",
                    f"{_n(p99)} ms",
                    loop.met(name),
                    _over(p99, eventloop.TARGET_P99_MS, "ms"),
                )
            )
    for rec in report.recoveries:
        found += [
            Target(
                "5",
                f"{_how(rec)}: succeed again < {recovery.TARGET_S:.0f} s after",
                f"{_n(rec.recovery_s, 2)} s",
                rec.recovery_s < recovery.TARGET_S,
                _over(rec.recovery_s, recovery.TARGET_S, "s"),
            ),
            Target(
                "5",
                f"{_how(rec)}: no 500s",
                f"{rec.count_500} {TIMES} 500",
                rec.count_500 == 0,
                f"{rec.count_500} {TIMES} 500",
            ),
        ]
    return found


_OFFLOAD = {
    "thread": "on the job thread",
    "process": "in a process pool",
    "worker": "in the arq worker",
}
_RECOVERY = {"proxy": "proxy cut", "restart": "PostgreSQL restart"}


def _how(rec: RecoveryResult) -> str:
    name = _RECOVERY[rec.method]
    if rec.measured_at:
        when = datetime.fromisoformat(rec.measured_at)
        return f"{name} (measured in the run of {when:%Y-%m-%d %H:%M} UTC)"
    return name


def _errors(statuses: dict[str, int]) -> str:
    failures = {k: n for k, n in statuses.items() if not k.startswith("2")}
    if not failures:
        return "0"
    return f"{sum(failures.values())} ({_states(failures)})"


def _states(states: dict[str, int]) -> str:
    return ", ".join(f"{n} {state}" for state, n in sorted(states.items())) or "none"


def _verdict(target: Target) -> str:
    return "**met**" if target.met else f"**missed**: {target.shortfall}"


# --- markdown -------------------------------------------------------------------------


def to_markdown(report: Report) -> str:
    parts = [_header(report), _target_table(report)]
    if report.generation is not None:
        parts.append(_generation(report.generation))
    if report.throughput is not None:
        parts.append(_throughput(report.throughput, report.charts.get("latency")))
    if report.overload is not None:
        parts.append(_overload(report.overload))
    if report.eventloop is not None:
        parts.append(_eventloop(report.eventloop, report.charts.get("eventloop")))
    if report.recoveries:
        parts.append(_recovery(report.recoveries))
    parts.append(_why(report))
    return "\n\n".join(part.strip("\n") for part in parts if part) + "\n"


def _header(report: Report) -> str:
    m = report.machine
    versions = ", ".join(f"{name} {v}" for name, v in m.service_versions.items())
    skipped = [s for s in SECTIONS if not _has(report, s)]
    lines = [
        "# Benchmarks",
        "",
        "Numbers of one run of the harness in `bench/` (how it works: `bench/__main__.py`),"
        " measured side by side on one machine. Every ratio compares two things measured in"
        " the same run. Regenerate with the command below; the file is overwritten.",
        "",
        f"- **Command:** `{report.command}` ({report.sizes.name} sizes), from the repository"
        " root, with newservice installed with its `test` extra"
        " (`pip install -e '.[test]'`), PostgreSQL on 127.0.0.1:5432 and uv",
        f"- **When:** {report.started:%Y-%m-%d %H:%M} UTC, {report.elapsed_s / 60:.1f} minutes",
        f"- **Machine:** {m.cores} cores ({m.cpu}), {m.memory_gib:.0f} GiB memory, {m.system}",
        f"- **Load average** (1, 5, 15 min) before: {_load(m.load_before)};"
        f" after: {_load(m.load_after)}. The machine was shared: other processes' load is"
        " in these numbers.",
        f"- **Versions:** Python {m.python}, newservice {m.newservice} (checkout"
        f" {m.checkout}), copier {m.copier}; generated service: {versions}",
    ]
    if skipped:
        lines.append(f"- **Not run:** {', '.join(skipped)}")
    return "\n".join(lines)


def _has(report: Report, section: str) -> bool:
    value = {
        "generation": report.generation,
        "throughput": report.throughput,
        "overload": report.overload,
        "eventloop": report.eventloop,
        "recovery": report.recoveries or None,
    }[section]
    return value is not None


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _target_table(report: Report) -> str:
    rows = ["## Targets", "", "| # | Target | Measured | Verdict |", "| --- | --- | --- | --- |"]
    rows += [f"| {t.section} | {t.goal} | {t.measured} | {_verdict(t)} |" for t in targets(report)]
    rows += ["", "Why each miss is a miss: [What the numbers say](#what-the-numbers-say)."]
    return "\n".join(rows)


def _generation(gen: GenerationResult) -> str:
    baseline = median(gen.copier_s)
    python = median(gen.python_s)

    def row(name: str, values: list[float], base: float, base_name: str) -> str:
        return (
            f"| {name} | {_n(median(values), 3)} | {_n(min(values, default=math.nan), 3)}"
            f" | {_n(max(values, default=math.nan), 3)} | {_x(median(values) / base)}"
            f" {base_name} |"
        )

    imports = ", ".join(f"{name} {ms:.0f} ms" for name, ms in gen.imports_ms.items())
    development = gen.template.endswith(" at HEAD")
    return "\n".join(
        [
            "## 1. Generation",
            "",
            f"Median wall time of {len(gen.create_s)} runs each, interleaved, after an untimed"
            f" first run; seconds. Template: `{gen.template}`"
            + (
                " (a development checkout: both render its working tree, uncommitted edits"
                " included, through a throwaway commit Copier makes in a temporary clone)."
                if development
                else "."
            ),
            "",
            "| Command | Median | Min | Max | Ratio |",
            "| --- | ---: | ---: | ---: | --- |",
            row("`copier copy --defaults` (baseline)", gen.copier_s, baseline, "copier"),
            row("`newservice create DEST --defaults`", gen.create_s, baseline, "copier"),
            row(
                "`newservice create DEST --defaults --no-git`",
                gen.create_no_git_s,
                baseline,
                "copier",
            ),
            row("`python -c pass` (baseline)", gen.python_s, python, "python"),
            row("`newservice --help`", gen.help_s, python, "python"),
            "",
            f"Import times behind `--help` (`python -X importtime`, cumulative): {imports}."
            + ("" if "copier" in gen.imports_ms else " Copier is not imported."),
        ]
    )


def _throughput(tp: ThroughputResult, chart: str | None) -> str:
    labels = {v.key: v.label for v in VARIANTS}
    notes = {v.key: v.statements_note for v in VARIANTS}
    rows = [
        "## 2. Throughput and latency: GET /users?limit=50",
        "",
        f"{tp.users} users with {tp.projects_per_user} projects each"
        f" ({tp.response_bytes:,} bytes of JSON), PostgreSQL, one uvicorn worker per variant,"
        " default pool (10 + 20). All four were checked to return the same JSON before"
        " measuring. Closed loop: each client sends its next request when the previous answer"
        " is in, over keep-alive connections, from a separate process"
        " (`bench/remote/loadgen.py`). Latency in ms; *SQL/req* from the service's own"
        " request log (`sql=N`, counted by its `before_cursor_execute` listener, so the"
        " driver's BEGIN and COMMIT are not in it); *CPU/req* is the server process's CPU"
        " time per answered"
        " request; *client CPU* is the load generator's share of one core.",
        "",
        "- (a) the generated service: two statements selecting the columns the response"
        " shows, async session, rows validated into the pydantic response model",
        "- (b) the same app, GET /users replaced by lazy loading per user (one SELECT each)",
        "- (c) the same app, GET /users as a `def` route on a sync engine (psycopg) and sync"
        " sessions, the same two statements, same pool sizes",
        "- (d) the floor: Starlette + a raw asyncpg pool, the same two queries, JSON by hand",
        "",
        "| Variant | Clients | req/s | p50 | p90 | p99 | Errors | SQL/req | CPU/req ms"
        " | Client CPU |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for level in tp.concurrency:
        for variant in VARIANTS:
            cell = tp.cell(variant.key, level)
            if cell is None:
                continue
            sql = notes[variant.key] or _n(cell.statements)
            rows.append(
                f"| ({variant.key}) {labels[variant.key]} | {level} | {_n(cell.rps)}"
                f" | {_n(cell.latency.p50)} | {_n(cell.latency.p90)} | {_n(cell.latency.p99)}"
                f" | {_errors(cell.statuses)} | {sql} | {_n(cell.server_cpu_ms)}"
                f" | {cell.client_cpu_share:.0%} |"
            )
    rows += ["", "Ratios of (a)'s req/s to the others':", ""]
    rows += ["| Clients | (a)/(b) | (a)/(c) | (a)/(d) |", "| ---: | ---: | ---: | ---: |"]
    rows += [
        f"| {level} | {_x(tp.ratio_to('b', level))} | {_x(tp.ratio_to('c', level))}"
        f" | {_x(tp.ratio_to('d', level))} |"
        for level in tp.concurrency
    ]
    if chart:
        rows += ["", f"![Throughput and latency by concurrency]({chart})"]
    return "\n".join(rows)


def _overload(ov: OverloadResult) -> str:
    return "\n".join(
        [
            "## 3. Overload",
            "",
            f"{ov.clients} concurrent clients for {ov.duration_s:.0f} s on GET /users?limit=50"
            f" against the generated service with pool_size {overload.POOL_SIZE} +"
            f" max_overflow {overload.MAX_OVERFLOW} (pool_timeout 30 s). The database's"
            f" connections were sampled every 50 ms ({ov.samples} samples) in"
            " pg_stat_activity, for the benchmark's own database.",
            "",
            "| req/s | p50 ms | p99 ms | max ms | Responses | Most connections"
            " | Afterwards | Idle after |",
            "| ---: | ---: | ---: | ---: | --- | ---: | --- | ---: |",
            f"| {_n(ov.rps)} | {_n(ov.latency.p50)} | {_n(ov.latency.p99)}"
            f" | {_n(ov.latency.max)} | {_states(ov.statuses)} | {ov.max_connections}"
            f" | {_states(ov.after)} | {_n(ov.idle_after_s, 2)} s |",
        ]
    )


def _eventloop(loop: EventLoopResult, chart: str | None) -> str:
    rows = [
        "## 4. Event loop",
        "",
        f"GET /health/live every {loop.probe_interval_ms:.0f} ms from its own process while"
        f" {loop.jobs} clients keep {loop.jobs} report jobs queued or running back to back:"
        " the generated POST /projects/{id}/report (202), whose job loads the project, runs"
        f" its CPU part (`reports/compute.py`, pure Python, {loop.simulations:,} simulations)"
        f" and stores the result; the client polls GET /reports/{{id}} every"
        f" {loop.job_poll_ms:.0f} ms until it is done, then asks again"
        f" (`bench/remote/jobdriver.py`). One job alone runs {_n(loop.job_ms)} ms (from"
        " started_at to finished_at). Probes are sent one at a time: when the loop stalls,"
        " fewer are sent (the *Probes* column), so a stall's tail is if anything"
        " understated. The CPU part runs in"
        " the job queue's one CPU thread as generated (worker=none), on the event loop"
        " (`reports.service.run_inline`), or in a process pool, as a worker process would;"
        " the two variants swap only the job queue's offload (`bench/remote/variants.py`)."
        " Last, the service generated with `--worker arq`: the API enqueues on Redis and a"
        " real arq worker process runs the jobs, their CPU part in its process pool.",
        "",
        "| CPU part runs | /health/live p50 ms | p90 ms | p99 ms | max ms | Probes | Jobs/s"
        " | Job p50 ms | Jobs |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    names = {
        "idle": "no jobs (baseline)",
        "inline": "inline, on the event loop",
        "thread": "one job thread (generated)",
        "process": "process pool",
        "worker": "arq worker on Redis (--worker arq)",
    }
    for mode in loop.modes:
        rows.append(
            f"| {names[mode.mode]} | {_n(mode.probe.p50)} | {_n(mode.probe.p90)}"
            f" | {_n(mode.probe.p99)} | {_n(mode.probe.max)} | {mode.probe.count}"
            f" | {_n(mode.jobs_per_s)} | {_n(mode.job.p50)} | {_states(mode.job_statuses)} |"
        )
    if chart:
        rows += ["", f"![/health/live latency while jobs run]({chart})"]
    return "\n".join(rows)


def _recovery(recoveries: list[RecoveryResult]) -> str:
    rows = [
        "## 5. Recovery",
        "",
        "GET /users?limit=50 from a few clients while the database goes away and comes back."
        " *Proxy cut*: the service reaches PostgreSQL through a TCP proxy"
        " (`bench/remote/tcpproxy.py`) that resets every connection and refuses new ones,"
        " then listens again; nothing else on the machine notices. *PostgreSQL restart*:"
        " `pg_ctlcluster ... restart` (only with `--restart-postgres`; a later run may carry"
        " that result over with `--reuse-restart`, rather than disturb every user of the"
        " server again). *Back*: the proxy"
        " listens again / pg_isready answers after the restart. *Recovered*: from back to the"
        " first success after the last failure.",
        "",
        "| How | Clients | Down s | Recovered after s | Responses |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    rows += [
        f"| {_how(r)} | {r.clients} | {_n(r.down_s, 2)} | {_n(r.recovery_s, 2)}"
        f" | {_states(r.statuses)} |"
        for r in recoveries
    ]
    if any(r.measured_at for r in recoveries):
        rows += [
            "",
            "A result carried over from an earlier run was measured with the template and"
            " service of that run, which may differ from this one's.",
        ]
    return "\n".join(rows)


def _why(report: Report) -> str:
    notes = [
        "## What the numbers say",
        "",
    ]
    notes += [f"- {note}" for note in explanations(report)]
    return "\n".join(notes)


def explanations(report: Report) -> list[str]:
    """One paragraph per finding, with the run's numbers; every miss gets one."""
    found: list[str] = []
    gen = report.generation
    if gen is not None:
        git_s = median(gen.create_s) - median(gen.create_no_git_s)
        no_git = median(gen.create_no_git_s) / median(gen.copier_s)
        git = (
            f"`git init` and the first commit take {_n(git_s, 2)} s of it"
            if git_s > 0
            else "git costs nothing measurable against the run-to-run noise"
        )
        found.append(
            f"**Generation.** `create` costs {_x(gen.create_ratio)} plain Copier; without git"
            f" it is {_x(no_git)}, so {git}. Copier's rendering is the bulk of both; newservice"
            " adds the answers check and the staging folder that make creation atomic."
            + (
                ""
                if gen.create_met
                else " The target is missed by the steps plain Copier does not do."
            )
        )
        if not gen.help_met:
            cli = gen.imports_ms.get("newservice.cli", math.nan)
            found.append(
                f"**`--help`: {_n(median(gen.help_s), 3)} s, missed.** The interpreter alone"
                f" starts in {_n(median(gen.python_s), 3)} s; importing the CLI takes"
                f" {_n(cli, 0)} ms ({_heaviest(gen.imports_ms)}), and Typer and Rich"
                " build the help with the rest. Copier is"
                + (" imported" if "copier" in gen.imports_ms else " not imported")
                + ", as intended; but cli.py imports newservice.create and newservice.update"
                " at module level for every command, and newservice/__init__.py imports"
                " importlib.metadata for the version. Importing the command modules inside"
                " their commands, and the version lazily, would take most of the excess off."
            )
    tp = report.throughput
    if tp is not None:
        found += _throughput_notes(tp)
    ov = report.overload
    if ov is not None:
        found.append(
            f"**Overload.** {ov.clients} clients against 30 connections: the requests queue"
            f" for a connection (p99 {_n(ov.latency.p99 / 1000, 2)} s against the 30 s"
            f" pool_timeout), the database saw at most {ov.max_connections} connections, and"
            f" afterwards {_states(ov.after)}: the overflow connections were closed and the"
            " pool kept its 10."
            + (
                ""
                if ov.non_503_errors == 0
                else f" {ov.non_503_errors} requests failed otherwise than with a 503."
            )
        )
        if ov.latency.p99 > _UNFAIR * ov.latency.p50:
            if any(note.startswith("**The long tail") for note in found):
                found.append(
                    f"**The same long tail** in the overload run (p50 {_n(ov.latency.p50)} ms,"
                    f" p99 {_n(ov.latency.p99)} ms): the pool's waiting line, see above."
                )
            else:
                found.append(_unfair_queue(ov.latency.p50, ov.latency.p99, ov.clients))
        if ov.non_503_errors:
            found.append(
                f"**Overload: {_errors(ov.statuses)}, missed.** A request that waits longer"
                " than pool_timeout (30 s) for a connection gets sqlalchemy.exc.TimeoutError,"
                " which no exception handler maps, so the service answers 500, not the 503"
                f" the target allows. The average wait was about {_n(ov.clients / ov.rps)} s"
                f" (clients / req/s) and the slowest success took {_n(ov.latency.max / 1000)} s:"
                " only the unfair waiting line above lets a request reach 30 s at this load."
                " A handler mapping TimeoutError to 503 (with Retry-After) meets the target's"
                " letter; a fair or bounded line meets its intent."
            )
    loop = report.eventloop
    if loop is not None:
        found += _eventloop_notes(loop, report.machine.cores)
    for rec in report.recoveries:
        found.append(_recovery_note(rec))
    return found


_UNFAIR = 4
"""A p99 this many times the p50 under a full pool points at the pool's waiting line."""


def _unfair_queue(p50: float, p99: float, clients: int) -> str:
    return (
        f"**The long tail at {clients} clients** (p50 {_n(p50)} ms, p99 {_n(p99)} ms) is the"
        " pool's waiting line, which is not first come, first served: SQLAlchemy's asyncio"
        " pool queue hands a returned connection to whoever asks first without waiting"
        " (`get_nowait`), so a newly arrived request can take it before the waiter that was"
        " woken for it runs, and asyncio.Queue puts that waiter back at the end of the line."
        " Most requests get a connection quickly, a few wait many turns. Capping the"
        " requests in flight near the pool size (uvicorn --limit-concurrency, or a"
        " semaphore in front of the session) would turn that tail into quick 503s."
    )


def _heaviest(imports: dict[str, float]) -> str:
    parts = sorted(
        ((ms, name) for name, ms in imports.items() if name != "newservice.cli"), reverse=True
    )
    return ", ".join(f"{name} {ms:.0f} ms" for ms, name in parts[:3])


def _rps(tp: ThroughputResult, variant: str, concurrency: int) -> float:
    cell = tp.cell(variant, concurrency)
    return cell.rps if cell else math.nan


def _throughput_notes(tp: ThroughputResult) -> list[str]:
    level = tp.headline
    cells = {key: tp.cell(key, level) for key in "abcd"}
    cpu = {key: (cell.server_cpu_ms if cell else math.nan) for key, cell in cells.items()}
    busy = {
        key: (cell.rps * cell.server_cpu_ms / 1000 if cell else math.nan)
        for key, cell in cells.items()
    }
    notes = [
        f"**Where the time goes.** At c={level} the server process spends {_n(cpu['a'])} ms"
        f" of CPU per request in (a), {_n(cpu['b'])} in (b), {_n(cpu['c'])} in (c) and"
        f" {_n(cpu['d'])} in (d), and is busy {_pct(busy['a'])}, {_pct(busy['b'])},"
        f" {_pct(busy['c'])} and {_pct(busy['d'])} of one core: one Python process is the"
        " bottleneck (PostgreSQL and the load generator share the other core), so req/s"
        " is about 1000 divided by the CPU per request, and more clients add queueing"
        " (p50 grows with them), not throughput."
    ]
    top = max(tp.concurrency)
    top_a = tp.cell("a", top)
    if top_a is not None and top_a.latency.p99 > _UNFAIR * top_a.latency.p50:
        notes.append(_unfair_queue(top_a.latency.p50, top_a.latency.p99, top))
    stalled = [
        cell
        for cell in tp.cells
        if cell.variant == "c" and (cell.rps == 0 or "unfinished" in cell.statuses)
    ]
    if stalled:
        worst = stalled[-1]
        notes.append(
            f"**(c) stalls at {worst.concurrency} clients** ({_n(worst.rps)} req/s,"
            f" {_errors(worst.statuses)}). This is the known deadlock of sync `yield`"
            " dependencies: the endpoint and the dependency's exit (which closes the session"
            " and returns its connection) both need a threadpool thread (40). When more"
            " requests wait than there are connections (30), the threads fill with endpoints"
            " blocked on the empty pool, the exits that would refill it queue behind them,"
            " and nothing moves until pool_timeout (30 s) fails the waiters with an error. The"
            " async service has no such coupling: at the same load (a) served"
            f" {_n(_rps(tp, 'a', worst.concurrency))} req/s."
        )
    if not tp.met("b"):
        notes.append(
            f"**(a) against N+1 (b): missed.** (b) sends 51 statements per request; at"
            f" c={level} its CPU per request is {_n(cpu['b'])} ms against {_n(cpu['a'])} ms"
            " for (a). Loopback round trips are cheap here, so the N+1 costs less than it"
            " would with the database on another host."
        )
    else:
        notes.append(
            f"**(a) against N+1 (b): {_x(tp.ratio_to('b'))}.** 51 statements instead of 2;"
            " each costs a round trip and the ORM's per-statement work. On a network with"
            " real latency to the database the gap grows with every round trip."
        )
    if not tp.met("c"):
        notes.append(
            f"**(a) against sync (c): {_x(tp.ratio_to('c'))}, missed.** Both send the same two"
            " statements and validate the same rows; the endpoint is CPU work, not waiting:"
            f" (a) and (c) spend {_n(cpu['a'])} and {_n(cpu['c'])} ms of CPU per request, and"
            " two queries on loopback take little of a request's time. What async saves is a"
            " thread per waiting request: (c) pays for handing each request to the threadpool"
            " and back, and for its threads taking turns on the GIL, which is the whole gap"
            " here. It pays off most when requests wait (slow queries, remote calls), and"
            " past the threadpool's size, where (c) stalls (above). On a CPU-bound list"
            " against a local database, one process gains less than the target assumes."
        )
    if not tp.met("d"):
        notes.append(
            f"**(a) against the floor (d): {_x(tp.ratio_to('d'))}, missed.** (d) spends"
            f" {_n(cpu['d'])} ms of CPU per request, (a) {_n(cpu['a'])}, with the same two"
            " statements and rows. The difference is the framework and the safety (a) keeps:"
            " FastAPI's routing, dependency injection and response validation, the request"
            " log, a session per request, and three more round trips to the database per"
            " request that (d) skips: `pool_pre_ping` at checkout, BEGIN and COMMIT (get_db's"
            " transaction). (a) no longer builds ORM entities for the list (it selects"
            " columns), which was most of its cost in earlier runs."
        )
    return notes


def _eventloop_notes(loop: EventLoopResult, cores: int) -> list[str]:
    notes: list[str] = []
    inline = loop.mode("inline")
    thread = loop.mode("thread")
    process = loop.mode("process")
    if inline is not None:
        notes.append(
            f"**Inline jobs** block the loop: /health/live waits for the job in progress and"
            f" the ones queued before it (p99 {_n(inline.probe.p99)} ms; one job takes"
            f" {_n(loop.job_ms)} ms)."
        )
    if thread is not None and not loop.met("thread"):
        notes.append(
            f"**One job thread: p99 {_n(thread.probe.p99)} ms, missed.** A pure-Python job"
            " holds the GIL while it runs; the loop thread gets it back only when the job"
            " thread is forced to drop it (every 5 ms, sys.getswitchinterval()), several"
            " times per request. The generated queue keeps the jobs' CPU parts on one thread,"
            " so the loop competes with one thread, not with asyncio.to_thread's"
            f" {min(32, cores + 4)}; a thread still cannot make Python code run beside the"
            " loop."
            + (
                f" In a process pool (what a Celery/RQ/arq worker is) the same jobs leave"
                f" p99 at {_n(process.probe.p99)} ms."
                if process is not None
                else ""
            )
        )
    worker = loop.mode("worker")
    if worker is not None and not loop.met("worker"):
        notes.append(
            f"**arq worker: p99 {_n(worker.probe.p99)} ms, missed.** The worker's processes"
            f" and the API share {cores} cores: the API's loop waits for a core while the"
            " worker computes. A worker on its own host (or cores) leaves the loop only its"
            " own work."
        )
    if process is not None and not loop.met("process"):
        notes.append(
            f"**Process pool: p99 {_n(process.probe.p99)} ms, missed.** The jobs' processes"
            f" and the server share {cores} cores with PostgreSQL, the load generators and"
            " whatever else the machine runs (see the load average): the server waits for a"
            " core when the job processes have them. On a machine to itself, or with the"
            " worker on another host, the loop only ever waits for its own work."
        )
    return notes


def _recovery_note(rec: RecoveryResult) -> str:
    what = _how(rec)
    text = (
        f"**{what[0].upper()}{what[1:]}.** Requests succeed again"
        f" {_n(rec.recovery_s, 2)} s after the database is back: `pool_pre_ping` finds the"
        " dead pooled connections at checkout and replaces them, so nothing stale is"
        " handed to a request afterwards."
    )
    unavailable = rec.statuses.get("503", 0)
    if unavailable:
        text += (
            f" While it was away ({_n(rec.down_s, 2)} s), {unavailable} requests got a 503:"
            " the service maps a lost or refused database connection to 503, which a client"
            " may retry, instead of a 500."
        )
    if rec.count_500 and unavailable:
        causes = "; ".join(f"{name} {TIMES} {n}" for name, n in rec.causes.items()) or "none"
        text += (
            f" {rec.count_500} requests still got a 500. The exceptions that ended tracebacks"
            f" in the service's log during the run: {causes}. A lost connection reported that"
            " way is one the service's mapping to 503 (db/errors.py) does not recognise yet."
        )
    elif rec.count_500:
        text += (
            f" But {rec.count_500} requests got a 500 while it was away ({_n(rec.down_s, 2)} s):"
            " those in flight when the connections dropped, and every request that arrived"
            " while the database refused connections. The connection errors"
            " (sqlalchemy.exc.OperationalError / InterfaceError, OSError) reached no exception"
            " handler, so FastAPI answered 500. Zero 500s needs the service to map a lost or"
            " refused database connection to 503 with Retry-After; pre-ping alone cannot make a"
            " query succeed while the server is down."
        )
    return text


# --- JSON and console -----------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    """Everything measured, plus each target's verdict; NaN becomes null."""
    data: dict[str, Any] = {
        "sizes": asdict(report.sizes),
        "command": report.command,
        "started": report.started.isoformat(),
        "elapsed_s": report.elapsed_s,
        "machine": asdict(report.machine),
        "generation": asdict(report.generation) if report.generation else None,
        "throughput": asdict(report.throughput) if report.throughput else None,
        "overload": asdict(report.overload) if report.overload else None,
        "eventloop": asdict(report.eventloop) if report.eventloop else None,
        "recovery": [asdict(r) for r in report.recoveries],
        "targets": [asdict(t) for t in targets(report)],
        "charts": report.charts,
    }
    finite: dict[str, Any] = _finite(data)
    return finite


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def console_table(report: Report) -> str:
    rows = [("#", "Target", "Measured", "Verdict")]
    rows += [
        (t.section, t.goal.replace("`", ""), t.measured, "met" if t.met else "MISSED")
        for t in targets(report)
    ]
    tp = report.throughput
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    if tp is not None:
        lines += ["", "variant  clients     req/s    p50 ms    p99 ms  errors  sql/req"]
        lines += [
            f"({c.variant})      {c.concurrency:>7} {c.rps:9.1f} {c.latency.p50:9.1f}"
            f" {c.latency.p99:9.1f} {c.errors:7d}  {_n(c.statements)}"
            for c in tp.cells
        ]
    return "\n".join(lines)
