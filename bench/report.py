"""The report, assembled from the sections the benchmarks declare (bench/section.py).

The same `Report` gives the markdown (docs/benchmarks.md for a full run), the JSON beside
it (what tests/test_bench_smoke.py reads) and the table printed at the end of a run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from bench import eventloop, generation, overload, recovery, throughput
from bench.eventloop import EventLoopResult
from bench.formatting import markdown_table
from bench.generation import GenerationResult
from bench.machine import Machine
from bench.overload import OverloadResult
from bench.recovery import RecoveryResult
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.throughput import ThroughputResult

Result = TypeVar("Result")


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
    """Chart key (a section's `chart`) -> file name, beside the markdown."""


@dataclass(frozen=True)
class _Part(Generic[Result]):
    section: Section[Result]
    result: Callable[[Report], Result | None]
    """Where the Report keeps the section's result: None, or no recovery, if it did not run."""

    def ran(self, report: Report) -> bool:
        return bool(self.result(report))


# In the report's order, which numbers them.
_PARTS: tuple[_Part[Any], ...] = (
    _Part(generation.SECTION, lambda report: report.generation),
    _Part(throughput.SECTION, lambda report: report.throughput),
    _Part(overload.SECTION, lambda report: report.overload),
    _Part(eventloop.SECTION, lambda report: report.eventloop),
    _Part(recovery.SECTION, lambda report: report.recoveries),
)
SECTIONS = tuple(part.section.name for part in _PARTS)


@dataclass(frozen=True)
class _Measured(Generic[Result]):
    number: str
    section: Section[Result]
    result: Result


def _measured(report: Report) -> list[_Measured[Any]]:
    """The sections that ran, with their numbers and results."""
    return [
        _Measured(str(number), part.section, part.result(report))
        for number, part in enumerate(_PARTS, start=1)
        if part.ran(report)
    ]


def targets(report: Report) -> list[tuple[str, Target]]:
    """Every target of the sections that ran, with its section's number."""
    return [
        (measured.number, target)
        for measured in _measured(report)
        for target in measured.section.targets(measured.result)
    ]


def notes(report: Report) -> list[str]:
    """One paragraph per finding, with the run's numbers; every miss gets one."""
    found: list[str] = []
    for measured in _measured(report):
        context = Context(cores=report.machine.cores, earlier_notes=tuple(found))
        found += measured.section.notes(measured.result, context)
    return found


# --- markdown -------------------------------------------------------------------------


def to_markdown(report: Report) -> str:
    parts = [_header(report), _target_table(report)]
    parts += [
        f"## {measured.number}. {measured.section.title}\n\n"
        + measured.section.text(measured.result, report.charts.get(measured.section.chart))
        for measured in _measured(report)
    ]
    parts.append("\n".join(["## What the numbers say", "", *(f"- {n}" for n in notes(report))]))
    return "\n\n".join(part.strip("\n") for part in parts if part) + "\n"


def _header(report: Report) -> str:
    machine = report.machine
    versions = ", ".join(f"{name} {v}" for name, v in machine.service_versions.items())
    skipped = [part.section.name for part in _PARTS if not part.ran(report)]
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
        f"- **Machine:** {machine.cores} cores ({machine.cpu}),"
        f" {machine.memory_gib:.0f} GiB memory, {machine.system}",
        f"- **Load average** (1, 5, 15 min) before: {_load(machine.load_before)};"
        f" after: {_load(machine.load_after)}. The machine was shared: other processes' load"
        " is in these numbers.",
        f"- **Versions:** Python {machine.python}, newservice {machine.newservice} (checkout"
        f" {machine.checkout}), copier {machine.copier}; generated service: {versions}",
    ]
    if skipped:
        lines.append(f"- **Not run:** {', '.join(skipped)}")
    return "\n".join(lines)


def _load(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _target_table(report: Report) -> str:
    table = markdown_table(
        ["#", "Target", "Measured", "Verdict"],
        "llll",
        [
            [number, target.goal, target.measured, _verdict(target)]
            for number, target in targets(report)
        ],
    )
    why = "Why each miss is a miss: [What the numbers say](#what-the-numbers-say)."
    return f"## Targets\n\n{table}\n\n{why}"


def _verdict(target: Target) -> str:
    return "**met**" if target.met else f"**missed**: {target.shortfall}"


# --- JSON and console -----------------------------------------------------------------


def to_json(report: Report) -> dict[str, Any]:
    """Everything measured, plus each target's verdict; NaN becomes null."""
    data: dict[str, Any] = _json_value(
        {
            "sizes": report.sizes,
            "command": report.command,
            "started": report.started.isoformat(),
            "elapsed_s": report.elapsed_s,
            "machine": report.machine,
            **{part.section.name: part.result(report) for part in _PARTS},
            "targets": [{"section": number, **asdict(t)} for number, t in targets(report)],
            "charts": report.charts,
        }
    )
    return data


def _json_value(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _json_value(asdict(value))
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def console_table(report: Report) -> str:
    rows = [("#", "Target", "Measured", "Verdict")]
    rows += [
        (number, t.goal.replace("`", ""), t.measured, "met" if t.met else "MISSED")
        for number, t in targets(report)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    for measured in _measured(report):
        if measured.section.console is not None:
            lines += measured.section.console(measured.result)
    return "\n".join(lines)
