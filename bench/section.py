"""What each benchmark gives the report: its targets, its text and tables, its notes.

Each benchmark module declares one `Section`; bench/report.py puts them in order and
numbers them, and writes the markdown, the JSON and the console table from them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

Result = TypeVar("Result")


@dataclass(frozen=True)
class Target:
    goal: str
    measured: str
    met: bool
    shortfall: str = ""
    """How far a missed target is from its goal."""


@dataclass(frozen=True)
class Context:
    """What a section's notes may use besides its own result."""

    cores: int
    earlier_notes: Sequence[str]
    """The notes of the sections before it, not to explain the same thing twice."""


@dataclass(frozen=True)
class Section(Generic[Result]):
    name: str
    """On the command line (--only) and the key of its result in the JSON."""
    title: str
    """Its heading in the markdown, after its number."""
    targets: Callable[[Result], list[Target]]
    text: Callable[[Result, str | None], str]
    """What was measured and how, and the tables; given its chart's file, if it has one."""
    notes: Callable[[Result, Context], list[str]]
    """One paragraph per finding, with the run's numbers; every missed target gets one."""
    chart: str = ""
    """Its chart's key in the report's charts, if it has one."""
    console: Callable[[Result], list[str]] | None = None
    """Lines printed after the targets at the end of a run."""
