"""End to end: the generated CI workflow is not dead code.

A project is created as a user creates it (uv on PATH, so `newservice create` writes
uv.lock), and every `run:` step of its `.github/workflows/ci.yml` runs here, job by job,
in order, in the project's folder, against this machine's servers: the workflow's service
containers are published on 127.0.0.1 at their standard ports, which is where this
machine's servers listen. Only the credentials differ (MariaDB's root has no password
here), so the URLs come from the environment, as for every end-to-end test. The steps
install the locked dependencies (`uv sync --locked`), lint, type-check, migrate, compare
models and migrations, and run the tests with the coverage gate; a step that fails here
fails the test. Then the project's pre-commit hooks run on every file.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.commands import path_with_uv
from tests.generated import (
    WORKFLOW_COMBINATIONS,
    Combination,
    add_resources,
    run,
    service_environment,
)
from tests.servers import MARIADB, POSTGRESQL, require

pytestmark = pytest.mark.e2e

# One combination per database: the two servers with a broker each, SQLite without.
COMBINATIONS = WORKFLOW_COMBINATIONS
# Redis databases of their own, past those of test_generated.py's matrix.
REDIS_INDEX = {"postgresql": 13, "mysql": 12, "sqlite": 11}
STEP_TIMEOUT_SECONDS = 900


def create_database(combo: Combination) -> None:
    """What the workflow's service container does with POSTGRES_DB / MARIADB_DATABASE."""
    name = combo.package
    if combo.db == "postgresql":
        run(["psql", "-h", POSTGRESQL.host, "-p", str(POSTGRESQL.port), "-U", "postgres",
             "-c", f'DROP DATABASE IF EXISTS "{name}"', "-c", f'CREATE DATABASE "{name}"'],
            cwd=Path.cwd())  # fmt: skip
    elif combo.db == "mysql":
        statement = (
            f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
        )
        run(["mysql", "-h", MARIADB.host, "-P", str(MARIADB.port), "-u", "root", "-e", statement],
            cwd=Path.cwd())  # fmt: skip


def workflow_steps(project: Path) -> list[tuple[str, str, dict[str, str]]]:
    """(job, step name, job environment) for every `run:` step, in the workflow's order."""
    workflow: dict[str, Any] = yaml.safe_load(
        (project / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    )
    steps = []
    for job_name, job in workflow["jobs"].items():
        job_env = {key: str(value) for key, value in (job.get("env") or {}).items()}
        for step in job["steps"]:
            if "run" in step:
                steps.append((f"{job_name}: {step.get('name', step['run'])}", step["run"], job_env))
    return steps


@pytest.mark.parametrize("combo", COMBINATIONS, ids=[combo.id for combo in COMBINATIONS])
def test_the_workflow_steps_pass_on_a_new_project(combo: Combination, tmp_path: Path) -> None:
    for server in combo.servers():
        require(server)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}
    }
    environment["PATH"] = path_with_uv()
    created = subprocess.run(
        ["newservice", "create", combo.package, "-y", *combo.flags()],
        cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    project = tmp_path / combo.package
    assert (project / "uv.lock").is_file(), created.stdout
    # As in tests/test_generated.py, whose checks these steps stand in for.
    add_resources(project, combo)
    create_database(combo)

    steps = workflow_steps(project)
    commands = [command for _, command, _ in steps]
    assert "uv sync --locked --extra dev" in commands
    for name, command, job_env in steps:
        # The job's URLs name the service containers' credentials; this machine's differ.
        env = {**environment, **job_env, **service_environment(combo, REDIS_INDEX[combo.db])}
        result = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", command],
            cwd=project, env=env, capture_output=True, text=True,
            timeout=STEP_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
        assert result.returncode == 0, (
            f"step {name!r} (`{command}`) exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )

    hooks = subprocess.run(
        ["uv", "run", "pre-commit", "run", "--all-files", "--show-diff-on-failure"],
        cwd=project, env=environment, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert hooks.returncode == 0, hooks.stdout[-6000:] + hooks.stderr[-3000:]
