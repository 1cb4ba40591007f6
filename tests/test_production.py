"""End to end, as in production: a generated service run as uvicorn processes and a Celery
worker, behind the real PgBouncer in transaction pooling mode, behind the real HAProxy
through a rolling restart and a crash, and used through a client generated from its schema.

One combination (PostgreSQL, Celery on Redis, authentication) stands for the others: what is
under test is the API's engine, its shutdown and the load balancer's view of it, which no
other answer changes. Each test reports what it measured (`record_property`, and the
assertion messages).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.generated import newservice, run, shared_venv
from tests.servers import POSTGRESQL, RABBITMQ, REDIS, Server, free_port, require

pytestmark = pytest.mark.e2e

# The projects, by the queue they use: the package, its database and its queue are named
# after it, so that they run beside the other end-to-end tests.
QUEUES = {
    "celery-redis": ["--worker", "celery", "--broker", "redis"],
    "celery-rabbitmq": ["--worker", "celery", "--broker", "rabbitmq"],
    "rq": ["--worker", "rq"],
    "arq": ["--worker", "arq"],
}
START_SECONDS = 30.0
PASSWORD = "a-long-enough-password"  # noqa: S105 (a test user's)


def require_binary(name: str) -> str:
    """The path of a server's binary; missing: skipped, or failed under CI (.ci/run installs it)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin")
    if path is not None:
        return path
    reason = f"{name} is not installed (apt-get install {name})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass
class Project:
    path: Path
    venv: Path

    @property
    def package(self) -> str:
        return self.path.name

    @property
    def database_url(self) -> str:
        server = f"{POSTGRESQL.host}:{POSTGRESQL.port}"
        return f"postgresql+asyncpg://postgres:postgres@{server}/{self.package}"

    def environment(self, **settings: str) -> dict[str, str]:
        """The settings of a production-like process, pointed at this machine's servers."""
        redis = f"redis://{REDIS.host}:{REDIS.port}/14"
        rabbitmq = f"amqp://guest:guest@{RABBITMQ.host}:{RABBITMQ.port}//"
        env = {
            **os.environ,
            "PATH": f"{self.venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(self.path / "src"),
            "DATABASE_URL": self.database_url,
            "REDIS_URL": redis,
            "BROKER_URL": rabbitmq if "rabbitmq" in self.package else redis,
            "REPORT_SIMULATIONS": "500",
            "METRICS_ENABLED": "false",
            "WORKER_METRICS_PORT": "0",
            "LOG_LEVEL": "INFO",
            **settings,
        }
        env.pop("VIRTUAL_ENV", None)
        return env

    def worker_command(self) -> list[str]:
        tasks = tomllib.loads((self.path / "pyproject.toml").read_text())["tool"]["poe"]["tasks"]
        return shlex.split(tasks["worker"]["cmd"])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def crash(self) -> None:
        """SIGKILL to the process and its children: nothing is cleaned up, nothing acked."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Fleet:
    """The processes a test started, each stopped when the test ends."""

    project: Project
    directory: Path
    processes: list[Process] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> Process:
        log = self.directory / f"{name}.log"
        executable = shutil.which(command[0], path=env["PATH"]) or command[0]
        with log.open("wb") as output:
            popen = subprocess.Popen(
                [executable, *command[1:]],
                cwd=self.project.path,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # A group of its own: a test can kill it with its children, as a crash would.
                start_new_session=True,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_api(
        self, name: str, port: int, settings: dict[str, str], *, processes: int = 1
    ) -> Process:
        # As the image runs it, with a shorter wait for requests in flight.
        command = ["uvicorn", "--factory", f"{self.project.package}.main:create_app",
                   "--no-access-log", "--timeout-graceful-shutdown", "5",
                   "--port", str(port), "--workers", str(processes)]  # fmt: skip
        return self.start(name, command, self.project.environment(**settings))

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()


def wait_until(condition: Callable[[], bool], what: str, seconds: float = START_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {seconds} s")
        time.sleep(0.1)


def answers(url: str) -> int | None:
    """The status of GET url, or None if nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (http://127.0.0.1)
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_ready(url: str, *processes: Process) -> None:
    def ready() -> bool:
        for process in processes:
            if process.popen.poll() is not None:
                tail = process.output()[-3000:]
                raise AssertionError(f"{process.name} exited {process.popen.returncode}:\n{tail}")
        return answers(f"{url}/health/ready") == 200

    wait_until(ready, f"{url} ready")


@dataclass
class Client:
    """A user of the service, over HTTP, through urllib: what a load balancer sees."""

    url: str
    token: str = ""

    def call(
        self, method: str, path: str, body: object = None, *, form: bool = False
    ) -> tuple[int, object]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data = None
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()  # type: ignore[arg-type]
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        request = urllib.request.Request(self.url + path, data, headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                raw = response.read()
                return int(response.status), json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def sign_up(self, email: str) -> int:
        status, user = self.call(
            "POST", "/users", {"email": email, "full_name": "Load", "password": PASSWORD}
        )
        assert status == 201, (status, user)
        status, tokens = self.call(
            "POST", "/auth/token", {"username": email, "password": PASSWORD}, form=True
        )
        assert status == 200, (status, tokens)
        self.token = tokens["access_token"]  # type: ignore[index]
        return int(user["id"])  # type: ignore[index]


@dataclass
class Outcomes:
    """What the clients saw: a count per status ("error: ..." when nothing answered), and when."""

    counts: Counter[str] = field(default_factory=Counter)
    failures: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: str) -> None:
        with self.lock:
            self.counts[outcome] += 1
            if not outcome.startswith("2"):
                self.failures.append((time.monotonic(), outcome))


def exercise(client: Client, user_id: int, outcomes: Outcomes, stop: threading.Event) -> None:
    """One client's loop: create a project, list and read projects, as long as asked."""
    while not stop.is_set():
        for method, path, body in (
            ("POST", f"/users/{user_id}/projects", {"name": "load"}),
            ("GET", f"/users/{user_id}/projects", None),
            ("GET", "/users/me", None),
        ):
            try:
                status, _ = client.call(method, path, body)
                outcomes.record(str(status))
            except OSError as error:
                outcomes.record(f"error: {type(error).__name__}: {error}")


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[[str], Project]:
    """The project of a queue (QUEUES), created, installed and migrated once per module.
    Named after the test worker too: its database and queues are its own, should another
    worker run these tests at the same time."""
    made: dict[str, Project] = {}

    def project(queue: str) -> Project:
        if queue in made:
            return made[queue]
        for server in (POSTGRESQL, RABBITMQ if "rabbitmq" in queue else REDIS):
            require(server)
        name = f"replica_{queue.replace('-', '_')}_{worker_id}"
        path = tmp_path_factory.mktemp("replicas") / name
        newservice("create", str(path), "--defaults", "--no-git", "--quiet",
                   "--db", "postgresql", *QUEUES[queue], cwd=path.parent)  # fmt: skip
        made[queue] = Project(path, shared_venv(path))
        psql = ["psql", "-h", POSTGRESQL.host, "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
        database = made[queue].package
        run([*psql, "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"], cwd=path)
        run([*psql, "-c", f"CREATE DATABASE {database}"], cwd=path)
        # Migrations run against PostgreSQL itself, never through PgBouncer (README.md).
        run(["alembic", "upgrade", "head"], cwd=path, env=made[queue].environment())
        return made[queue]

    return project


@pytest.fixture
def fleet(projects: Callable[[str], Project], tmp_path: Path) -> Iterator[Fleet]:
    """The processes of a test, on the Celery-on-Redis project unless it names another."""
    fleet = Fleet(projects("celery-redis"), tmp_path)
    try:
        yield fleet
    finally:
        fleet.stop()


def load(
    url: str, clients: int, seconds: float, during: Callable[[], None] = lambda: None
) -> Outcomes:
    """`clients` signed-up users exercising the service for `seconds`, while `during` runs."""
    users = [Client(url) for _ in range(clients)]
    user_ids = [
        user.sign_up(f"load-{time.monotonic_ns()}-{n}@example.com") for n, user in enumerate(users)
    ]
    outcomes = Outcomes()
    stop = threading.Event()
    with ThreadPoolExecutor(clients) as pool:
        loops = [
            pool.submit(exercise, user, user_id, outcomes, stop)
            for user, user_id in zip(users, user_ids, strict=True)
        ]
        started = time.monotonic()
        during()
        time.sleep(max(0.0, seconds - (time.monotonic() - started)))
        stop.set()
        for loop in loops:
            loop.result()
    return outcomes


# ---------------------------------------------------------------- PgBouncer

POOL_SIZE = 4
CLIENTS = 8


def pgbouncer_config(directory: Path, port: int, database: str) -> Path:
    """Transaction pooling, as the generated README.md asks for, with a small pool."""
    directory.chmod(0o755)  # read by the unprivileged user PgBouncer runs as
    users = directory / "userlist.txt"
    users.write_text('"postgres" "postgres"\n')
    config = directory / "pgbouncer.ini"
    config.write_text(
        f"""\
[databases]
{database} = host={POSTGRESQL.host} port={POSTGRESQL.port} dbname={database} user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
admin_users = postgres
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 500
server_reset_query = DEALLOCATE ALL
server_reset_query_always = 1
ignore_startup_parameters = extra_float_digits
"""
    )
    for path in (users, config):
        path.chmod(0o644)
    return config


def pgbouncer_pool(port: int, database: str) -> dict[str, int]:
    """PgBouncer's own count of the database's client and server connections (SHOW POOLS)."""
    result = run(["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At", "-F", "\t",
                  "-c", "SHOW POOLS", "pgbouncer"], cwd=Path.cwd())  # fmt: skip
    header = ("database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req",
              "cl_waiting_cancel_req", "sv_active", "sv_active_cancel", "sv_being_canceled",
              "sv_idle", "sv_used", "sv_tested", "sv_login")  # fmt: skip
    for line in result.stdout.splitlines():
        row = dict(zip(header, line.split("\t"), strict=False))
        if row["database"] == database:
            clients = int(row["cl_active"]) + int(row["cl_waiting"])
            servers = sum(
                int(row[key])
                for key in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
            )
            return {"clients": clients, "servers": servers}
    return {"clients": 0, "servers": 0}


def test_behind_pgbouncer_in_transaction_mode_nothing_fails_and_servers_stay_within_the_pool(
    fleet: Fleet, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    pgbouncer = require_binary("pgbouncer")
    bouncer_port = free_port()
    config = pgbouncer_config(tmp_path, bouncer_port, fleet.project.package)
    as_user = ["-u", "postgres"] if os.geteuid() == 0 else []  # PgBouncer refuses to run as root
    bouncer = fleet.start("pgbouncer", [pgbouncer, *as_user, str(config)], dict(os.environ))
    wait_until(Server("PgBouncer", "127.0.0.1", bouncer_port).reachable, "PgBouncer listening")

    through_bouncer = {
        "DATABASE_URL": fleet.project.database_url.replace(
            f":{POSTGRESQL.port}/", f":{bouncer_port}/"
        ),
        "DB_PGBOUNCER": "true",
    }
    api_port = free_port()
    api = fleet.start_api("api", api_port, through_bouncer, processes=2)
    worker = fleet.start(
        "worker", fleet.project.worker_command(), fleet.project.environment(**through_bouncer)
    )
    url = f"http://127.0.0.1:{api_port}"
    wait_ready(url, api, worker, bouncer)

    peaks = {"clients": 0, "servers": 0}
    sampling = threading.Event()

    def sample() -> None:
        while not sampling.is_set():
            for key, value in pgbouncer_pool(bouncer_port, fleet.project.package).items():
                peaks[key] = max(peaks[key], value)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        outcomes = load(url, CLIENTS, seconds=4)
        reports = request_reports(url, count=3)
    finally:
        sampling.set()
        sampler.join()

    record_property("requests", dict(outcomes.counts))
    record_property("pgbouncer_peaks", peaks)
    failed = {status: n for status, n in outcomes.counts.items() if not status.startswith("2")}
    assert not failed, f"failed requests through PgBouncer: {failed}\n{api.output()[-4000:]}"
    assert sum(outcomes.counts.values()) > 50, outcomes.counts
    assert reports == ["done"] * 3, f"{reports}\n{worker.output()[-4000:]}"
    # More clients than server connections: PgBouncer multiplexed them, within its pool.
    assert peaks["servers"] <= POOL_SIZE, peaks
    assert peaks["clients"] > POOL_SIZE, peaks
    for process in (api, worker):
        assert "prepared statement" not in process.output()


def request_reports(url: str, count: int) -> list[str]:
    """Ask for `count` reports of one project, through the worker; their final states."""
    client = Client(url)
    user_id = client.sign_up(f"reports-{time.monotonic_ns()}@example.com")
    status, project = client.call("POST", f"/users/{user_id}/projects", {"name": "reports"})
    assert status == 201, (status, project)
    ids = []
    for _ in range(count):
        status, report = client.call("POST", f"/projects/{project['id']}/report")  # type: ignore[index]
        assert status == 202, (status, report)
        ids.append(report["id"])  # type: ignore[index]
    states: list[str] = []
    for report_id in ids:
        deadline = time.monotonic() + 30
        while True:
            status, report = client.call("GET", f"/reports/{report_id}")
            state = str(report["status"])  # type: ignore[index]
            if state in {"done", "failed"} or time.monotonic() > deadline:
                states.append(state)
                break
            time.sleep(0.1)
    return states


# ---------------------------------------------------------------- HAProxy

DRAIN_SECONDS = 2.0
LOAD_CLIENTS = 4


def haproxy_config(directory: Path, port: int, backends: dict[str, int]) -> Path:
    """Round robin over the API processes, as the generated README.md describes: a health
    check on /health/ready every half second (two failures take a process out), and a
    refused connection retried on another process."""
    servers = "\n".join(f"  server {name} 127.0.0.1:{p} check" for name, p in backends.items())
    config = directory / "haproxy.cfg"
    config.write_text(
        f"""\
global
  stats socket {directory / "haproxy.sock"} level admin

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response

frontend api
  bind 127.0.0.1:{port}
  default_backend apis

backend apis
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
  default-server inter 500ms fall 2 rise 2
{servers}
"""
    )
    return config


def haproxy_status(directory: Path) -> dict[str, str]:
    """Each server's state as HAProxy sees it (UP, DOWN, ...), from its stats socket; none
    before HAProxy has opened it."""
    with socket.socket(socket.AF_UNIX) as stats:
        try:
            stats.connect(str(directory / "haproxy.sock"))
        except (FileNotFoundError, ConnectionRefusedError):
            return {}
        stats.sendall(b"show stat\n")
        csv = b"".join(iter(lambda: stats.recv(65536), b"")).decode()
    lines = csv.lstrip("# ").splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=False)) for line in lines[1:] if line]
    return {row["svname"]: row["status"] for row in rows if row["pxname"] == "apis"}


def test_behind_haproxy_a_rolling_restart_fails_no_request_and_a_crash_only_those_in_flight(
    fleet: Fleet, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    haproxy = require_binary("haproxy")
    backends = {name: free_port() for name in ("a", "b", "c")}
    # "a", the one restarted, runs two uvicorn processes (WEB_CONCURRENCY): both drain.
    apis = {
        name: fleet.start_api(
            name,
            port,
            {"SHUTDOWN_DRAIN_SECONDS": str(DRAIN_SECONDS)},
            processes=2 if name == "a" else 1,
        )
        for name, port in backends.items()
    }
    for name, port in backends.items():
        wait_ready(f"http://127.0.0.1:{port}", apis[name])
    # Both of a's processes serving (one answering is enough to be ready): a process that
    # is still starting when SIGTERM comes stops at once, as it serves nothing yet.
    wait_until(lambda: apis["a"].output().count("Application startup complete") == 2, "a up")
    front = free_port()
    config = haproxy_config(tmp_path, front, backends)
    balancer = fleet.start("haproxy", [haproxy, "-db", "-f", str(config)], dict(os.environ))
    wait_until(lambda: set(haproxy_status(tmp_path).values()) == {"UP"}, "HAProxy sees all UP")

    timeline: dict[str, float] = {}

    def restart_then_crash() -> None:
        time.sleep(1)
        # A rolling restart's step: SIGTERM, as Kubernetes or systemd sends it.
        timeline["sigterm"] = time.monotonic()
        apis["a"].popen.send_signal(signal.SIGTERM)
        wait_until(lambda: haproxy_status(tmp_path)["a"].startswith("DOWN"), "a out", 10)
        timeline["a out"] = time.monotonic()
        # Taken out by its health check while it still serves: it did not stop listening.
        timeline["a alive when out"] = float(apis["a"].popen.poll() is None)
        apis["a"].popen.wait(DRAIN_SECONDS + 25)
        timeline["a exited"] = time.monotonic()
        time.sleep(1)
        # A crash: nothing drains.
        timeline["sigkill"] = time.monotonic()
        apis["b"].popen.kill()
        wait_until(lambda: haproxy_status(tmp_path)["b"].startswith("DOWN"), "b taken out", 10)
        timeline["b out"] = time.monotonic()
        time.sleep(1)

    outcomes = load(f"http://127.0.0.1:{front}", LOAD_CLIENTS, seconds=0, during=restart_then_crash)

    record_property("requests", dict(outcomes.counts))
    before_crash = [failure for failure in outcomes.failures if failure[0] < timeline["sigkill"]]
    after_crash = [failure for failure in outcomes.failures if failure[0] >= timeline["sigkill"]]
    after_out = [failure for failure in after_crash if failure[0] > timeline["b out"]]
    record_property("failed_by_the_crash", len(after_crash))
    print(f"requests: {dict(outcomes.counts)}; failed by the crash: {len(after_crash)}")
    assert balancer.popen.poll() is None
    # The rolling restart: not one failed request, and the process shut down cleanly.
    assert before_crash == [], before_crash
    assert timeline["a alive when out"], "HAProxy took a out only after it stopped"
    log_a = apis["a"].output()
    assert log_a.count("SIGTERM: draining for 2.0 s") == 2
    assert log_a.count("database engine disposed") == 2
    # uvicorn's supervisor exits 0 once its processes have (a lone process re-raises SIGTERM).
    assert apis["a"].popen.returncode == 0
    # The crash: at most the requests in flight on b (one per client, at most), and none
    # once HAProxy took it out.
    assert len(after_crash) <= LOAD_CLIENTS, after_crash
    assert after_out == [], after_out
    assert haproxy_status(tmp_path)["c"] == "UP"
    assert outcomes.counts["200"] > 50, outcomes.counts


# ---------------------------------------------------------------- workers lose nothing

# Long enough to be killed in the middle (over a second here), well within the time limit.
CRASH_SIMULATIONS = "250000"
CRASH_JOB_TIMEOUT_SECONDS = "10"


def work_horse(worker: Process) -> int:
    """The pid of the RQ work horse running a job: the worker's child that leads a process
    group of its own (RQ's scheduler, the other child, stays in the worker's)."""
    for child in (
        Path(f"/proc/{worker.popen.pid}/task/{worker.popen.pid}/children").read_text().split()
    ):
        if os.getpgid(int(child)) == int(child):
            return int(child)
    raise AssertionError("no work horse: the job is not running")


@pytest.mark.parametrize("queue", list(QUEUES))
def test_a_job_whose_worker_is_killed_mid_job_is_done_once_by_another_delivery(
    queue: str,
    projects: Callable[[str], Project],
    tmp_path: Path,
    record_property: Callable[[str, object], None],
) -> None:
    fleet = Fleet(projects(queue), tmp_path)
    settings = {
        "REPORT_SIMULATIONS": CRASH_SIMULATIONS,
        "JOB_TIMEOUT_SECONDS": CRASH_JOB_TIMEOUT_SECONDS,
    }
    worker_command = fleet.project.worker_command()
    try:
        api_port = free_port()
        api = fleet.start_api("api", api_port, settings)
        first = fleet.start("worker-1", worker_command, fleet.project.environment(**settings))
        url = f"http://127.0.0.1:{api_port}"
        wait_ready(url, api, first)

        client = Client(url)
        user_id = client.sign_up(f"crash-{time.monotonic_ns()}@example.com")
        description = "estimate design build test deploy review document release"
        status, project = client.call(
            "POST", f"/users/{user_id}/projects", {"name": "crash", "description": description}
        )
        assert status == 201, project
        status, accepted = client.call("POST", f"/projects/{project['id']}/report")  # type: ignore[index]
        assert status == 202, accepted
        report_path = f"/reports/{accepted['id']}"  # type: ignore[index]

        def report() -> dict[str, object]:
            status, body = client.call("GET", report_path)
            assert status == 200, body
            return body  # type: ignore[return-value]

        wait_until(lambda: report()["status"] == "running", "the job started", 30)
        second = fleet.start("worker-2", worker_command, fleet.project.environment(**settings))
        killed = time.monotonic()
        if queue == "rq":
            os.kill(work_horse(first), signal.SIGKILL)  # RQ's worker sees its horse die
        else:
            first.crash()

        wait_until(lambda: report()["status"] in {"done", "failed"}, "the job done again", 90)
        recovered = time.monotonic() - killed
        done = report()
        logs = first.output() + second.output()
    finally:
        fleet.stop()

    record_property("seconds_to_recover", round(recovered, 1))
    print(f"{queue}: done {recovered:.1f} s after the kill")
    assert done["status"] == "done", (done, logs[-4000:])
    assert done["attempts"] == 2, done
    assert done["result"] is not None
    assert logs.count(f"report {accepted['id']} done in") == 1, logs[-4000:]  # type: ignore[index]
    assert f"report {accepted['id']} was left running by attempt 1" in logs  # type: ignore[index]


# A program a consumer of the API writes with the client generated from its schema: each
# call's answer is narrowed to the type the schema documents for it, so that mypy --strict
# checks the program against the client, and running it checks the client against the
# service.
CLIENT_PROGRAM = """
import sys
import time
from http import HTTPStatus

from service_client import AuthenticatedClient, Client
from service_client.api.auth import log_in
from service_client.api.projects import create_project, get_project
from service_client.api.reports import get_report, request_report
from service_client.api.users import create_user
from service_client.models import (
    ErrorBody,
    LoginForm,
    ProjectCreate,
    ProjectPublic,
    ReportAccepted,
    ReportPublic,
    ReportStatus,
    TokenPair,
    UserCreate,
    UserPublic,
)

PASSWORD = "a-long-enough-password"


def main(base_url: str, email: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    body = UserCreate(email=email, full_name="Client", password=PASSWORD)
    user = create_user.sync(client=anonymous, body=body)
    assert isinstance(user, UserPublic), user
    tokens = log_in.sync(client=anonymous, body=LoginForm(username=email, password=PASSWORD))
    assert isinstance(tokens, TokenPair), tokens
    client = AuthenticatedClient(
        base_url=base_url, token=tokens.access_token, raise_on_unexpected_status=True
    )
    body_project = ProjectCreate(name="Client's project")
    project = create_project.sync(client=client, user_id=user.id, body=body_project)
    assert isinstance(project, ProjectPublic), project
    accepted = request_report.sync(client=client, project_id=project.id)
    assert isinstance(accepted, ReportAccepted), accepted
    deadline = time.monotonic() + 60
    while True:
        report = get_report.sync(client=client, report_id=accepted.id)
        assert isinstance(report, ReportPublic), report
        if report.status is ReportStatus.DONE or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert report.status is ReportStatus.DONE, report
    missing = get_project.sync_detailed(client=client, project_id=2**31 - 1)
    assert missing.status_code == HTTPStatus.NOT_FOUND, missing
    assert isinstance(missing.parsed, ErrorBody), missing.parsed
    print(report.status.value, missing.parsed.code)


main(sys.argv[1], sys.argv[2])
"""


def test_a_client_generated_from_the_schema_type_checks_and_drives_the_service(
    fleet: Fleet, tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    api = fleet.start_api("api", port, {})
    worker = fleet.start("worker", fleet.project.worker_command(), fleet.project.environment())
    wait_ready(url, api, worker)
    with urllib.request.urlopen(f"{url}/openapi.json", timeout=10) as response:  # noqa: S310
        schema = json.loads(response.read())
    validate(schema)  # openapi-spec-validator: the schema is valid OpenAPI
    (tmp_path / "openapi.json").write_text(json.dumps(schema), encoding="utf-8")

    tools = Path(sys.executable).parent
    # openapi-python-client formats what it writes with ruff, which it finds on PATH.
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    run([str(tools / "openapi-python-client"), "generate", "--path", "openapi.json",
         "--output-path", "service_client", "--meta", "none"], cwd=tmp_path, env=env)  # fmt: skip
    (tmp_path / "program.py").write_text(CLIENT_PROGRAM, encoding="utf-8")
    # The generator's client.py, the same whatever the schema, hands `*args: object` to
    # httpx's __exit__ (an arg-type error); everything generated from the schema is strict.
    (tmp_path / "mypy.ini").write_text(
        "[mypy]\nstrict = True\n[mypy-service_client.client]\ndisable_error_code = arg-type\n",
        encoding="utf-8",
    )
    run([str(tools / "mypy"), "--config-file", "mypy.ini", "service_client", "program.py"],
        cwd=tmp_path, env=env)  # fmt: skip
    email = f"client-{time.monotonic_ns()}@example.com"
    result = run([sys.executable, "program.py", url, email], cwd=tmp_path, env=env)

    record_property("client_modules", len(list((tmp_path / "service_client").rglob("*.py"))))
    assert result.stdout.split() == ["done", "project_not_found"], result.stdout
