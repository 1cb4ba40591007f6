"""A git template source's tags, commits and files, read from a temporary mirror clone.

Copier needs the same facts (which tag is the latest, what `_commit` names, how
two commits compare as versions) but only deep inside an update; reading them
first lets newservice refuse a bad update in one line before Copier writes
anything. Versions are derived the way Copier derives them: from the nearest
PEP 440 tag, with the distance to it as a post-release.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from packaging.version import InvalidVersion, Version

from newservice import gitops
from newservice.errors import NewserviceError

_SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}


def local_location(url: str) -> str:
    """What git is given for a source recorded as `url`, read the way Copier reads it.

    `~` is expanded; Copier's `gh:`/`gl:` shortcuts and `git+` prefix are spelled out.
    """
    if url.startswith("~"):
        return str(Path(url).expanduser())
    for shortcut, host in _SHORTCUTS.items():
        if url.startswith(shortcut):
            path = url.removeprefix(shortcut).lstrip("/")
            return host + (path if path.endswith(".git") else f"{path}.git")
    return url.removeprefix("git+")


def looks_remote(url: str) -> bool:
    return "://" in url or url.startswith(("git@", "git+", *_SHORTCUTS))


class Revisions:
    def __init__(self, git_dir: Path, url: str) -> None:
        self.git_dir = git_dir
        self.url = url

    def _git(self, *args: str) -> str:
        return gitops.output(args, git_dir=self.git_dir, what=f"reading the history of {self.url}")

    def resolve(self, ref: str) -> str | None:
        """The commit a tag, branch, commit id or `git describe` string names, or None."""
        if not ref or ref.startswith("-") or "\n" in ref:
            return None
        result = gitops.run(
            ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], git_dir=self.git_dir
        )
        if result.returncode != 0:
            return None
        return result.stdout.strip()

    def describe(self, commit: str) -> str:
        """The commit as Copier records it in `_commit`."""
        return self._git("describe", "--tags", "--always", commit)

    def version(self, commit: str) -> Version:
        return version_of(self.git_dir, commit)

    def latest_tag(self) -> str | None:
        """The highest PEP 440 tag that is not a pre-release: what Copier updates to by default."""
        best: tuple[Version, str] | None = None
        for tag in self._git("for-each-ref", "--format=%(refname:strip=2)", "refs/tags").split():
            try:
                parsed = Version(tag)
            except InvalidVersion:
                continue
            if not parsed.is_prerelease and (best is None or parsed > best[0]):
                best = (parsed, tag)
        return best[1] if best else None

    def read(self, commit: str, path: str) -> str | None:
        result = gitops.run(["show", f"{commit}:{path}"], git_dir=self.git_dir)
        return result.stdout if result.returncode == 0 else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        result = gitops.run(["merge-base", "--is-ancestor", older, newer], git_dir=self.git_dir)
        return result.returncode == 0


@contextmanager
def open_revisions(url: str) -> Iterator[Revisions]:
    """The history of the git template source `url` (a repository, bundle or remote URL)."""
    with tempfile.TemporaryDirectory(prefix="newservice-history-") as scratch:
        mirror = Path(scratch) / "history.git"
        result = gitops.run(
            ["clone", "--mirror", "--quiet", "--", local_location(url), str(mirror)]
        )
        if result.returncode != 0:
            raise NewserviceError(
                f"cannot read the template's history from {url}: {gitops.last_line(result)}"
            )
        yield Revisions(mirror, url)


_DESCRIBED = re.compile(r"(?P<tag>.+)-(?P<distance>\d+)-g(?P<hash>[0-9a-f]+)")


def version_of(git_dir: Path, commit: str) -> Version:
    """The PEP 440 version of `commit`: its tag, or the nearest tag's post-release.

    Commits before any tag count as 0.0.0, like Copier's (dunamai's) reading.
    """
    described = gitops.run(
        ["describe", "--tags", "--long", "--match", "v[0-9]*", "--match", "[0-9]*", commit],
        git_dir=git_dir,
    )
    match = _DESCRIBED.fullmatch(described.stdout.strip()) if described.returncode == 0 else None
    if match is not None:
        try:
            base = Version(match["tag"])
        except InvalidVersion:
            match = None
    if match is None:
        count = gitops.output(["rev-list", "--count", commit], git_dir=git_dir, what="git rev-list")
        short = gitops.output(
            ["rev-parse", "--short", commit], git_dir=git_dir, what="git rev-parse"
        )
        return Version(f"0.0.0.post{count}.dev0+{short}")
    distance = int(match["distance"])
    if distance == 0:
        return base
    try:
        return Version(f"{base.public}.post{distance}.dev0+{match['hash']}")
    except InvalidVersion:
        return base


def is_newer(version: Version, than: Version) -> bool:
    """Whether `version` is a later release than `than`; builds of one release are equal."""
    return Version(version.public) > Version(than.public)
