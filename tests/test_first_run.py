"""End to end: a generated project's first run against a database it cannot use.

A database that does not exist, or credentials the server refuses, stop `alembic upgrade
head` and the app's start with one line naming the URL (password hidden) and what to do,
a non-zero exit and no traceback. The project's own tests stop at once, in one line, when
their server cannot be reached or refuses them. Each project is generated once per module
and run with the cached venv of its dependencies.

PostgreSQL trusts every connection from 127.0.0.1 on this machine's server, so a wrong
password is not refused there: a role that does not exist is (SQLSTATE 28000, as a wrong
password on a server that checks it is 28P01). MariaDB checks passwords.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.generated import newservice, shared_venv
from tests.servers import DATABASE_SERVERS, POSTGRESQL, require

pytestmark = pytest.mark.e2e

# A made-up password, in every URL that has one: it must never be printed.
PASSWORD = "s3cret-Pa55"  # noqa: S105
MISSING_DATABASE = "first_run_no_such_database"

# Each project's commands, run with its venv's tools from the project's folder.
Run = Callable[[list[str], str], subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class Case:
    """A DATABASE_URL the project cannot use, and what its one line must say."""

    id: str
    db: str
    url: str
    # The URL as the line shows it (the password masked).
    shown: str
    # What to do, in the same line.
    hint: str


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _case(
    problem: str,
    db: str,
    credentials: str,
    database: str,
    hint: str,
    *,
    port: int | None = None,
    shown_database: str | None = None,
) -> Case:
    """A URL of the machine's server for `db` (or of `port`), with `credentials`
    ("user" or "user:password"), and the line it must give."""
    server = DATABASE_SERVERS[db]
    assert server is not None, f"{db} has no server"
    scheme = "postgresql+asyncpg" if db == "postgresql" else "mysql+asyncmy"
    address = f"{server.host}:{port or server.port}"
    masked = credentials.replace(PASSWORD, "***")
    return Case(
        f"{db}-{problem}",
        db,
        f"{scheme}://{credentials}@{address}/{database}",
        f"{scheme}://{masked}@{address}/{shown_database or database}",
        hint,
    )


REFUSED = "check the user and password in DATABASE_URL"
UNREACHABLE = "start the server (`docker compose up -d db`) or set DATABASE_URL"

SETUP_ERRORS = [
    _case("missing-database", "postgresql", f"postgres:{PASSWORD}", MISSING_DATABASE,
          f"`createdb -h {POSTGRESQL.host} -p {POSTGRESQL.port} -U postgres {MISSING_DATABASE}`"),
    _case("refused-credentials", "postgresql", f"nobody:{PASSWORD}", "postgres", REFUSED),
    # MariaDB's root has no password here: with one, it would be refused instead.
    _case("missing-database", "mysql", "root", MISSING_DATABASE,
          f"CREATE DATABASE `{MISSING_DATABASE}` CHARACTER SET utf8mb4"),
    _case("refused-credentials", "mysql", f"root:{PASSWORD}", "mysql", REFUSED),
]  # fmt: skip

# The project's own tests use the twin of DATABASE_URL's database, with _test appended,
# which their line names.
TEST_SERVER_ERRORS = [
    _case("unreachable", "postgresql", f"postgres:{PASSWORD}", "first_run_postgresql",
          UNREACHABLE, port=_closed_port(), shown_database="first_run_postgresql_test"),
    _case("refused-credentials", "postgresql", f"nobody:{PASSWORD}", "first_run_postgresql",
          REFUSED, shown_database="first_run_postgresql_test"),
    _case("unreachable", "mysql", f"root:{PASSWORD}", "first_run_mysql",
          UNREACHABLE, port=_closed_port(), shown_database="first_run_mysql_test"),
    _case("refused-credentials", "mysql", f"root:{PASSWORD}", "first_run_mysql",
          REFUSED, shown_database="first_run_mysql_test"),
]  # fmt: skip


@pytest.fixture(scope="module")
def run_in_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """`run_in_project(db)(command, database_url)`: a command of the project generated for
    `db` (once per module), with that DATABASE_URL, its exit status and output kept."""
    projects: dict[str, Path] = {}

    def project_for(db: str) -> Run:
        if (server := DATABASE_SERVERS[db]) is not None:
            require(server)
        if db not in projects:
            folder = tmp_path_factory.mktemp(f"first-run-{db}")
            projects[db] = folder / f"first_run_{db}"
            newservice("create", str(projects[db]), "--defaults", "--no-git", "--quiet",
                       "--db", db, "--worker", "none", cwd=folder)  # fmt: skip
        project = projects[db]
        venv = shared_venv(project)

        def run(command: list[str], database_url: str) -> subprocess.CompletedProcess[str]:
            env = {
                **os.environ,
                "DATABASE_URL": database_url,
                "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
                "VIRTUAL_ENV": str(venv),
            }
            env.pop("PYTHONPATH", None)
            # No check=True: failing is the point. The timeout is a hang, never a measure.
            return subprocess.run(
                command,
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )

        return run

    return project_for


def the_one_line(result: subprocess.CompletedProcess[str], case: Case) -> str:
    """The only line of the output that names the URL, after the common checks: a non-zero
    exit, no traceback, the password nowhere, and the hint in that line."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    assert PASSWORD not in output, output
    lines = [line for line in output.splitlines() if case.shown in line]
    assert len(lines) == 1, output
    assert case.hint in lines[0], output
    return lines[0]


@pytest.mark.parametrize("case", SETUP_ERRORS, ids=[case.id for case in SETUP_ERRORS])
def test_migrations_stop_in_one_line(case: Case, run_in_project: Callable[[str], Run]) -> None:
    result = run_in_project(case.db)(["alembic", "upgrade", "head"], case.url)
    the_one_line(result, case)


def test_migrations_name_the_missing_folder_of_a_sqlite_database(
    run_in_project: Callable[[str], Run],
) -> None:
    url = "sqlite+aiosqlite:///./no-such-folder/first_run.db"
    case = Case("sqlite-missing-folder", "sqlite", url, url, "`mkdir -p no-such-folder`")
    result = run_in_project("sqlite")(["alembic", "upgrade", "head"], url)
    the_one_line(result, case)


@pytest.mark.parametrize("case", SETUP_ERRORS, ids=[case.id for case in SETUP_ERRORS])
def test_the_app_refuses_to_start_in_one_line(
    case: Case, run_in_project: Callable[[str], Run]
) -> None:
    app = f"first_run_{case.db}.main:create_app"
    # The project is not installed in the shared venv: --app-dir makes src/ importable.
    command = ["uvicorn", "--app-dir", "src", "--factory", app, "--port", "0"]
    result = run_in_project(case.db)(command, case.url)  # returns: it exited by itself
    the_one_line(result, case)
    assert "Application startup failed" in result.stderr


@pytest.mark.parametrize("case", TEST_SERVER_ERRORS, ids=[case.id for case in TEST_SERVER_ERRORS])
def test_the_projects_tests_stop_at_once_in_one_line(
    case: Case, run_in_project: Callable[[str], Run]
) -> None:
    command = ["python", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = run_in_project(case.db)(command, case.url)
    line = the_one_line(result, case)
    assert "DATABASE_URL" in line
    # Stopped at the first test that needs the database: no test failed or erred one by one.
    output = result.stdout + result.stderr
    assert re.search(r"\b\d+ (failed|errors?)\b", output) is None, output
