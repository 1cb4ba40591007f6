"""newservice is held to the tools it holds its generated projects to."""

import subprocess
import sys

import pytest

from tests import REPO

CHECKS = {
    "ruff check": ["ruff", "check", "."],
    "ruff format": ["ruff", "format", "--check", "."],
    # pyproject.toml's [tool.mypy]: strict, over cli, tests, bench and hatch_build.py.
    "mypy": ["mypy"],
}


@pytest.mark.parametrize("tool", list(CHECKS))
def test_the_generator_passes(tool: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *CHECKS[tool]],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
