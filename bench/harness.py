"""The pieces every benchmark shares: the generated project, its environment and
database, the servers under test and the load generator.

The orchestrator (this package) runs in newservice's own environment; everything that
imports the generated service runs in a cached virtual environment built from the
generated project's dependencies, as tests/generated.py does for the end-to-end tests: the
project is not installed there, it is made importable with PYTHONPATH.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.sizes import Sizes
from tests.generated import cached_venv
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("NEWSERVICE_BENCH_CACHE", Path.home() / ".cache" / "newservice-bench"))
HOST = "127.0.0.1"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
REDIS_DATABASE = 15
"""The test suite's generated projects use Redis databases 0 to 14."""
ADMIN_DSN = os.environ.get(
    "BENCH_ADMIN_DSN", f"postgresql://postgres:postgres@{HOST}:{POSTGRES_PORT}/postgres"
)
PROJECT_NAME = "nsbench"
# What bench/remote needs beyond the generated dependencies: the sync driver of (c), and
# mypy with asyncpg's stubs, to type-check bench/remote where it runs (tests/test_bench_smoke.py).
EXTRA_REQUIREMENTS = ("psycopg[binary]>=3.2,<4", "mypy>=1.13,<3", "asyncpg-stubs>=0.30,<1")
_STATEMENTS = re.compile(r" GET /users 200 [0-9.]+ms sql=(\d+)")
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "bench-admin-password"  # noqa: S105 - of a throwaway bench database
TOKEN_MINUTES = 24 * 60
"""The access token's lifetime (the service's maximum): it must outlive a full run, since
the benchmark logs in once."""


class HarnessError(RuntimeError):
    """The harness itself failed (not a target missed): the run stops with this message."""


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Runs in the child before exec: the kernel sends it SIGTERM when the harness dies,
    # however it dies (a CI time-out kills it with SIGKILL), so no server or load
    # generator outlives a run.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(command: Sequence[str], **options: Any) -> subprocess.Popen[Any]:
    """Start a helper process: in its own session (a Ctrl-C reaches the harness, which
    stops its helpers in order) and bound to the harness's life."""
    # The harness starts no threads, so preexec_fn is safe here.
    return subprocess.Popen(
        list(command),
        start_new_session=True,
        preexec_fn=_die_with_parent,  # noqa: PLW1509
        **options,
    )


def terminate(process: subprocess.Popen[Any], grace_s: float = 15) -> None:
    """Stop a helper as its own shutdown would (SIGTERM); kill it if that takes too long."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; fail with its output so the cause is in the message."""
    try:
        result = subprocess.run(
            list(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
            input=stdin, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired as error:
        raise HarnessError(f"`{' '.join(command)}` took more than {timeout:.0f} s") from error
    if result.returncode != 0:
        raise HarnessError(
            f"`{' '.join(command)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def console_script(name: str) -> str:
    """A console script of newservice's environment (the one running this harness)."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        raise HarnessError(f"`{name}` is not installed next to {sys.executable}")
    return found


def generate_project(parent: Path, worker: str = "none") -> Path:
    """A fresh project from the installed newservice: PostgreSQL, `worker`, no git."""
    parent.mkdir(parents=True, exist_ok=True)
    run(
        [console_script("newservice"), "create", PROJECT_NAME, "--defaults",
         "--db", "postgresql", "--worker", worker, "--no-git"],
        cwd=parent, timeout=180,
    )  # fmt: skip
    return parent / PROJECT_NAME


def project_venv(project: Path) -> Path:
    """A cached venv with the project's runtime dependencies and EXTRA_REQUIREMENTS.

    Keyed by the requirement set, so a template change that changes the dependencies gets
    a new venv and an unchanged one is reused (uv's download cache makes a rebuild quick).
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    requirements = [*pyproject["project"]["dependencies"], *EXTRA_REQUIREMENTS]
    return cached_venv(requirements, cache=CACHE, cwd=project)


@dataclass
class Workspace:
    """The generated project, its venv and its database, for one benchmark run."""

    root: Path
    project: Path
    python: Path
    database: str
    settings: dict[str, str] = field(default_factory=dict)
    """Settings of the service beyond the database's (a worker's REDIS_URL)."""
    token: str = ""
    """The access token of the database's administrator (`log_in_admin`)."""

    @property
    def package(self) -> str:
        return PROJECT_NAME

    def database_url(self, port: int = POSTGRES_PORT) -> str:
        return f"postgresql+asyncpg://postgres:postgres@{HOST}:{port}/{self.database}"

    def env(self, **overrides: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"}
        }
        env.update(
            PYTHONPATH=os.pathsep.join([str(self.project / "src"), str(REPO)]),
            BENCH_PACKAGE=self.package,
            BENCH_ADMIN_DSN=ADMIN_DSN,
            DATABASE_URL=self.database_url(),
            LOG_LEVEL="INFO",
        )
        env.update(self.settings)
        env.update(overrides)
        return env

    def remote(self, module: str, *args: str, timeout: float = 120) -> str:
        """Run `python -m bench.remote.MODULE ARGS` in the project's venv; its stdout."""
        command = [str(self.python), "-m", f"bench.remote.{module}", *args]
        return run(command, cwd=self.project, env=self.env(), timeout=timeout).stdout

    def authorization(self) -> dict[str, str]:
        """The administrator's token as a request header; a public endpoint ignores it."""
        if not self.token:
            raise HarnessError("the workspace has no access token: prepare() logs in")
        return {"Authorization": f"Bearer {self.token}"}

    def header_arguments(self) -> list[str]:
        """The same header as the load generators' --header arguments."""
        return [
            argument
            for name, value in self.authorization().items()
            for argument in ("--header", f"{name}: {value}")
        ]

    def connections(self) -> dict[str, int]:
        """The database's backends now, by state."""
        states: dict[str, int] = json.loads(self.remote("dbtool", "connections", self.database))
        return states

    def wait_quiet(self, timeout: float = 60) -> float:
        """Wait until every connection to the database is idle; return the wait.

        The servers measured side by side share PostgreSQL's max_connections: one still
        holding its connections after its run (the sync variant stalls past its threadpool
        until pool_timeout) would make the next one fail to connect.
        """
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            # Failing to connect (too many clients) is not quiet either.
            with contextlib.suppress(HarnessError):
                if all(state == "idle" for state in self.connections()):
                    break
            time.sleep(0.5)
        return time.monotonic() - start


def prepare(sizes: Sizes, root: Path, log: IO[str]) -> Workspace:
    """Generate the project, build its venv, create, migrate and seed the database."""
    print("  generating the project (newservice create, postgresql, worker none)", file=log)
    project = generate_project(root)
    print("  building its virtual environment (cached)", file=log)
    venv = project_venv(project)
    workspace = Workspace(
        root=root,
        project=project,
        python=venv / "bin" / "python",
        database=f"bench_{sizes.name}_{os.getpid()}",
        settings={"ACCESS_TOKEN_MINUTES": str(TOKEN_MINUTES)},
    )
    print(f"  creating database {workspace.database}, alembic upgrade head, seeding", file=log)
    workspace.remote("dbtool", "prune")
    workspace.remote("dbtool", "create", workspace.database)
    run(
        [str(workspace.python), "-m", "alembic", "upgrade", "head"],
        cwd=project,
        env=workspace.env(),
    )
    workspace.remote(
        "dbtool", "seed", workspace.database,
        "--users", str(sizes.users), "--projects", str(sizes.projects_per_user),
    )  # fmt: skip
    print("  creating the administrator (admin command), logging in (POST /auth/token)", file=log)
    workspace.token = log_in_admin(workspace)
    return workspace


def log_in_admin(workspace: Workspace) -> str:
    """Create an administrator with the generated admin command and log in through the
    service's own POST /auth/token; the access token."""
    run(
        [str(workspace.python), "-m", f"{workspace.package}.admin", "create", ADMIN_EMAIL,
         "--password-stdin"],
        cwd=workspace.project, env=workspace.env(), stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip
    with Server("login", f"{workspace.package}.main:create_app", workspace) as server:
        form = {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        status, body = http("POST", server.url("/auth/token"), form=form)
    if status != 200:
        raise HarnessError(f"POST /auth/token answered {status}: {body[:500]!r}")
    tokens = json.loads(body)
    # A token that expires mid-run would turn every later request into a 401.
    if tokens["expires_in"] < TOKEN_MINUTES * 60:
        raise HarnessError(f"the access token expires in {tokens['expires_in']} s only")
    token: str = tokens["access_token"]
    return token


def prepare_worker(workspace: Workspace, worker: str, log: IO[str]) -> Workspace:
    """The same service generated with a real `worker`, on `workspace`'s database (the
    worker choice changes no table), with its own venv, and its queue on Redis database
    REDIS_DATABASE, emptied first."""
    print(f"  generating the project with --worker {worker}", file=log)
    project = generate_project(workspace.root / f"worker-{worker}", worker=worker)
    print("  building its virtual environment (cached)", file=log)
    venv = project_venv(project)
    # The same database, SECRET_KEY (the default) and token issuer (the project's name), so
    # the administrator's token is valid here too.
    worker_workspace = Workspace(
        root=workspace.root,
        project=project,
        python=venv / "bin" / "python",
        database=workspace.database,
        settings={
            **workspace.settings,
            "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/{REDIS_DATABASE}",
        },
        token=workspace.token,
    )
    script = "import os, redis; redis.Redis.from_url(os.environ['REDIS_URL']).flushdb()"
    run([str(worker_workspace.python), "-c", script], cwd=project, env=worker_workspace.env())
    return worker_workspace


def versions(workspace: Workspace) -> dict[str, str]:
    """The versions that shape the numbers: the service's libraries and the database."""
    distributions = [
        "fastapi", "starlette", "pydantic", "sqlalchemy", "asyncpg", "psycopg", "uvicorn",
        "uvloop", "httptools",
    ]  # fmt: skip
    script = (
        "import importlib.metadata as m, json, sys\n"
        "names = sys.argv[1:]\n"
        "print(json.dumps({n: m.version(n) for n in names}))\n"
    )
    found: dict[str, str] = json.loads(
        run(
            [str(workspace.python), "-c", script, *distributions],
            cwd=workspace.project,
            env=workspace.env(),
        ).stdout
    )
    found["postgresql"] = workspace.remote("dbtool", "version").strip()
    return found


def http(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, bytes]:
    """One request from the orchestrator (checks only, never load); loopback URLs only.
    `form` is sent as an application/x-www-form-urlencoded body."""
    if not url.startswith(f"http://{HOST}:"):
        raise HarnessError(f"not a loopback URL: {url}")
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(  # noqa: S310 - checked above
        url, data=data, headers=headers or {}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status: int = response.status
            return status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rpartition(")")[2].split()
    # utime and stime: fields 14 and 15 of proc(5), counted from the state (field 3).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """A uvicorn server of one variant, in its own process, on a free loopback port."""

    name: str
    app: str
    """The factory, `module:function`."""
    workspace: Workspace
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.port}{path}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise HarnessError(f"server {self.name} is not running")
        return self.process.pid

    def start(self, timeout: float = 60) -> None:
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the process; `wait_ready` waits for it to answer (servers start in parallel)."""
        self.port = free_port()
        self.log_path = self.workspace.root / f"server-{self.name}-{self.port}.log"
        command = [
            str(self.workspace.python), "-m", "uvicorn", "--factory", self.app,
            "--host", HOST, "--port", str(self.port), "--workers", "1",
            "--no-access-log", "--log-level", "warning", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = spawn(
                command,
                cwd=self.workspace.project,
                env=self.workspace.env(**self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        if self.process is None:
            raise HarnessError(f"server {self.name} was not launched")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise HarnessError(f"server {self.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError):
                if http("GET", self.url("/health/live"), timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise HarnessError(f"server {self.name} did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process is not None:
            terminate(self.process)

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def cpu_seconds(self) -> float:
        return _cpu_seconds(self.pid)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path else 0

    def log_tail(self, size: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-size:]

    def statements(self, since: int) -> list[int]:
        """The SQL counts of the GET /users request log lines written after offset `since`."""
        if self.log_path is None:
            return []
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", errors="replace")
        return [int(match) for match in _STATEMENTS.findall(text)]

    def wait_idle(self, timeout: float = 60, *, threshold: float = 0.05) -> float:
        """Wait until the server uses under `threshold` of a core; return the wait.

        Requests abandoned by a finished load run may still be in the server's queue;
        the next measurement must not pay for them.
        """
        start = time.monotonic()
        before = self.cpu_seconds()
        while time.monotonic() - start < timeout:
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - before < threshold * 0.25:
                break
            before = now
        return time.monotonic() - start


@dataclass
class Load:
    """One load generator process (bench.remote.loadgen); `result()` waits for it. Every
    request carries the workspace's administrator token."""

    workspace: Workspace
    url: str
    concurrency: int
    warmup_s: float
    duration_s: float
    method: str = "GET"
    drain_s: float = 10.0
    timeout_s: float = 60.0
    interval_s: float = 0.0
    timeline: bool = False
    process: subprocess.Popen[bytes] | None = None
    out: Path | None = None

    def start(self) -> Load:
        self.out = self.workspace.root / f"load-{free_port()}-{time.monotonic_ns()}.json"
        command = [
            str(self.workspace.python), "-m", "bench.remote.loadgen", "--url", self.url,
            "--method", self.method, "--concurrency", str(self.concurrency),
            "--warmup", str(self.warmup_s), "--duration", str(self.duration_s),
            "--drain", str(self.drain_s), "--timeout", str(self.timeout_s),
            "--interval", str(self.interval_s), "--out", str(self.out),
            *self.workspace.header_arguments(),
        ]  # fmt: skip
        if self.timeline:
            command.append("--timeline")
        self.process = spawn(
            command,
            cwd=self.workspace.root,
            env=self.workspace.env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return self

    def result(self) -> dict[str, Any]:
        if self.process is None or self.out is None:
            raise HarnessError("the load generator was not started")
        limit = self.warmup_s + self.duration_s + self.drain_s + 60
        try:
            _, stderr = self.process.communicate(timeout=limit)
        except subprocess.TimeoutExpired as error:
            self.process.kill()
            self.process.communicate()
            raise HarnessError(f"the load generator ran past {limit:.0f} s") from error
        if self.process.returncode != 0:
            raise HarnessError(
                f"the load generator exited {self.process.returncode}:\n{stderr.decode()[-3000:]}"
            )
        data: dict[str, Any] = json.loads(self.out.read_text(encoding="utf-8"))
        return data
