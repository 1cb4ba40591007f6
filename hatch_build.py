"""Build hook: ship the template's git history in the sdist and the wheel.

`copier update` needs the template as a git history with tags, so every build
carries one as a git bundle: `newservice/_template.bundle` in the wheel,
`_template.bundle` at the root of the sdist (a wheel built from the sdist, as
`python -m build` does, reuses it; there is no .git there).

The bundle holds (history.py in the package explains how it is installed):
    refs/tags/v*                  this repository's release tags
    refs/heads/builds/<commit>    the commit this build renders
    HEAD                          the same commit

The commit this build renders is HEAD, unless the template files (copier.yml,
includes/, template/) have uncommitted changes or the clone is shallow: then it
is a snapshot commit of the work tree's template files made for the build,
with fixed dates so that the same files give the same commit. Nothing is
written into this repository: new objects go to a temporary repository that
borrows this one's objects. Editable installs render the checkout itself and
get no bundle.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _template_layout() -> ModuleType:
    # By path, not by import: the build environment has no newservice installed.
    path = Path(__file__).resolve().parent / "cli" / "newservice" / "template_layout.py"
    spec = importlib.util.spec_from_file_location("_newservice_template_layout", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_LAYOUT = _template_layout()
TEMPLATE_PATHS: tuple[str, ...] = _LAYOUT.TEMPLATE_PATHS
BUILD_REFS: str = _LAYOUT.BUILD_REFS
SDIST_BUNDLE: str = _LAYOUT.BUNDLE_NAME
WHEEL_BUNDLE = f"newservice/{SDIST_BUNDLE}"


class TemplateHistoryHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        root = Path(self.root)
        self._scratch = Path(tempfile.mkdtemp(prefix="newservice-build-"))
        bundle = self._scratch / "template.bundle"
        if is_repository_root(root):
            for note in make_bundle(root, bundle, self.metadata.version):
                self.app.display_warning(f"newservice template history: {note}")
        elif (root / SDIST_BUNDLE).is_file():
            shutil.copyfile(root / SDIST_BUNDLE, bundle)
        else:
            message = (
                f"{root} is neither a git repository nor an sdist holding {SDIST_BUNDLE}:"
                " the template's history cannot be shipped; build from a git clone"
            )
            raise RuntimeError(message)
        target = SDIST_BUNDLE if self.target_name == "sdist" else WHEEL_BUNDLE
        build_data["force_include"][str(bundle)] = target

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def git(*args: str, cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if check and result.returncode != 0:
        message = f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}"
        raise RuntimeError(message)
    return result.stdout.strip()


def is_repository_root(folder: Path) -> bool:
    if shutil.which("git") is None:
        return False
    top = git("rev-parse", "--show-toplevel", cwd=folder, check=False)
    return bool(top) and Path(top).resolve() == folder.resolve()


def make_bundle(root: Path, bundle: Path, version: str) -> list[str]:
    """Write the template history of the repository at `root` to `bundle`; return notes."""
    notes = []
    head = git("rev-parse", "--verify", "HEAD^{commit}", cwd=root)
    shallow = git("rev-parse", "--is-shallow-repository", cwd=root) == "true"
    dirty = bool(
        git("status", "--porcelain", "--untracked-files=all", "--", *TEMPLATE_PATHS, cwd=root)
    )
    objects = Path(root, git("rev-parse", "--git-path", "objects", cwd=root)).resolve()
    with tempfile.TemporaryDirectory(prefix="newservice-history-") as scratch:
        repo = Path(scratch) / "history.git"
        git("init", "--bare", "--quiet", str(repo), cwd=root)
        (repo / "objects" / "info" / "alternates").write_text(f"{objects}\n", encoding="utf-8")
        into = {"GIT_DIR": str(repo)}
        if not shallow:
            tags = git(
                "for-each-ref", "--format=%(objectname) %(refname)", "refs/tags/v*", cwd=root
            )
            for line in tags.splitlines():
                target, ref = line.split(" ", 1)
                git("update-ref", ref, target, cwd=root, env=into)
        build = head
        if dirty or shallow:
            why = "uncommitted changes" if dirty else "a shallow clone"
            message = f"newservice {version}: the template as built, from {why}"
            build = _snapshot(root, repo, head, parent=None if shallow else head, message=message)
        if shallow:
            notes.append(
                "this clone is shallow, so the bundle holds one snapshot commit and no tags;"
                " build releases from a full clone with tags (git fetch --unshallow --tags)"
            )
        if dirty:
            notes.append(
                f"the template has uncommitted changes; this build renders snapshot commit"
                f" {build[:12]} of them. Release from a clean checkout"
            )
        tagged = git("tag", "--points-at", build, "--list", "v*", cwd=root, env=into).split()
        if f"v{version}" not in tagged and not shallow:
            notes.append(
                f"commit {build[:12]} is not tagged v{version}: projects will record it as a"
                " development build (tag the release commit before building a release)"
            )
        git("update-ref", f"{BUILD_REFS}{build}", build, cwd=root, env=into)
        git("symbolic-ref", "HEAD", f"{BUILD_REFS}{build}", cwd=root, env=into)
        git("bundle", "create", "--quiet", str(bundle), "--all", cwd=root, env=into)
    return notes


def _snapshot(root: Path, repo: Path, head: str, *, parent: str | None, message: str) -> str:
    """A commit of HEAD's tree with the work tree's template files; deterministic."""
    date = git("log", "-1", "--format=%cI", head, cwd=root)
    env = {
        "GIT_DIR": str(repo),
        "GIT_WORK_TREE": str(root),
        "GIT_INDEX_FILE": str(repo / "snapshot-index"),
        "GIT_AUTHOR_NAME": "newservice build",
        "GIT_AUTHOR_EMAIL": "build@newservice.invalid",
        "GIT_COMMITTER_NAME": "newservice build",
        "GIT_COMMITTER_EMAIL": "build@newservice.invalid",
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
    }
    git("read-tree", head, cwd=root, env=env)
    git("add", "--all", "--", *TEMPLATE_PATHS, cwd=root, env=env)
    tree = git("write-tree", cwd=root, env=env)
    parents = ["-p", parent] if parent else []
    return git("commit-tree", tree, *parents, "-m", message, cwd=root, env=env)
