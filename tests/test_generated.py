"""End to end: every valid combination of answers yields a project that passes its
own lint, format check, strict type check and test suite against real servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.generated import MATRIX, Combination, newservice, run, service_environment, shared_venv
from tests.servers import require

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("index", "combo"), list(enumerate(MATRIX)), ids=[combo.id for combo in MATRIX]
)
def test_generated_project_passes_its_own_checks(
    index: int, combo: Combination, tmp_path: Path, worker_id: str
) -> None:
    for server in combo.servers():
        require(server)

    project = tmp_path / combo.package
    newservice("create", str(project), "--defaults", "--no-git", "--quiet", *combo.flags(),
               cwd=tmp_path)  # fmt: skip
    venv = shared_venv(project)

    env = {
        **os.environ,
        **service_environment(combo, index),
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
    run([str(tools / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=env)  # fmt: skip
