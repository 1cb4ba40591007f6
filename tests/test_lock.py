"""`newservice create` writes uv.lock with uv before the first commit, or says in one line
why not, and creates the project all the same."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from newservice import locking
from tests.commands import invoke, path_with_uv, path_without_uv

FLAGS = ("-y", "--db", "sqlite", "--worker", "none")


def summary_line(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.strip().startswith("uv.lock")]
    return line


def test_create_locks_every_dependency_and_commits_the_lock(tmp_path: Path) -> None:
    project = tmp_path / "svc"

    result = invoke("create", str(project), *FLAGS, env={"PATH": path_with_uv()})

    assert result.exit_code == 0, result.output
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    assert 'name = "svc"' in lock
    assert 'name = "fastapi"' in lock
    assert "written by `uv lock`" in summary_line(result.stdout)
    # The next steps take the locked route, through the project's tasks.
    assert "uv sync --extra dev" in result.stdout
    assert "uv run poe migrate" in result.stdout
    assert "pip install" not in result.stdout
    tracked = subprocess.run(
        ["git", "ls-files", "uv.lock"], cwd=project, capture_output=True, text=True, check=True
    )
    assert tracked.stdout.strip() == "uv.lock"


def test_no_lock_skips_it(tmp_path: Path) -> None:
    project = tmp_path / "svc"

    result = invoke("create", str(project), *FLAGS, "--no-lock", env={"PATH": path_with_uv()})

    assert result.exit_code == 0, result.output
    assert not (project / "uv.lock").exists()
    assert "run `uv lock`" in summary_line(result.stdout)


def test_without_uv_the_project_is_created_and_the_summary_says_how_to_lock(
    tmp_path: Path,
) -> None:
    project = tmp_path / "svc"

    result = invoke("create", str(project), *FLAGS, env={"PATH": path_without_uv()})

    assert result.exit_code == 0, result.output
    assert (project / "pyproject.toml").is_file()
    assert not (project / "uv.lock").exists()
    line = summary_line(result.stdout)
    assert "uv is not installed" in line
    assert "run `uv lock`" in line


@pytest.fixture
def silent_index() -> Iterator[str]:
    """A package index that accepts connections and never answers, as a network that
    drops packets would."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        host, port = server.getsockname()
        yield f"http://{host}:{port}/simple"


def test_an_unreachable_index_costs_the_time_limit_not_a_hang(
    tmp_path: Path, silent_index: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locking, "LOCK_TIMEOUT_SECONDS", 2)
    project = tmp_path / "svc"
    offline: dict[str, str | None] = {
        "PATH": path_with_uv(),
        "UV_DEFAULT_INDEX": silent_index,
        "UV_NO_CACHE": "1",
    }

    result = invoke("create", str(project), *FLAGS, env=offline)

    assert result.exit_code == 0, result.output
    assert (project / "pyproject.toml").is_file()
    assert not (project / "uv.lock").exists()
    line = summary_line(result.stdout)
    assert "took more than 2 s" in line
    assert "run `uv lock`" in line


def test_a_refused_index_is_reported_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project = tmp_path / "svc"
    refused: dict[str, str | None] = {
        "PATH": path_with_uv(),
        "UV_DEFAULT_INDEX": f"http://127.0.0.1:{port}/simple",
        "UV_NO_CACHE": "1",
        "UV_HTTP_RETRIES": "0",
    }

    result = invoke("create", str(project), *FLAGS, env=refused)

    assert result.exit_code == 0, result.output
    assert not (project / "uv.lock").exists()
    line = summary_line(result.stdout)
    assert line.strip().startswith("uv.lock   not written: ")
    assert "run `uv lock`" in line
