"""`uv.lock` for a new or updated project, written by `uv lock`, or the one line saying why not.

Locking resolves every dependency against the package index, so it can fail for reasons
that have nothing to do with the project (uv missing, no network): the project is still
created or updated, and the summary says how to lock later. A time limit keeps a machine
without network from hanging the command.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOCK_TIMEOUT_SECONDS = 120
LOCK_FILE = "uv.lock"


@dataclass(frozen=True)
class LockOutcome:
    written: bool
    detail: str
    """What the summary shows: that uv.lock was written, or why not and what to do."""


NOT_ASKED = LockOutcome(False, f"not written (--no-lock); run `uv lock` to write {LOCK_FILE}")


def lock(project: Path) -> LockOutcome:
    """Run `uv lock` in `project`."""
    timeout = LOCK_TIMEOUT_SECONDS
    uv = shutil.which("uv")
    later = f"run `uv lock` in the project to write {LOCK_FILE}"
    if uv is None:
        return LockOutcome(False, f"not written: uv is not installed; install it, then {later}")
    try:
        result = subprocess.run(
            [uv, "lock", "--quiet", "--no-progress"],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        reason = f"`uv lock` took more than {timeout:.0f} s (is the package index reachable?)"
        return LockOutcome(False, f"not written: {reason}; {later}")
    if result.returncode != 0:
        return LockOutcome(False, f"not written: {_last_line(result.stderr)}; {later}")
    return LockOutcome(True, "written by `uv lock`; `uv sync --locked` installs exactly it")


def _last_line(text: str) -> str:
    """uv's own reason, which it prints last (after the chain of causes)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1].removeprefix("error: ").removeprefix("Caused by: ") if lines else "uv failed"
