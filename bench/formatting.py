"""How the report writes numbers, ratios, shortfalls and counts; NaN shows as a dash."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bench.stats import failures

# Typographic signs, spelled as escapes so that no source line holds a look-alike letter.
TIMES = "\u00d7"
MISSING = "\u2013"


def format_number(value: float, digits: int = 1) -> str:
    """Thousands separated: 1,234.5."""
    return MISSING if math.isnan(value) else f"{value:,.{digits}f}"


def format_signed(value: float, digits: int = 1) -> str:
    """A difference, its sign always shown: +1.5, -0.2."""
    return MISSING if math.isnan(value) else f"{value:+,.{digits}f}"


def format_percent(value: float) -> str:
    return MISSING if math.isnan(value) else f"{value:.0%}"


def format_ratio(value: float) -> str:
    return MISSING if math.isnan(value) else f"{value:.2f}{TIMES}"


def shortfall_below(measured: float, goal: float) -> str:
    """How far a ratio misses an 'at least goal' target."""
    if math.isnan(measured):
        return "not measured"
    return (
        f"{(goal - measured) / goal:.0%} short ({format_ratio(measured)} of {format_ratio(goal)})"
    )


def excess_over(measured: float, goal: float, unit: str) -> str:
    """How far a value misses an 'at most goal' target."""
    if math.isnan(measured):
        return "not measured"
    return (
        f"{(measured - goal) / goal:.0%} over"
        f" ({format_number(measured, 2)} {unit} for {format_number(goal, 2)})"
    )


def format_counts(counts: dict[str, int]) -> str:
    """'3 active, 12 idle': each count with its name, names in order."""
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"


def format_errors(statuses: dict[str, int]) -> str:
    """The responses that were not a success: '0', or their total and each status."""
    failed = failures(statuses)
    if not failed:
        return "0"
    return f"{sum(failed.values())} ({format_counts(failed)})"


def markdown_table(columns: Sequence[str], align: str, rows: Iterable[Sequence[object]]) -> str:
    """A markdown table; `align` has a letter per column: l (left) or r (right, numbers)."""
    rule = ["---:" if letter == "r" else "---" for letter in align]
    lines = [columns, rule, *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)
