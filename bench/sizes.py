"""How big each benchmark is: the full run (the report) and the smoke run (CI)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sizes:
    name: str
    users: int = 50
    projects_per_user: int = 5

    generation_runs: int = 7
    """Timed runs of each generation command."""
    generation_warmup: bool = True
    """One untimed run of plain Copier too (newservice always has one: the first)."""
    help_runs: int = 15

    concurrency: tuple[int, ...] = (1, 10, 50, 200)
    throughput_rounds: int = 3
    """Interleaved rounds of every variant at every concurrency; medians are reported."""
    warmup_s: float = 2.0
    duration_s: float = 8.0
    listcost_rounds: int = 9
    listcost_pages: int = 300
    """Pages per way and round of the in-process list cost (bench/remote/listcost.py)."""
    drain_s: float = 20.0
    """How long the requests still out when a window closes may take to finish."""

    overload_clients: int = 200
    overload_s: float = 30.0

    cpu_jobs: int = 8
    report_simulations: int = 50_000
    """REPORT_SIMULATIONS of the report job: the generated default (about 0.2 s of CPU)."""
    job_poll_s: float = 0.2
    """How often a job's client polls its status: often enough to see it end, rarely
    enough that the polls do not become the load."""
    eventloop_s: float = 10.0
    probe_interval_s: float = 0.01

    recovery_clients: int = 10
    recovery_before_s: float = 5.0
    recovery_down_s: float = 2.0
    """How long the proxy stays cut (a real restart takes what it takes)."""
    recovery_after_s: float = 8.0

    @property
    def headline_concurrency(self) -> int:
        """The concurrency the throughput targets are judged at."""
        return 50 if 50 in self.concurrency else max(self.concurrency)


FULL = Sizes(name="full")

# Every code path of the full run, at sizes that take seconds: CI runs this to prove the
# harness still works, and its numbers mean nothing.
SMOKE = Sizes(
    name="smoke",
    users=50,
    projects_per_user=5,
    generation_runs=1,
    generation_warmup=False,
    help_runs=2,
    concurrency=(1, 10),
    throughput_rounds=1,
    warmup_s=0.3,
    duration_s=1.0,
    listcost_rounds=1,
    listcost_pages=5,
    drain_s=5.0,
    overload_clients=40,
    overload_s=2.0,
    cpu_jobs=4,
    report_simulations=2_000,
    job_poll_s=0.05,
    eventloop_s=1.0,
    probe_interval_s=0.02,
    recovery_clients=4,
    recovery_before_s=1.0,
    recovery_down_s=0.5,
    recovery_after_s=2.0,
)
