"""`python -m bench`: run the benchmarks, print the verdicts, write the report.

    python -m bench                          # full run: docs/benchmarks.md + PNG charts
    python -m bench --restart-postgres       # the same, recovery also by a real restart
    python -m bench --reuse-restart docs/benchmarks.json   # ... or the last one measured
    python -m bench --smoke                  # every section at tiny sizes, into a temp dir
    python -m bench --only throughput        # some sections (repeatable)

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, password postgres; databases named
bench_* are created and dropped), newservice installed with its `bench` extra, and uv.
See bench/__init__.py for the layout and docs/benchmarks.md for what each section does.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import charts, eventloop, generation, overload, recovery, report, throughput
from bench.harness import REPO, HarnessError, prepare, versions
from bench.machine import Machine, load_average
from bench.section import Section
from bench.sizes import FULL, SMOKE, Sizes

REPORT = "benchmarks.md"
RESULTS = "benchmarks.json"
LATENCY_CHART = "benchmarks-latency.png"
EVENTLOOP_CHART = "benchmarks-eventloop.png"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of newservice and its generated service."
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (CI); the report goes to a temp dir"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"folder for {REPORT}, {RESULTS} and the charts"
        " (default: docs/ for a full run, a new temp dir for --smoke)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=report.SECTIONS,
        help="run only this section (repeatable)",
    )
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="also measure recovery by restarting PostgreSQL itself (pg_ctlcluster, as root):"
        " it drops every client of the server, so never on a machine others are testing on",
    )
    parser.add_argument(
        "--reuse-restart",
        type=Path,
        metavar="JSON",
        help="instead of restarting PostgreSQL again, carry over the restart measured by an"
        " earlier run (its benchmarks.json), marked with when it was measured",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    args = parser.parse_args(argv)
    if args.smoke and args.restart_postgres:
        parser.error("--restart-postgres is for a full run only; the smoke run uses the proxy")
    if args.restart_postgres and args.reuse_restart:
        parser.error("--restart-postgres and --reuse-restart exclude each other")
    return args


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _chosen(section: Section[Any], sections: set[str]) -> bool:
    """Whether the section is to run; if so, the log says it starts."""
    if section.name in sections:
        _log(section.title)
    return section.name in sections


def _measure(
    args: argparse.Namespace, result: report.Report, sections: set[str], root: Path
) -> None:
    """Run the chosen sections into `result`; the database is dropped whatever happens."""
    sizes = result.sizes
    # Read first: a run writing to docs/ overwrites the file it names.
    reused = recovery.reused_restart(args.reuse_restart) if args.reuse_restart else None
    if _chosen(generation.SECTION, sections):
        result.generation = generation.run_generation(sizes, root, sys.stderr)
    if not sections - {generation.SECTION.name}:
        return
    _log("setting up the generated service")
    workspace = prepare(sizes, root, sys.stderr)
    try:
        result.machine.service_versions = versions(workspace)
        if _chosen(throughput.SECTION, sections):
            result.throughput = throughput.run_throughput(sizes, workspace, sys.stderr)
        if _chosen(overload.SECTION, sections):
            result.overload = overload.run_overload(sizes, workspace, sys.stderr)
        if _chosen(eventloop.SECTION, sections):
            result.eventloop = eventloop.run_eventloop(sizes, workspace, sys.stderr)
        # Last: a real restart disturbs PostgreSQL for everything after it.
        if _chosen(recovery.SECTION, sections):
            result.recoveries.append(
                recovery.run_recovery(sizes, workspace, sys.stderr, method=recovery.Outage.PROXY)
            )
            if args.restart_postgres:
                result.recoveries.append(
                    recovery.run_recovery(
                        sizes, workspace, sys.stderr, method=recovery.Outage.RESTART
                    )
                )
            elif reused is not None:
                result.recoveries.append(reused)
    finally:
        try:
            workspace.remote("dbtool", "drop", workspace.database)
        except HarnessError as error:
            _log(f"bench: could not drop {workspace.database}: {error}")


def _write(result: report.Report, out: Path) -> None:
    if result.throughput is not None:
        charts.latency_chart(result.throughput, out / LATENCY_CHART)
        result.charts[throughput.CHART] = LATENCY_CHART
    if result.eventloop is not None:
        charts.eventloop_chart(result.eventloop, out / EVENTLOOP_CHART)
        result.charts[eventloop.CHART] = EVENTLOOP_CHART
    (out / REPORT).write_text(report.to_markdown(result), encoding="utf-8")
    (out / RESULTS).write_text(
        json.dumps(report.to_json(result), indent=1, allow_nan=False) + "\n", encoding="utf-8"
    )


def _stop_on_sigterm(signum: int, _frame: object) -> None:
    # As SystemExit, so the `finally` blocks stop the servers and drop the database.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    sizes: Sizes = SMOKE if args.smoke else FULL
    out: Path = args.out or (
        Path(tempfile.mkdtemp(prefix="newservice-bench-report-")) if args.smoke else REPO / "docs"
    )
    out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    result = report.Report(sizes, command, datetime.now(UTC), Machine())
    root = Path(tempfile.mkdtemp(prefix="newservice-bench-"))
    start = time.monotonic()
    _log(f"bench: {sizes.name} run, work folder {root}, load average {load_average()[0]:.2f}")
    try:
        _measure(args, result, set(args.only or report.SECTIONS), root)
    except HarnessError as error:
        # The work folder stays: the servers' logs in it say what went wrong.
        _log(f"bench: the harness failed: {error}\nwork folder kept: {root}")
        return 1
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    result.elapsed_s = time.monotonic() - start
    result.machine.load_after = load_average()
    _write(result, out)
    print(report.console_table(result))
    print(f"\nreport: {out / REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
