"""The report's PNG charts (matplotlib, no display needed)."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from bench.eventloop import TARGET_P99_MS, EventLoopResult, JobMode
from bench.throughput import VARIANTS, ThroughputResult, VariantKey

# Colour and marker of each variant's line.
_STYLES = {
    VariantKey.GENERATED: ("#1f77b4", "o"),
    VariantKey.NPLUS1: ("#d62728", "s"),
    VariantKey.SYNC: ("#ff7f0e", "^"),
    VariantKey.FLOOR: ("#2ca02c", "D"),
    VariantKey.NO_AUTH: ("#9467bd", "v"),
    VariantKey.NO_TELEMETRY: ("#17becf", "P"),
}


def _plain_numbers(axis: Axes, which: str) -> None:
    # Log scales labelled as plain numbers at 1-2-5 steps (1, 2, 5, 10, 20, ...), not 10^n.
    formatter = FuncFormatter(lambda value, _pos: f"{value:g}")
    target = axis.xaxis if which == "x" else axis.yaxis
    if which == "y":
        target.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    target.set_major_formatter(formatter)
    target.set_minor_formatter(NullFormatter())


def latency_chart(result: ThroughputResult, path: Path) -> None:
    """req/s, p50 and p99 against the number of clients, one line per variant."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 5.2), layout="constrained")
    panels = (("req/s", "Throughput (req/s)"), ("p50", "p50 latency (ms)"),
              ("p99", "p99 latency (ms)"))  # fmt: skip
    levels = result.concurrency
    stalled = [
        f"({cell.variant}) answered nothing at {cell.concurrency} clients"
        for cell in result.cells
        if cell.rps == 0
    ]
    for axis, (metric, title) in zip(axes, panels, strict=True):
        for variant in VARIANTS:
            points = []
            for level in levels:
                cell = result.cell(variant.key, level)
                if cell is None:
                    continue
                value = {"req/s": cell.rps, "p50": cell.latency.p50, "p99": cell.latency.p99}
                if not math.isnan(value[metric]) and value[metric] > 0:
                    points.append((level, value[metric]))
            if points:
                axis.plot(
                    [x for x, _ in points],
                    [y for _, y in points],
                    color=_STYLES[variant.key][0],
                    marker=_STYLES[variant.key][1],
                    label=f"({variant.key}) {variant.label}",
                    linewidth=2,
                )
        axis.set_title(title)
        axis.set_xlabel("concurrent clients")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks(levels)
        _plain_numbers(axis, "x")
        _plain_numbers(axis, "y")
        axis.grid(True, which="both", alpha=0.3)
    if stalled:
        axes[0].text(
            0.98, 0.02, "\n".join(stalled), transform=axes[0].transAxes,
            ha="right", va="bottom", fontsize=9, color="#d62728",
        )  # fmt: skip
    handles, names = axes[0].get_legend_handles_labels()
    figure.legend(handles, names, loc="outside lower center", ncols=3, fontsize=10)
    figure.suptitle(
        f"GET /users?limit=50 ({result.users} users x {result.projects_per_user} projects),"
        " one uvicorn worker each, same machine, same run"
    )
    figure.savefig(path, dpi=110)
    plt.close(figure)


def eventloop_chart(result: EventLoopResult, path: Path) -> None:
    """/health/live p50, p99 and max for each way of running the jobs."""
    labels = {
        JobMode.IDLE: "no jobs",
        JobMode.INLINE: "on the event loop\n(run_inline)",
        JobMode.THREAD: "one job thread\n(as generated)",
        JobMode.PROCESS: "process pool",
        JobMode.WORKER: "arq worker\n(--worker arq)",
    }
    modes = result.modes
    figure, axis = plt.subplots(figsize=(9, 4.8), layout="constrained")
    width = 0.26
    stats = (("p50", "#9ecae1"), ("p99", "#3182bd"), ("max", "#08519c"))
    for offset, (name, colour) in enumerate(stats):
        values = [getattr(mode.probe, name) for mode in modes]
        positions = [i + (offset - 1) * width for i in range(len(modes))]
        bars = axis.bar(positions, values, width, label=name, color=colour)
        axis.bar_label(bars, labels=[f"{v:.0f}" if v >= 1 else f"{v:.1f}" for v in values],
                       fontsize=8, padding=2)  # fmt: skip
    axis.axhline(
        TARGET_P99_MS,
        color="#d62728",
        linestyle="--",
        linewidth=1.5,
        label=f"target: p99 < {TARGET_P99_MS:.0f} ms when offloaded",
    )
    axis.set_xticks(range(len(modes)), [labels[mode.mode] for mode in modes])
    axis.set_yscale("log")
    _plain_numbers(axis, "y")
    axis.set_ylabel("GET /health/live latency (ms)")
    axis.set_title(
        f"/health/live while {result.jobs} report jobs ({result.simulations:,} simulations,"
        f" {result.job_ms:.0f} ms alone) run back to back"
    )
    axis.legend(loc="upper left", fontsize=9)
    axis.set_ylim(top=axis.get_ylim()[1] * 3)  # room for the legend above the bars
    axis.grid(True, axis="y", which="both", alpha=0.3)
    figure.savefig(path, dpi=110)
    plt.close(figure)
