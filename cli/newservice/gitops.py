"""git as newservice uses it: a new project's first commit, and the checks an update needs.

Every git command newservice runs goes through `run` (or `output`, which also
judges the exit status), so each gets the same environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    if git_executable() is None:
        return False
    result = run(["rev-parse", "--is-inside-work-tree"], cwd=folder)
    return result.returncode == 0 and result.stdout.strip() == "true"


def initial_commit(project: Path, message: str) -> None:
    """`git init`, `git add -A` and one commit of everything in `project`."""
    try:
        output(["init", "--quiet"], cwd=project, what="git init failed")
        identity = _fallback_identity(project)
        output(["add", "--all"], cwd=project, env=identity, what="git add failed")
        output(
            ["commit", "--quiet", "--message", message],
            cwd=project,
            env=identity,
            what="git commit failed",
        )
    except GitError as error:
        raise GitError(f"{error.message} (use --no-git to skip git)") from error


def _fallback_identity(project: Path) -> dict[str, str]:
    """The variables that give a commit in `project` the fallback identity where git has none."""
    env = {}
    for key in ("name", "email"):
        if run(["config", "--get", f"user.{key}"], cwd=project).stdout.strip():
            continue
        for role in ("AUTHOR", "COMMITTER"):
            variable = f"GIT_{role}_{key.upper()}"
            if variable not in os.environ:
                env[variable] = _FALLBACK_IDENTITY[key]
    return env


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    for name in _REDIRECTING_VARIABLES:
        env.pop(name, None)
    return env


def require_git(purpose: str) -> str:
    git = git_executable()
    if git is None:
        raise GitError(f"git is not installed; {purpose} needs it")
    return git


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run git and return what happened; a non-zero exit is the caller's to judge."""
    git = require_git("newservice")
    prefix = [f"--git-dir={git_dir}"] if git_dir is not None else []
    return subprocess.run(
        [git, *prefix, *args],
        cwd=cwd,
        env={**_environment(), **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def output(
    args: Sequence[str],
    *,
    what: str,
    cwd: Path | None = None,
    git_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """git's standard output, stripped; a failure is a one-line error starting with `what`."""
    result = run(args, cwd=cwd, git_dir=git_dir, env=env)
    if result.returncode != 0:
        raise GitError(f"{what}: {last_line(result)}")
    return result.stdout.strip()


def last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"git exited with status {result.returncode}"


def toplevel(folder: Path) -> Path | None:
    """The root of the git work tree holding `folder`, or None outside one."""
    result = run(["rev-parse", "--show-toplevel"], cwd=folder)
    if result.returncode != 0:
        return None
    return Path(result.stdout.strip())


def status(folder: Path, *pathspecs: str, ignored: bool = False) -> list[tuple[str, Path]]:
    """`git status` of `folder` (pathspecs relative to it): (XY code, absolute path) pairs.

    Untracked files are listed one by one; ignored files only with `ignored`.
    """
    args = ["status", "--porcelain=v1", "-z", "--untracked-files=all"]
    if ignored:
        args.append("--ignored=matching")
    top = toplevel(folder)
    if top is None:
        raise GitError(f"{folder} is not in a git repository")
    result = run([*args, "--", *(pathspecs or ["."])], cwd=folder)
    if result.returncode != 0:
        raise GitError(f"git status failed in {folder}: {last_line(result)}")
    # Not stripped: the first entry may start with a space (" M file").
    entries = result.stdout.split("\0")
    found = []
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code[0] in "RC":
            index += 1  # the source of a rename or copy follows; the new path is what changed
        found.append((code, top / path))
    return found


@contextmanager
def steps_then_uncommitted(folder: Path) -> Iterator[Callable[[], None]]:
    """Let a series of changes each start from a clean work tree, and leave them all
    uncommitted at the end, as if made at once.

    Copier's update refuses a dirty work tree, so a project with several answers files
    (the project's, each resource's) is updated one file at a time: the yielded function
    commits what is there between two steps, and the exit resets the branch to where it
    was, keeping every change in the work tree for the user to review.
    """
    start = output(["rev-parse", "HEAD"], cwd=folder, what="cannot read the project's HEAD")
    identity = _fallback_identity(folder)

    def checkpoint() -> None:
        if not status(folder):
            return
        output(["add", "--all", "--", "."], cwd=folder, env=identity, what="git add failed")
        output(
            ["-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify",
             "--message", "newservice update: one step of several"],
            cwd=folder,
            env=identity,
            what="git commit failed",
        )  # fmt: skip

    try:
        yield checkpoint
    finally:
        output(["reset", "--quiet", start], cwd=folder, what="cannot put the branch back")
