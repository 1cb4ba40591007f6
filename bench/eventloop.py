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
  and a real arq worker process (`arq nsbench.worker.WorkerSettings`, as its README
  says) runs it, its CPU part in the worker's process pool;
- `idle`: no jobs, the baseline.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import IO, Any

from bench.harness import (
    HarnessError,
    Load,
    Server,
    Workspace,
    free_port,
    prepare_worker,
    spawn,
    terminate,
)
from bench.sizes import Sizes
from bench.stats import Latency

TARGET_P99_MS = 25.0
MODES = ("idle", "inline", "thread", "process", "worker")
OFFLOADED = ("thread", "process", "worker")
WORKER = "arq"
APPS = {
    "idle": "{package}.main:create_app",
    "thread": "{package}.main:create_app",
    "inline": "bench.remote.variants:create_inline_jobs_app",
    "process": "bench.remote.variants:create_process_jobs_app",
    "worker": "{package}.main:create_app",
}


@dataclass
class Mode:
    mode: str
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


def _errors(statuses: dict[str, int]) -> int:
    return sum(n for status, n in statuses.items() if not status.startswith("2"))


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
                "--out", str(self.out),
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
        for mode in ("idle", "thread", "inline", "process", "worker"):
            app = APPS[mode].format(package=workspace.package)
            if server is None or server.app != app or mode == "worker":
                if server is not None:
                    server.stop()
                on = worker_workspace if mode == "worker" else workspace
                server = Server(f"jobs-{mode}", app, on, env=env)
                server.start()
                if mode == "worker":
                    worker = WorkerProcess(on, env)
            if mode == "thread":
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
    result.modes.sort(key=lambda found: MODES.index(found.mode))
    return result


class WorkerProcess:
    """The generated project's arq worker, started as its README says."""

    def __init__(self, workspace: Workspace, env: dict[str, str]) -> None:
        self.log_path = workspace.root / f"worker-{free_port()}.log"
        command = [
            str(workspace.python.parent / "arq"),
            f"{workspace.package}.worker.WorkerSettings",
        ]
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


def _measure(mode: str, server: Server, workspace: Workspace, sizes: Sizes) -> Mode:
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
        if mode != "idle"
        else None
    )
    probed = probe.start().result()
    done = jobs.result() if jobs is not None else None
    return Mode(
        mode=mode,
        probe=Latency.of(probed["latencies_ms"]),
        probe_errors=_errors(probed["statuses"]),
        jobs_per_s=done["completed"] / done["window_s"] if done else 0.0,
        job=Latency.of(done["latencies_ms"] if done else []),
        job_statuses=done["statuses"] if done else {},
    )
