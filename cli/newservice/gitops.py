"""git for a new project: a repository holding the generated files as its first commit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from newservice.errors import NewserviceError

# Used only where git has no identity configured, so the first commit never fails
# on a fresh machine; a configured identity always wins.
_FALLBACK_IDENTITY = {"name": "newservice", "email": "newservice@localhost"}

# Set by git hooks and some tools; they would point our commands at another repository.
_REDIRECTING_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX")


class GitError(NewserviceError):
    pass


def git_executable() -> str | None:
    return shutil.which("git")


def inside_work_tree(folder: Path) -> bool:
    """Whether `folder` (which exists) already belongs to a git work tree."""
    git = git_executable()
    if git is None:
        return False
    result = subprocess.run(
        [git, "rev-parse", "--is-inside-work-tree"],
        cwd=folder,
        env=_environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    return result.returncode == 0 and result.stdout.strip() == "true"


def initial_commit(project: Path, message: str) -> None:
    """`git init`, `git add -A` and one commit of everything in `project`."""
    git = git_executable()
    if git is None:
        raise GitError("git is not installed")
    env = _environment()
    _run(git, project, env, "init", "--quiet")
    for key in ("name", "email"):
        configured = subprocess.run(
            [git, "config", "--get", f"user.{key}"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if not configured.stdout.strip():
            env.setdefault(f"GIT_AUTHOR_{key.upper()}", _FALLBACK_IDENTITY[key])
            env.setdefault(f"GIT_COMMITTER_{key.upper()}", _FALLBACK_IDENTITY[key])
    _run(git, project, env, "add", "--all")
    _run(git, project, env, "commit", "--quiet", "--message", message)


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in _REDIRECTING_VARIABLES:
        env.pop(name, None)
    return env


def _run(git: str, project: Path, env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [git, *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {result.returncode}"
        raise GitError(f"git {args[0]} failed: {reason} (use --no-git to skip git)")
