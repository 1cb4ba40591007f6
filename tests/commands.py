"""newservice run in-process as the CLI tests run it, and what every refusal looks like."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner, Result

from newservice.cli import app

_runner = CliRunner()

# uv is a test dependency: its executable sits beside this Python, which is not always on
# PATH. newservice finds uv on PATH only, so each test says whether it has one.
UV_FOLDER = Path(sys.executable).parent


def path_with_uv() -> str:
    return f"{UV_FOLDER}{os.pathsep}{os.environ['PATH']}"


def path_without_uv() -> str:
    folders = os.environ["PATH"].split(os.pathsep)
    return os.pathsep.join(folder for folder in folders if not (Path(folder) / "uv").exists())


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return _runner.invoke(app, list(args), env=env)


def assert_one_line_error(result: Result, *fragments: str, code: int = 2) -> None:
    """A refusal: exit `code`, one `error:` line on stderr holding every fragment, no traceback."""
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.output


def answers(project: Path) -> dict[str, Any]:
    """The answers `project` records, read as Copier reads them."""
    loaded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded
