"""Tagged template repositories in temporary folders, and the git the update tests need.

The tests never rely on this repository's own tags (a CI clone may have none):
each builds its template history from this repository's copier.yml, includes/
and template/, tagging v1, then changing README.md.jinja and tagging v2.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from newservice.template_layout import TEMPLATE_PATHS
from tests import REPO

# What v2 adds at the end of the generated README.md.
V2_CHANGE = "\n## Changelog\n\nTemplate v2 adds this section.\n"

# A fixed identity: a test machine may have none configured.
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**env, **IDENTITY},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed in {cwd}: {result.stderr}")
    return result.stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)


def template_repository(folder: Path, *, v2: bool = True) -> Path:
    """A git repository of this repository's template, tagged v1 (and v2, which adds V2_CHANGE)."""
    folder.mkdir(parents=True)
    for name in TEMPLATE_PATHS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / name)
    git(folder, "init", "--quiet")
    commit_all(folder, "Template v1")
    git(folder, "tag", "v1")
    if v2:
        add_v2(folder)
    return folder


def template_repository_before_question(folder: Path, question: str) -> Path:
    """A template repository whose v1 predates `question` (removed from copier.yml) and
    whose v2 is this repository's template, which asks it."""
    template_repository(folder, v2=False)
    copier_yml = folder / "copier.yml"
    current = copier_yml.read_text(encoding="utf-8")
    git(folder, "tag", "--delete", "v1")
    copier_yml.write_text(without_question(current, question), encoding="utf-8")
    commit_all(folder, f"Template v1: no '{question}' question yet")
    git(folder, "tag", "v1")
    copier_yml.write_text(current, encoding="utf-8")
    commit_all(folder, f"Template v2: the '{question}' question")
    git(folder, "tag", "v2")
    return folder


def without_question(copier_yml: str, question: str) -> str:
    """copier.yml without the block of `question`: its key line up to the next blank line."""
    lines = copier_yml.splitlines(keepends=True)
    start = lines.index(f"{question}:\n")
    end = next(i for i in range(start, len(lines)) if not lines[i].strip())
    return "".join(lines[:start] + lines[end + 1 :])


def add_v2(repo: Path) -> None:
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text(encoding="utf-8") + V2_CHANGE, encoding="utf-8")
    commit_all(repo, "Template v2: a changelog section")
    git(repo, "tag", "v2")


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` but git's own, by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(folder).parts
    }
