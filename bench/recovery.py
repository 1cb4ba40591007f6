"""5. Recovery: the database goes away mid-load and comes back.

Two ways to take it away:
- `proxy` (always): the service reaches PostgreSQL through bench.remote.tcpproxy, which is
  cut (every connection reset, new ones refused) and restored. Nothing else on the
  machine notices, so CI can run it.
- `restart` (only with --restart-postgres): `pg_ctlcluster ... restart`, the real thing.
  It drops every client of that server, other people's included: run it once, on a
  machine nobody else is using for tests.

The clients record every request (start, end, status); "back" is when the proxy listens
again or when pg_ctlcluster has returned and pg_isready answers. Recovery is the time
from "back" until the first success after the last failure.
"""

from __future__ import annotations

import json
import math
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.harness import (
    HOST,
    POSTGRES_PORT,
    HarnessError,
    Load,
    Server,
    Workspace,
    free_port,
    run,
    spawn,
    terminate,
)
from bench.sizes import Sizes
from bench.throughput import PATH

TARGET_S = 2.0
_RESTART_ALLOWANCE_S = 10.0
"""How long the load goes on for a real restart, on top of before and after."""


@dataclass
class RecoveryResult:
    method: str
    clients: int
    down_s: float
    """From taking the database away until it was back."""
    recovery_s: float
    """From "back" until requests succeed again (NaN: they never did)."""
    statuses: dict[str, int]
    """Every request of the run, by status or failure."""
    first_failure_s: float
    """When the first failure ended, relative to taking the database away."""
    measured_at: str = ""
    """For a result carried over from an earlier run (--reuse-restart): when that run began."""
    causes: dict[str, int] = field(default_factory=dict)
    """"Exception type (message)" -> count: the last exception of each traceback in the
    service's log during the run."""

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("5"))

    @property
    def count_500(self) -> int:
        return self.statuses.get("500", 0)

    @property
    def met(self) -> bool:
        return self.recovery_s < TARGET_S and self.count_500 == 0


def _number(value: object) -> float:
    """A number of benchmarks.json, where null stands for NaN."""
    return math.nan if value is None else float(str(value))


def reused_restart(path: Path) -> RecoveryResult:
    """The PostgreSQL restart measured by an earlier run, from its benchmarks.json.

    A restart drops every client of the server, other people's included, so it is done
    once and its result carried over into later reports, marked with when it was measured.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise HarnessError(f"--reuse-restart {path}: {error}") from error
    for entry in data.get("recovery") or []:
        if entry.get("method") == "restart":
            return RecoveryResult(
                method="restart",
                clients=int(entry["clients"]),
                down_s=_number(entry.get("down_s")),
                recovery_s=_number(entry.get("recovery_s")),
                statuses={str(k): int(v) for k, v in entry["statuses"].items()},
                first_failure_s=_number(entry.get("first_failure_s")),
                measured_at=entry.get("measured_at") or str(data["started"]),
            )
    raise HarnessError(f"--reuse-restart {path}: that run did not restart PostgreSQL")


def _cluster() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir() if p.is_dir())
    if not versions:
        raise HarnessError("no PostgreSQL cluster under /etc/postgresql")
    return versions[-1]


def _wait_ready(timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(
            ["pg_isready", "-q", "-h", HOST, "-p", str(POSTGRES_PORT)], check=False
        )
        if done.returncode == 0:
            return
        time.sleep(0.05)
    raise HarnessError(f"PostgreSQL was not ready {timeout:.0f} s after its restart")


class _Proxy:
    def __init__(self, workspace: Workspace, lifetime: float) -> None:
        self.port = free_port()
        self.process = spawn(
            [
                str(workspace.python), "-m", "bench.remote.tcpproxy",
                "--listen", str(self.port), "--upstream", str(POSTGRES_PORT),
                "--max-seconds", str(lifetime),
            ],
            cwd=workspace.root,
            env=workspace.env(),
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self._expect("listening")

    def _expect(self, word: str) -> float:
        if self.process.stdout is None:
            raise HarnessError("tcpproxy has no stdout")
        line = self.process.stdout.readline().split()
        if not line or line[0] != word:
            raise HarnessError(f"tcpproxy said {line!r}, expected {word!r}")
        return float(line[1])

    def cut(self) -> float:
        self.process.send_signal(signal.SIGUSR1)
        return self._expect("cut")

    def restore(self) -> float:
        self.process.send_signal(signal.SIGUSR2)
        return self._expect("restored")

    def stop(self) -> None:
        terminate(self.process, grace_s=10)


_EXCEPTION_LINE = re.compile(r"^((?:[A-Za-z_][\w]*\.)*[A-Z]\w*(?:Error|Exception)): ")


def _exceptions(log: str) -> dict[str, int]:
    """The exception type ending each traceback in a server log (chained causes excluded)."""
    found: dict[str, int] = {}
    lines = log.splitlines()
    for index, line in enumerate(lines):
        match = _EXCEPTION_LINE.match(line)
        # A traceback ends with its exception line; a chained one is followed by more.
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if match and not following.startswith(("\nThe above", "The above", "During handling")):
            if following.strip() == "" and index + 2 < len(lines):
                after = lines[index + 2]
                if after.startswith(("The above", "During handling")):
                    continue
            # The driver's message, without SQLAlchemy's "(dialect.Error) " prefix.
            message = re.sub(r"^\([\w.]+\) ", "", line[match.end() :]).strip()
            name = f"{match.group(1)} ({message[:70]})" if message else match.group(1)
            found[name] = found.get(name, 0) + 1
    return found


def _analyse(
    method: str, clients: int, timeline: list[list[float]], away: float, back: float
) -> RecoveryResult:
    statuses: dict[str, int] = {}
    names = {0: "connect", -1: "timeout", -2: "disconnected"}
    for _start, _end, code in timeline:
        key = str(int(code)) if code > 0 else names[int(code)]
        statuses[key] = statuses.get(key, 0) + 1
    failures = [end for _start, end, code in timeline if not 200 <= code < 300]
    last_failure = max(failures, default=back)
    successes = sorted(
        end for _start, end, code in timeline if 200 <= code < 300 and end > last_failure
    )
    recovered = successes[0] if successes else math.nan
    return RecoveryResult(
        method=method,
        clients=clients,
        down_s=back - away,
        recovery_s=max(0.0, recovered - back) if successes else math.nan,
        statuses=statuses,
        first_failure_s=min(failures) - away if failures else math.nan,
    )


def run_recovery(
    sizes: Sizes, workspace: Workspace, log: IO[str], *, method: str
) -> RecoveryResult:
    expected_down = sizes.recovery_down_s if method == "proxy" else _RESTART_ALLOWANCE_S
    total = sizes.recovery_before_s + expected_down + sizes.recovery_after_s
    proxy = _Proxy(workspace, lifetime=total + 120) if method == "proxy" else None
    port = proxy.port if proxy else POSTGRES_PORT
    server = Server(
        f"recovery-{method}",
        f"{workspace.package}.main:create_app",
        workspace,
        env={"DATABASE_URL": workspace.database_url(port)},
    )
    try:
        with server:
            load = Load(
                workspace,
                server.url(PATH),
                sizes.recovery_clients,
                warmup_s=0,
                duration_s=total,
                drain_s=10,
                timeout_s=10,
                timeline=True,
            ).start()
            time.sleep(sizes.recovery_before_s)
            if proxy is not None:
                away = proxy.cut()
                time.sleep(sizes.recovery_down_s)
                back = proxy.restore()
            else:
                print("  restarting PostgreSQL (pg_ctlcluster ... restart)", file=log)
                away = time.time()
                run(
                    ["pg_ctlcluster", "--skip-systemctl-redirect", _cluster(), "main", "restart"],
                    cwd=workspace.root,
                    timeout=120,
                )
                _wait_ready()
                back = time.time()
            data: dict[str, Any] = load.result()
            log_text = server.log_tail(size=2_000_000)
    finally:
        if proxy is not None:
            proxy.stop()
    result = _analyse(method, sizes.recovery_clients, data["timeline"], away, back)
    result.causes = _exceptions(log_text)
    print(
        f"  {method}: down {result.down_s:.2f} s, requests succeed again"
        f" {result.recovery_s:.2f} s after, 500s: {result.count_500}",
        file=log,
    )
    return result
