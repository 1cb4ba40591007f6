"""Percentiles and the latency summary every table uses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linearly interpolated; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True)
class Latency:
    """Milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, latencies_ms: Sequence[float]) -> Latency:
        return cls(
            count=len(latencies_ms),
            p50=percentile(latencies_ms, 50),
            p90=percentile(latencies_ms, 90),
            p99=percentile(latencies_ms, 99),
            max=max(latencies_ms, default=math.nan),
        )


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan


def failures(statuses: dict[str, int]) -> dict[str, int]:
    """The responses that were not a success (2xx), by status or failure."""
    return {status: n for status, n in statuses.items() if not status.startswith("2")}
