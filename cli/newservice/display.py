"""What the summaries of create and update share: how a path and a list of steps look."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text


def display_path(path: Path, cwd: Path) -> str:
    """`path` as the user would type it from `cwd`: relative below it, absolute elsewhere."""
    if path.is_relative_to(cwd):
        return os.path.relpath(path, cwd)
    return str(path)


def print_steps(console: Console, steps: Sequence[str]) -> None:
    for number, step in enumerate(steps, start=1):
        console.print(Text.assemble(f"  {number}. ", (step, "cyan")), soft_wrap=True)
