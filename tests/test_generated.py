"""End to end: every valid combination of answers yields a project that passes its
own lint, format check, strict type check and test suite against real servers; the
projects without a worker do with resources added by `newservice add resource`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.generated import (
    MATRIX,
    WORKFLOW_COMBINATIONS,
    Combination,
    add_resources,
    check_project,
    newservice,
)
from tests.servers import require

pytestmark = pytest.mark.e2e

# The workflow's combinations run the same checks through their CI workflow's steps.
CHECKED_HERE = [(index, combo) for index, combo in enumerate(MATRIX)
                if combo not in WORKFLOW_COMBINATIONS]  # fmt: skip


@pytest.mark.parametrize(
    ("index", "combo"), CHECKED_HERE, ids=[combo.id for _, combo in CHECKED_HERE]
)
def test_generated_project_passes_its_own_checks(
    index: int, combo: Combination, tmp_path: Path, worker_id: str
) -> None:
    for server in combo.servers():
        require(server)

    project = tmp_path / combo.package
    newservice("create", str(project), "--defaults", "--no-git", "--quiet", *combo.flags(),
               cwd=tmp_path)  # fmt: skip
    add_resources(project, combo)
    check_project(project, combo, redis_index=index, worker_id=worker_id)
