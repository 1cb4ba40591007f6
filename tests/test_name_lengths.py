"""The generated code is as ruff leaves it whatever the package name's length.

The package name is spelled in imports, settings and docstrings, so a long one can push a
line past the line length and change what ruff check and ruff format want. Every
combination is rendered with the shortest and the longest name copier.yml accepts: a line
that fits at the longest fits at every length, and a layout ruff keeps at both ends it
keeps in between.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from pytest_copie.plugin import Copie

from tests import REPO
from tests.generated import MATRIX, Combination

LONGEST = 50  # copier.yml refuses a longer package name
NAMES = {"shortest": "x", "longest": ("abcdefghij_" * 5)[:LONGEST]}


def test_longest_name_is_the_longest_accepted(copie: Copie) -> None:
    refused = copie.copy(extra_answers={"project_name": NAMES["longest"] + "x"}, template_dir=REPO)
    assert refused.exception is not None
    assert "longer than 50 characters" in str(refused.exception)


@pytest.mark.parametrize("length", NAMES)
@pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
def test_ruff_leaves_generated_code_unchanged(copie: Copie, case: Combination, length: str) -> None:
    name = NAMES[length]
    result = copie.copy(extra_answers={"project_name": name, **case.answers()}, template_dir=REPO)
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    assert (result.project_dir / "src" / name).is_dir()

    for command in (["check"], ["format", "--check", "--diff"]):
        ruff = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "--no-cache", "."],
            cwd=result.project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        assert ruff.returncode == 0, ruff.stdout + ruff.stderr
