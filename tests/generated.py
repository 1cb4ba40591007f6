"""Generate a project with the real CLI and run its own checks in a cached venv.

The generated projects' dependencies are installed once per distinct set into a
cached virtual environment, and each project is checked from its own folder
with that environment's tools: the project is not installed there, its own
configuration (pytest `pythonpath`, mypy `mypy_path`, Alembic
`prepend_sys_path`) makes it importable, exactly as a developer's checkout is.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from tests.servers import DATABASE_SERVERS, MARIADB, POSTGRESQL, RABBITMQ, REDIS, Server

CACHE = Path(os.environ.get("NEWSERVICE_TEST_CACHE", Path.home() / ".cache" / "newservice-tests"))
PYTHON_TAG = f"py{sys.version_info.major}{sys.version_info.minor}"


@dataclass(frozen=True)
class Combination:
    db: str
    worker: str
    broker: str | None = None
    auth: str = "jwt"

    @property
    def id(self) -> str:
        public = "noauth" if self.auth == "none" else None
        return "-".join(part for part in (self.db, self.worker, self.broker, public) if part)

    @property
    def package(self) -> str:
        # Unique per combination: each one gets its own databases, Redis
        # database and queue names, so combinations can run side by side.
        return "e2e_" + self.id.replace("-", "_")

    def answers(self) -> dict[str, str]:
        """The combination as Copier answers."""
        answers = {"db": self.db, "worker": self.worker}
        if self.broker:
            answers["broker"] = self.broker
        answers["auth"] = self.auth
        return answers

    def flags(self) -> list[str]:
        """The combination as `newservice create` flags."""
        return [part for key, value in self.answers().items() for part in (f"--{key}", value)]

    def servers(self) -> list[Server]:
        servers = [s for s in (DATABASE_SERVERS[self.db],) if s is not None]
        if self.worker in {"rq", "arq"} or self.broker == "redis":
            servers.append(REDIS)
        if self.broker == "rabbitmq":
            servers.append(RABBITMQ)
        return servers


DATABASES = ("postgresql", "mysql", "sqlite")
WORKERS = (("none", None), ("celery", "redis"), ("celery", "rabbitmq"), ("rq", None), ("arq", None))
# Every combination with authentication (the default), and a public API (auth=none) once
# per database, so that both variants stay green. The public ones come last and use no
# Redis: the index of a combination is its Redis database, and Redis has 16.
MATRIX = [
    *(Combination(db, worker, broker) for db in DATABASES for worker, broker in WORKERS),
    *(Combination(db, "none", auth="none") for db in DATABASES),
]
# One combination per database whose project runs the steps of its own CI workflow
# (tests/test_workflow.py): its lint, type check and tests with the coverage gate, after
# `uv sync --locked`. That is everything check_project does, so tests/test_generated.py
# leaves these to it rather than run them twice.
WORKFLOW_COMBINATIONS = [
    Combination("postgresql", "celery", "redis"),
    Combination("mysql", "rq"),
    Combination("sqlite", "none", auth="none"),
]


# `newservice add resource` in the projects without a worker (one per database, with and
# without authentication): every type and modifier, references to a built-in domain and to
# a generated one, a plural at the longest length allowed, and, with authentication, a
# resource shared by every user. Their own tests run with the project's.
RESOURCES = (
    ("invoice", "number:str(20):unique", "title:str", "note:text:optional", "count:int:index",
     "big:bigint:optional", "ratio:float:index", "total:decimal(12,2):index", "paid:bool:index",
     "due:date:optional:index", "sent_at:datetime:optional:index", "token:uuid:unique:index",
     "data:json", "extra:json:optional", "customer:ref:users", "project:ref:projects:optional"),
    ("invoice_line_adjustment", "invoice:ref:invoices", "amount:decimal(10,2)",
     "label:str(80):index"),
)  # fmt: skip
SHARED_RESOURCE = ("tag", "name:str(40):unique", "--public")


def add_resources(project: Path, combo: Combination) -> None:
    if combo.worker != "none":
        return
    for resource in (*RESOURCES, *([SHARED_RESOURCE] if combo.auth == "jwt" else [])):
        newservice("add", "resource", *resource, "--path", str(project), cwd=project)


def service_environment(combo: Combination, index: int) -> dict[str, str]:
    """The settings a developer would put in .env, pointed at this machine's servers."""
    package = combo.package
    urls = {
        "postgresql": (
            f"postgresql+asyncpg://postgres:postgres@{POSTGRESQL.host}:{POSTGRESQL.port}/{package}"
        ),
        "mysql": f"mysql+asyncmy://root@{MARIADB.host}:{MARIADB.port}/{package}",
        "sqlite": f"sqlite+aiosqlite:///./{package}.db",
    }
    redis_url = f"redis://{REDIS.host}:{REDIS.port}/{index % 16}"
    broker_url = (
        f"amqp://guest:guest@{RABBITMQ.host}:{RABBITMQ.port}//"
        if combo.broker == "rabbitmq"
        else redis_url
    )
    return {"DATABASE_URL": urls[combo.db], "REDIS_URL": redis_url, "BROKER_URL": broker_url}


def cached_venv(requirements: Sequence[str], *, cache: Path, cwd: Path) -> Path:
    """A virtual environment under `cache` holding `requirements`, built once per set.

    Keyed by the requirement set: an unchanged set reuses its venv, a changed one gets a new
    venv (uv's download cache makes a rebuild quick). Parallel test workers, or a test run
    and a benchmark, may want the same venv: one builds it, the others wait on its lock.
    Also used by bench/harness.py.
    """
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    venv = cache / f"venv-{PYTHON_TAG}-{key}"
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is required to build the venvs: pip install -e '.[test]'")
    cache.mkdir(parents=True, exist_ok=True)
    with FileLock(venv.with_suffix(".lock")):
        if not (venv / "done").exists():
            shutil.rmtree(venv, ignore_errors=True)
            run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=cache)
            run(
                [uv, "pip", "install", "--quiet", "--compile-bytecode",
                 "--python", str(venv / "bin" / "python"), *sorted(requirements)],
                cwd=cwd,
            )  # fmt: skip
            (venv / "done").touch()
    return venv


def shared_venv(project: Path) -> Path:
    """A cached venv holding this project's dependencies (with the dev extra).

    Combinations whose dependencies are the same share one venv; different sets
    get different venvs, because some cannot live together (arq needs redis<6
    while Celery's Redis transport wants a newer one).
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*pyproject["dependencies"], *pyproject["optional-dependencies"]["dev"]]
    return cached_venv(requirements, cache=CACHE, cwd=project)


def run(
    command: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure, fail with its output so the cause is in the report."""
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
    return result


def newservice(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, run as a user runs it (no terminal)."""
    return run([sys.executable, "-m", "newservice", *args], cwd=cwd, timeout=120)


def check_project(project: Path, combo: Combination, *, redis_index: int, worker_id: str) -> None:
    """Run the project's own lint, format check, strict type check and tests, as its
    developer would, against this machine's servers."""
    venv = shared_venv(project)
    env = {
        **os.environ,
        **service_environment(combo, redis_index),
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        # Third-party analysis is reused between the projects a test worker
        # checks; each worker keeps its own cache so they never write the same one.
        "MYPY_CACHE_DIR": str(venv.parent / f"mypy-cache-{worker_id}"),
    }
    env.pop("PYTHONPATH", None)
    tools = venv / "bin"
    run([str(tools / "ruff"), "check", "."], cwd=project, env=env)
    run([str(tools / "ruff"), "format", "--check", "."], cwd=project, env=env)
    run([str(tools / "mypy")], cwd=project, env=env)
    # Without coverage, which doubles the time of a suite on Python 3.11: the coverage gate
    # is the project's CI step, run by tests/test_workflow.py once per database.
    run([str(tools / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--no-cov"],
        cwd=project, env=env)  # fmt: skip
