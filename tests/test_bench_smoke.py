"""The benchmark harness still works: its smoke run reports every section, with numbers.

Benchmarks are not tests, so nothing here asserts a timing or a target: the smoke run's
numbers mean nothing at its sizes. What is asserted is that each benchmark ran, measured
what it claims to (the N+1 variant really sends one statement per user, the generated one
really checks its token, the five variants were compared), and wrote its report, its JSON
and its charts.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock

from bench.throughput import LIST_WAYS
from tests import REPO
from tests.servers import POSTGRESQL, REDIS, require

pytestmark = pytest.mark.e2e

VARIANTS = {"a", "b", "c", "d", "e", "f"}
HEADINGS = (
    "## Targets",
    "## 1. Generation",
    "## 2. Throughput and latency",
    "## 3. Overload",
    "## 4. Event loop",
    "## 5. Recovery",
    "## What the numbers say",
)


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def positive(values: list[Any]) -> bool:
    return bool(values) and all(is_number(v) and v > 0 for v in values)


def bench_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    if "NEWSERVICE_TEST_CACHE" in os.environ:
        # CI keeps every cache inside its clone, to prove the install from scratch.
        env["NEWSERVICE_BENCH_CACHE"] = str(Path(os.environ["NEWSERVICE_TEST_CACHE"]) / "bench")
    return env


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    require(POSTGRESQL)
    require(REDIS)  # the event loop section's arq worker
    # One smoke run for the whole test run: the folder above an xdist worker's temporary one
    # is shared by the workers, which would otherwise each run it for their share of these
    # tests. The first one runs it; the others wait on the lock and read its report.
    # Without xdist that folder holds every earlier run's: this run's own is the one.
    run_root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_root = run_root.parent
    out = run_root / "bench-report"
    with FileLock(out.with_suffix(".lock")):
        if not (out / "benchmarks.json").exists():
            shutil.rmtree(out, ignore_errors=True)
            result = subprocess.run(
                [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
                cwd=REPO,
                env=bench_env(),
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert result.returncode == 0, (
                f"python -m bench --smoke exited {result.returncode}\n"
                f"--- stdout ---\n{result.stdout[-4000:]}\n"
                f"--- stderr ---\n{result.stderr[-6000:]}"
            )
    return json.loads((out / "benchmarks.json").read_text(encoding="utf-8")), out


def test_generation_is_timed(smoke: tuple[dict[str, Any], Path]) -> None:
    generation = smoke[0]["generation"]
    for key in (
        "create_s",
        "copier_s",
        "create_no_git_s",
        "add_s",
        "copier_resource_s",
        "help_s",
        "python_s",
    ):
        assert positive(generation[key]), key


def test_every_variant_is_measured_at_every_concurrency(
    smoke: tuple[dict[str, Any], Path],
) -> None:
    throughput = smoke[0]["throughput"]
    cells = {(cell["variant"], cell["concurrency"]): cell for cell in throughput["cells"]}
    assert set(cells) == {(v, c) for v in VARIANTS for c in throughput["concurrency"]}
    for cell in cells.values():
        assert is_number(cell["rps"]) and cell["rps"] > 0, cell
        for stat in ("p50", "p90", "p99", "max"):
            assert is_number(cell["latency"][stat]), cell
        assert cell["statuses"].get("200", 0) > 0, cell
        assert is_number(cell["server_cpu_ms"]), cell
    level = throughput["concurrency"][0]
    # What each variant is: two statements for the page, one more per user lazily, and
    # one more for the token check, which only (a) makes.
    assert cells[("a", level)]["statements"] == 3
    assert cells[("f", level)]["statements"] == 3  # (a) without metrics and request ids
    assert cells[("e", level)]["statements"] == 2
    assert cells[("b", level)]["statements"] == 1 + throughput["users"]
    assert cells[("c", level)]["statements"] == 2
    assert cells[("d", level)]["statements"] is None  # no counter in the floor


def test_the_cost_of_authentication_is_reported(smoke: tuple[dict[str, Any], Path]) -> None:
    data, out = smoke
    cost = data["throughput"]["auth_cost"]
    assert cost["concurrency"] == data["throughput"]["headline"]
    for key in ("rps_ratio", "p50_added_ms", "p99_added_ms", "cpu_added_ms"):
        assert is_number(cost[key]), (key, cost)
    assert cost["rps_ratio"] > 0
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert f"**Cost of authentication** at c={cost['concurrency']}: (e)/(a) = " in markdown


def test_the_cost_of_telemetry_is_a_target(smoke: tuple[dict[str, Any], Path]) -> None:
    data, out = smoke
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    headline = data["throughput"]["headline"]
    assert f"**Cost of telemetry** at c={headline}: (a)/(f) = " in markdown
    assert f"(a) ≥ 0.9× (f) in req/s at c={headline}" in markdown  # noqa: RUF001 - the report's sign


def test_overload_watches_the_connections(smoke: tuple[dict[str, Any], Path]) -> None:
    overload = smoke[0]["overload"]
    for server in ("service", "floor"):  # the same load on the floor, for its latencies
        assert is_number(overload[server]["rps"]) and overload[server]["rps"] > 0, server
        assert is_number(overload[server]["latency"]["p99"]), server
    assert overload["samples"] > 0
    assert overload["max_connections"] > 0
    assert overload["after"], "the connections after the load were not read"


def test_the_list_is_taken_apart_in_process(smoke: tuple[dict[str, Any], Path]) -> None:
    data, out = smoke
    parts = data["throughput"]["list_cpu_ms"]
    assert set(parts) == set(LIST_WAYS)  # each way the report explains, and no other
    rounds = {len(values) for values in parts.values()}
    assert len(rounds) == 1 and positive([value for values in parts.values() for value in values])
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    assert "**Where (e)'s CPU goes**" in markdown and "the frozen heap" in markdown


def test_event_loop_is_probed_in_every_mode(smoke: tuple[dict[str, Any], Path]) -> None:
    eventloop = smoke[0]["eventloop"]
    assert [mode["mode"] for mode in eventloop["modes"]] == [
        "idle",
        "inline",
        "thread",
        "process",
        "worker",
    ]
    for mode in eventloop["modes"]:
        assert is_number(mode["probe"]["p99"]), mode
    assert all(mode["jobs_per_s"] > 0 for mode in eventloop["modes"][1:])


def test_recovery_runs_through_the_proxy_only(smoke: tuple[dict[str, Any], Path]) -> None:
    recovery = smoke[0]["recovery"]
    # The smoke run must never restart the PostgreSQL others are using.
    assert [entry["method"] for entry in recovery] == ["proxy"]
    assert is_number(recovery[0]["down_s"]) and recovery[0]["down_s"] > 0
    assert is_number(recovery[0]["recovery_s"])
    assert recovery[0]["statuses"].get("200", 0) > 0


def test_report_has_every_section_and_verdict(smoke: tuple[dict[str, Any], Path]) -> None:
    data, out = smoke
    markdown = (out / "benchmarks.md").read_text(encoding="utf-8")
    for heading in HEADINGS:
        assert heading in markdown, heading
    assert {target["section"] for target in data["targets"]} == {"1", "2", "3", "4", "5"}
    assert all(isinstance(target["met"], bool) for target in data["targets"])
    for chart in data["charts"].values():
        assert (out / chart).read_bytes().startswith(b"\x89PNG"), chart
        assert f"]({chart})" in markdown
    assert set(data["charts"]) == {"latency", "eventloop"}


# The venv the smoke run used for the generated service (the cached one, found again).
_SERVICE_VENV = """
import sys
from pathlib import Path
from bench.harness import generate_project, project_venv
print(project_venv(generate_project(Path(sys.argv[1]))))
"""


def test_the_remote_modules_pass_strict_mypy_where_they_run(
    smoke: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    # bench/remote runs in the generated service's venv, not in newservice's (whose mypy
    # excludes it), so it is held to mypy --strict there.
    found = subprocess.run(
        [sys.executable, "-c", _SERVICE_VENV, str(tmp_path)],
        cwd=REPO, env=bench_env(), capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    python = Path(found.stdout.strip()) / "bin" / "python"
    checked = subprocess.run(
        # --config-file=: not newservice's configuration, which leaves bench/remote out.
        [str(python), "-m", "mypy", "--config-file=", "--strict", "--no-incremental",
         "bench/remote"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
