"""README.md's commands are the ones that are run: CI runs its test command verbatim."""

from __future__ import annotations

import re

from tests import REPO


def readme_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```(?:sh|bash|console)\n(.*?)\n```", readme, flags=re.DOTALL)


def test_readme_opens_with_install_and_test_commands() -> None:
    install, test, *_ = readme_commands()
    assert "newservice create" in install
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test, *_ = readme_commands()
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test.strip() in (line.strip() for line in ci_lines)
