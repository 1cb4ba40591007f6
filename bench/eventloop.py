"""4. Event loop: how long /health/live takes while CPU-heavy report jobs run.

The job is the generated one: POST /projects/{id}/report (202) queues a report whose CPU
part (reports/compute.py, pure Python, REPORT_SIMULATIONS simulations) the worker=none
job queue runs on its one CPU thread, in the API process. bench.remote.jobdriver keeps 8
jobs queued or running back to back (ask, poll until done, ask again) while a prober sends
GET /health/live every 10 ms from another process; its latency is the event loop's
responsiveness. Compared, each on its own server:

- `thread`: the generated service as it is (the queue's one CPU thread);
- `inline`: the same job with its CPU part on the event loop (reports.service.run_inline);
- `process`: the same job with its CPU part in a process pool, as a worker process gives;
- `worker`: the service generated with `--worker arq`: the API enqueues each job on Redis
  and a real arq worker process (`python -m nsbench.worker`, as its README
  says) runs it, its CPU part in the worker's process pool;
- `idle`: no jobs, the baseline.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from bench.formatting import excess_over, format_counts, format_number, markdown_table
from bench.harness import (
    HarnessError,
    Load,
    Server,
    Workspace,
    prepare_worker,
    spawn,
    terminate,
)
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import Latency, failures
from tests.servers import free_port

TARGET_P99_MS = 25.0
CHART = "eventloop"


class JobMode(StrEnum):
    """Where the jobs' CPU part runs (or no jobs at all), in the report's order."""

    IDLE = "idle"
    INLINE = "inline"
    THREAD = "thread"
    PROCESS = "process"
    WORKER = "worker"


OFFLOADED = (JobMode.THREAD, JobMode.PROCESS, JobMode.WORKER)
WORKER = "arq"
APPS = {
    JobMode.IDLE: "{package}.main:create_app",
    JobMode.THREAD: "{package}.main:create_app",
    JobMode.INLINE: "bench.remote.variants:create_inline_jobs_app",
    JobMode.PROCESS: "bench.remote.variants:create_process_jobs_app",
    JobMode.WORKER: "{package}.main:create_app",
}


@dataclass
class Mode:
    mode: JobMode
    probe: Latency
    probe_errors: int
    jobs_per_s: float
    job: Latency
    job_statuses: dict[str, int]


@dataclass
class EventLoopResult:
    jobs: int
    simulations: int
    job_ms: float
    """One job alone, from started to finished as the service records them (the generated
    service, one client)."""
    job_poll_ms: float
    probe_interval_ms: float
    modes: list[Mode] = field(default_factory=list)

    def mode(self, name: str) -> Mode | None:
        return next((m for m in self.modes if m.mode == name), None)

    def met(self, name: str) -> bool:
        found = self.mode(name)
        return found is not None and found.probe.p99 < TARGET_P99_MS


class _JobDriver:
    def __init__(
        self, workspace: Workspace, server: Server, clients: int, sizes: Sizes, duration: float
    ) -> None:
        self.out = workspace.root / f"jobs-{free_port()}.json"
        self.limit = sizes.warmup_s + duration + sizes.drain_s + 60
        self.process = spawn(
            [
                str(workspace.python), "-m", "bench.remote.jobdriver",
                "--base", server.url(""), "--clients", str(clients),
                "--projects", str(sizes.users * sizes.projects_per_user),
                "--warmup", str(sizes.warmup_s / 2), "--duration", str(duration),
                "--drain", str(sizes.drain_s), "--poll", str(sizes.job_poll_s),
                "--out", str(self.out), *workspace.header_arguments(),
            ],
            cwd=workspace.root,
            env=workspace.env(),
        )  # fmt: skip

    def result(self) -> dict[str, Any]:
        if self.process.wait(timeout=self.limit) != 0 or not self.out.exists():
            raise HarnessError(f"the job driver failed (exit {self.process.returncode})")
        data: dict[str, Any] = json.loads(self.out.read_text(encoding="utf-8"))
        return data


def run_eventloop(sizes: Sizes, workspace: Workspace, log: IO[str]) -> EventLoopResult:
    env = {"REPORT_SIMULATIONS": str(sizes.report_simulations)}
    result = EventLoopResult(
        jobs=sizes.cpu_jobs,
        simulations=sizes.report_simulations,
        job_ms=0.0,
        job_poll_ms=sizes.job_poll_s * 1000,
        probe_interval_ms=sizes.probe_interval_s * 1000,
    )
    worker_workspace = prepare_worker(workspace, WORKER, log)
    server: Server | None = None
    worker: WorkerProcess | None = None
    try:
        # idle and thread share the generated server, so they run one after the other.
        for mode in (JobMode.IDLE, JobMode.THREAD, JobMode.INLINE, JobMode.PROCESS, JobMode.WORKER):
            app = APPS[mode].format(package=workspace.package)
            if server is None or server.app != app or mode == JobMode.WORKER:
                if server is not None:
                    server.stop()
                on = worker_workspace if mode == JobMode.WORKER else workspace
                server = Server(f"jobs-{mode}", app, on, env=env)
                server.start()
                if mode == JobMode.WORKER:
                    worker = WorkerProcess(on, env)
            if mode == JobMode.THREAD:
                alone = _JobDriver(workspace, server, 1, sizes, sizes.eventloop_s / 3).result()
                result.job_ms = Latency.of(alone["server_ms"]).p50
            server.wait_idle()
            result.modes.append(_measure(mode, server, workspace, sizes))
            found = result.modes[-1]
            print(
                f"  {mode:<8} /health/live p50 {found.probe.p50:7.1f} ms"
                f"  p99 {found.probe.p99:7.1f} ms  jobs {found.jobs_per_s:5.1f}/s",
                file=log,
            )
    finally:
        if server is not None:
            server.stop()
        if worker is not None:
            worker.stop()
    result.modes.sort(key=lambda found: list(JobMode).index(found.mode))
    return result


class WorkerProcess:
    """The generated project's arq worker, started as its README says."""

    def __init__(self, workspace: Workspace, env: dict[str, str]) -> None:
        self.log_path = workspace.root / f"worker-{free_port()}.log"
        command = [str(workspace.python), "-m", f"{workspace.package}.worker"]
        with self.log_path.open("wb") as log:
            self.process = spawn(
                command,
                cwd=workspace.project,
                env=workspace.env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        terminate(self.process, grace_s=30)  # arq lets running jobs finish


def _measure(mode: JobMode, server: Server, workspace: Workspace, sizes: Sizes) -> Mode:
    probe = Load(
        workspace,
        server.url("/health/live"),
        1,
        warmup_s=sizes.warmup_s / 2,
        duration_s=sizes.eventloop_s,
        interval_s=sizes.probe_interval_s,
        drain_s=sizes.drain_s,
    )
    # The jobs start with the probe and run past its end, so every probe request meets
    # a full set of jobs.
    jobs = (
        _JobDriver(workspace, server, sizes.cpu_jobs, sizes, sizes.eventloop_s + 1)
        if mode != JobMode.IDLE
        else None
    )
    probed = probe.start().result()
    done = jobs.result() if jobs is not None else None
    return Mode(
        mode=mode,
        probe=Latency.of(probed["latencies_ms"]),
        probe_errors=sum(failures(probed["statuses"]).values()),
        jobs_per_s=done["completed"] / done["window_s"] if done else 0.0,
        job=Latency.of(done["latencies_ms"] if done else []),
        job_statuses=done["statuses"] if done else {},
    )


# --- in the report --------------------------------------------------------------------

_OFFLOADED_TO = {
    JobMode.THREAD: "on the job thread",
    JobMode.PROCESS: "in a process pool",
    JobMode.WORKER: "in the arq worker",
}
_TABLE_NAMES = {
    JobMode.IDLE: "no jobs (baseline)",
    JobMode.INLINE: "inline, on the event loop",
    JobMode.THREAD: "one job thread (generated)",
    JobMode.PROCESS: "process pool",
    JobMode.WORKER: "arq worker on Redis (--worker arq)",
}


def _targets(result: EventLoopResult) -> list[Target]:
    found: list[Target] = []
    for mode in OFFLOADED:
        measured = result.mode(mode)
        p99 = measured.probe.p99 if measured else math.nan
        found.append(
            Target(
                f"/health/live p99 < {TARGET_P99_MS:.0f} ms, job {_OFFLOADED_TO[mode]}",
                f"{format_number(p99)} ms",
                result.met(mode),
                excess_over(p99, TARGET_P99_MS, "ms"),
            )
        )
    return found


def _text(result: EventLoopResult, chart: str | None) -> str:
    rows = [
        f"GET /health/live every {result.probe_interval_ms:.0f} ms from its own process while"
        f" {result.jobs} clients keep {result.jobs} report jobs queued or running back to back:"
        " the generated POST /projects/{id}/report (202, as the administrator), whose job"
        " loads the project, runs its CPU part (`reports/compute.py`, pure Python,"
        f" {result.simulations:,} simulations) and stores the result; the client polls"
        f" GET /reports/{{id}} every {result.job_poll_ms:.0f} ms until it is done, then asks"
        " again (`bench/remote/jobdriver.py`). One job alone runs"
        f" {format_number(result.job_ms)} ms (from started_at to finished_at). Probes are"
        " sent one at a time: when the loop stalls, fewer are sent (the *Probes* column), so"
        " a stall's tail is if anything understated. The CPU part runs in"
        " the job queue's one CPU thread as generated (worker=none), on the event loop"
        " (`reports.service.run_inline`), or in a process pool, as a worker process would;"
        " the two variants swap only the job queue's offload (`bench/remote/variants.py`)."
        " Last, the service generated with `--worker arq`: the API enqueues on Redis and a"
        " real arq worker process runs the jobs, their CPU part in its process pool.",
        "",
        markdown_table(
            [
                "CPU part runs",
                "/health/live p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "Probes",
                "Jobs/s",
                "Job p50 ms",
                "Jobs",
            ],
            "lrrrrrrrl",
            [
                [
                    _TABLE_NAMES[mode.mode],
                    format_number(mode.probe.p50),
                    format_number(mode.probe.p90),
                    format_number(mode.probe.p99),
                    format_number(mode.probe.max),
                    mode.probe.count,
                    format_number(mode.jobs_per_s),
                    format_number(mode.job.p50),
                    format_counts(mode.job_statuses),
                ]
                for mode in result.modes
            ],
        ),
    ]
    if chart:
        rows += ["", f"![/health/live latency while jobs run]({chart})"]
    return "\n".join(rows)


def _notes(result: EventLoopResult, context: Context) -> list[str]:
    notes: list[str] = []
    inline = result.mode(JobMode.INLINE)
    thread = result.mode(JobMode.THREAD)
    process = result.mode(JobMode.PROCESS)
    worker = result.mode(JobMode.WORKER)
    if inline is not None:
        notes.append(
            "**Inline jobs** block the loop: /health/live waits for the job in progress and"
            f" the ones queued before it (p99 {format_number(inline.probe.p99)} ms; one job"
            f" takes {format_number(result.job_ms)} ms)."
        )
    if thread is not None and not result.met(JobMode.THREAD):
        notes.append(_thread_note(thread, process, context.cores))
    if worker is not None and not result.met(JobMode.WORKER):
        notes.append(
            f"**arq worker: p99 {format_number(worker.probe.p99)} ms, missed.** The worker's"
            f" processes and the API share {context.cores} cores: the API's loop waits for a"
            " core while the worker computes. A worker on its own host (or cores) leaves the"
            " loop only its own work."
        )
    if process is not None and not result.met(JobMode.PROCESS):
        notes.append(
            f"**Process pool: p99 {format_number(process.probe.p99)} ms, missed.** The jobs'"
            f" processes and the server share {context.cores} cores with PostgreSQL, the load"
            " generators and whatever else the machine runs (see the load average): the"
            " server waits for a core when the job processes have them. On a machine to"
            " itself, or with the worker on another host, the loop only ever waits for its"
            " own work."
        )
    return notes


def _thread_note(thread: Mode, process: Mode | None, cores: int) -> str:
    return (
        f"**One job thread: p99 {format_number(thread.probe.p99)} ms, missed.** A pure-Python"
        " job holds the GIL while it runs; the loop thread gets it back only when the job"
        " thread is forced to drop it (every 5 ms, sys.getswitchinterval()), several"
        " times per request. The generated queue keeps the jobs' CPU parts on one thread,"
        " so the loop competes with one thread, not with asyncio.to_thread's"
        f" {min(32, cores + 4)}; a thread still cannot make Python code run beside the"
        " loop."
        + (
            " In a process pool (what a Celery/RQ/arq worker is) the same jobs leave"
            f" p99 at {format_number(process.probe.p99)} ms."
            if process is not None
            else ""
        )
    )


SECTION = Section(
    name="eventloop",
    title="Event loop",
    targets=_targets,
    text=_text,
    notes=_notes,
    chart=CHART,
)
