"""The CPU-heavy part of a report: pure Python, no I/O, picklable input and output.

A stand-in for real analytics: a Monte Carlo estimate of how long the project takes,
with one task per distinct word of its name and description. Its cost grows linearly with
the number of simulations (REPORT_SIMULATIONS), and it holds the GIL all along, which is
why it never runs on an event loop. It imports neither SQLAlchemy nor the app, so it can
run inline, in a thread or in a child process, and the same input always gives the same
result.
"""

import random
import re
from collections import Counter
from dataclasses import dataclass
from statistics import fmean
from typing import TypedDict

MAX_TASKS = 20
TOP_WORDS = 5


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What the job loaded from the database: everything the computation needs."""

    project_id: int
    name: str
    description: str | None
    owner_name: str
    simulations: int


class ReportResult(TypedDict):
    """The stored result (a JSON object)."""

    owner: str
    tasks: int
    simulations: int
    mean_days: float
    p50_days: float
    p90_days: float
    top_words: list[tuple[str, int]]


def compute_report(data: ReportInput) -> ReportResult:
    """Simulate the project `data.simulations` times; raise ValueError if that is < 1."""
    if data.simulations < 1:
        msg = f"simulations must be at least 1, got {data.simulations}"
        raise ValueError(msg)
    words = re.findall(r"\w+", f"{data.name} {data.description or ''}".lower()) or ["task"]
    tasks = list(dict.fromkeys(words))[:MAX_TASKS]
    # Each task's duration in days: a triangular distribution derived from its word.
    ranges = [(1 + len(word) % 3, 2 + len(word) % 5, 4 + len(word) % 7) for word in tasks]
    # Seeded by the project: the same project always gets the same report.
    rng = random.Random(data.project_id)  # noqa: S311 (a simulation, not cryptography)
    durations = sorted(
        sum(rng.triangular(low, high, mode) for low, mode, high in ranges)
        for _ in range(data.simulations)
    )
    return ReportResult(
        owner=data.owner_name,
        tasks=len(tasks),
        simulations=data.simulations,
        mean_days=round(fmean(durations), 3),
        p50_days=round(durations[len(durations) // 2], 3),
        p90_days=round(durations[(len(durations) * 9) // 10], 3),
        top_words=Counter(words).most_common(TOP_WORDS),
    )
