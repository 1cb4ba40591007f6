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
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from bench.formatting import TIMES, excess_over, format_counts, format_number, markdown_table
from bench.harness import (
    HOST,
    POSTGRES_PORT,
    HarnessError,
    Load,
    Server,
    Workspace,
    run,
    spawn,
    terminate,
)
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.throughput import PATH
from tests.servers import free_port

TARGET_S = 2.0
_RESTART_ALLOWANCE_S = 10.0
"""How long the load goes on for a real restart, on top of before and after."""


class Outage(StrEnum):
    """How the database is taken away."""

    PROXY = "proxy"
    RESTART = "restart"


@dataclass
class RecoveryResult:
    method: Outage
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
    def count_500(self) -> int:
        return self.statuses.get("500", 0)


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
        if entry.get("method") == Outage.RESTART:
            return RecoveryResult(
                method=Outage.RESTART,
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
    method: Outage, clients: int, timeline: list[list[float]], away: float, back: float
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
    sizes: Sizes, workspace: Workspace, log: IO[str], *, method: Outage
) -> RecoveryResult:
    expected_down = sizes.recovery_down_s if method == Outage.PROXY else _RESTART_ALLOWANCE_S
    total = sizes.recovery_before_s + expected_down + sizes.recovery_after_s
    proxy = _Proxy(workspace, lifetime=total + 120) if method == Outage.PROXY else None
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


# --- in the report --------------------------------------------------------------------

_OUTAGE_NAMES = {Outage.PROXY: "proxy cut", Outage.RESTART: "PostgreSQL restart"}


def _outage(result: RecoveryResult) -> str:
    """How the database was taken away, and when, for a result of an earlier run."""
    name = _OUTAGE_NAMES[result.method]
    if result.measured_at:
        when = datetime.fromisoformat(result.measured_at)
        return f"{name} (measured in the run of {when:%Y-%m-%d %H:%M} UTC)"
    return name


def _targets(results: list[RecoveryResult]) -> list[Target]:
    found: list[Target] = []
    for result in results:
        found += [
            Target(
                f"{_outage(result)}: succeed again < {TARGET_S:.0f} s after",
                f"{format_number(result.recovery_s, 2)} s",
                result.recovery_s < TARGET_S,
                excess_over(result.recovery_s, TARGET_S, "s"),
            ),
            Target(
                f"{_outage(result)}: no 500s",
                f"{result.count_500} {TIMES} 500",
                result.count_500 == 0,
                f"{result.count_500} {TIMES} 500",
            ),
        ]
    return found


def _text(results: list[RecoveryResult], _chart: str | None) -> str:
    rows = [
        "GET /users?limit=50 (with the administrator's token, checked against the database on"
        " every request) from a few clients while the database goes away and comes back."
        " *Proxy cut*: the service reaches PostgreSQL through a TCP proxy"
        " (`bench/remote/tcpproxy.py`) that resets every connection and refuses new ones,"
        " then listens again; nothing else on the machine notices. *PostgreSQL restart*:"
        " `pg_ctlcluster ... restart` (only with `--restart-postgres`; a later run may carry"
        " that result over with `--reuse-restart`, rather than disturb every user of the"
        " server again). *Back*: the proxy"
        " listens again / pg_isready answers after the restart. *Recovered*: from back to the"
        " first success after the last failure.",
        "",
        markdown_table(
            ["How", "Clients", "Down s", "Recovered after s", "Responses"],
            "lrrrl",
            [
                [
                    _outage(result),
                    result.clients,
                    format_number(result.down_s, 2),
                    format_number(result.recovery_s, 2),
                    format_counts(result.statuses),
                ]
                for result in results
            ],
        ),
    ]
    if any(result.measured_at for result in results):
        rows += [
            "",
            "A result carried over from an earlier run was measured with the template and"
            " service of that run, which may differ from this one's.",
        ]
    return "\n".join(rows)


def _notes(results: list[RecoveryResult], _context: Context) -> list[str]:
    return [_recovery_note(result) for result in results]


def _recovery_note(result: RecoveryResult) -> str:
    outage = _outage(result)
    text = (
        f"**{outage[0].upper()}{outage[1:]}.** Requests succeed again"
        f" {format_number(result.recovery_s, 2)} s after the database is back: `pool_pre_ping`"
        " finds the dead pooled connections at checkout and replaces them, so nothing stale is"
        " handed to a request afterwards."
    )
    unavailable = result.statuses.get("503", 0)
    if unavailable:
        text += (
            f" While it was away ({format_number(result.down_s, 2)} s), {unavailable} requests"
            " got a 503: the service maps a lost or refused database connection to 503, which"
            " a client may retry, instead of a 500."
        )
    if result.count_500 and unavailable:
        causes = "; ".join(f"{name} {TIMES} {n}" for name, n in result.causes.items()) or "none"
        text += (
            f" {result.count_500} requests still got a 500. The exceptions that ended"
            f" tracebacks in the service's log during the run: {causes}. A lost connection"
            " reported that way is one the service's mapping to 503 (db/errors.py) does not"
            " recognise yet."
        )
    elif result.count_500:
        text += (
            f" But {result.count_500} requests got a 500 while it was away"
            f" ({format_number(result.down_s, 2)} s): those in flight when the connections"
            " dropped, and every request that arrived while the database refused connections."
            " The connection errors (sqlalchemy.exc.OperationalError / InterfaceError,"
            " OSError) reached no exception handler, so FastAPI answered 500. Zero 500s needs"
            " the service to map a lost or refused database connection to 503 with"
            " Retry-After; pre-ping alone cannot make a query succeed while the server is"
            " down."
        )
    return text


SECTION = Section(
    name="recovery",
    title="Recovery",
    targets=_targets,
    text=_text,
    notes=_notes,
)
