"""Where the template that `newservice create` renders comes from, and which commit of it.

- `--template SRC`: any Copier template. A git source renders its latest
  release tag (Copier's default) or `--vcs-ref`; a plain folder renders as is
  and gives projects that cannot be updated.
- An installed newservice: its template history, installed in the per-user
  store (history.py), at the commit the wheel was built from.
- A development checkout (an editable install): the repository itself,
  uncommitted edits included. Copier renders those through a throwaway commit
  that exists nowhere else, so create.py then drops `_commit` from the answers.

Every git source is given to Copier as an exact commit, never as "HEAD" of a
repository with uncommitted changes, except the development checkout's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from newservice import gitops, version
from newservice.answers import Questions, parse_questions, read_questions
from newservice.errors import NewserviceError, UsageError
from newservice.history import STORE_URL, install_packaged
from newservice.revisions import Revisions, local_location, looks_remote, open_revisions
from newservice.template_layout import BUNDLE_NAME

_PACKAGE = Path(__file__).resolve().parent
CHECKOUT = _PACKAGE.parents[1]
_CONFIG_NAMES = ("copier.yml", "copier.yaml")


@dataclass(frozen=True)
class TemplateSource:
    url: str
    """What Copier is given as the template (`src_path`), and records as `_src_path`."""
    ref: str | None
    """The commit Copier renders; "HEAD" for a development checkout; None for a plain folder."""
    questions: Questions
    working_tree: bool = False
    """Uncommitted edits are rendered too (a development checkout)."""


def locate_template(*, template: str | None = None, vcs_ref: str | None = None) -> TemplateSource:
    if template is not None:
        return _given(template, vcs_ref)
    build = install_packaged()
    if build is not None:
        return _from_git(STORE_URL, vcs_ref, build=build)
    if any((CHECKOUT / name).is_file() for name in _CONFIG_NAMES):
        if vcs_ref is not None:
            return _from_git(str(CHECKOUT), vcs_ref)
        return TemplateSource(
            str(CHECKOUT), "HEAD", read_questions(CHECKOUT / "copier.yml"), working_tree=True
        )
    raise NewserviceError(
        f"the newservice template is missing: {_PACKAGE} holds no {BUNDLE_NAME} and"
        f" {CHECKOUT} no copier.yml; reinstall newservice"
    )


def default_commit(revisions: Revisions, build: str | None) -> str:
    """The commit a source renders when no --vcs-ref is given; create and update agree.

    newservice's own history: the commit this newservice was built from (or, in
    a development checkout, the tag of its version). Any other source: its
    latest release tag, as Copier chooses, else its HEAD.
    """
    candidates = []
    if revisions.url == STORE_URL:
        candidates += [build, f"v{version()}"]
    candidates += [revisions.latest_tag(), "HEAD"]
    for candidate in candidates:
        commit = revisions.resolve(candidate) if candidate else None
        if commit is not None:
            return commit
    raise NewserviceError(f"the template {revisions.url} has no commits")


def read_questions_at(revisions: Revisions, commit: str) -> Questions:
    for name in _CONFIG_NAMES:
        text = revisions.read(commit, name)
        if text is not None:
            return parse_questions(text, f"{revisions.url} at {revisions.describe(commit)}")
    raise NewserviceError(
        f"{revisions.url} at {revisions.describe(commit)} has no copier.yml: not a Copier template"
    )


def resolve_vcs_ref(revisions: Revisions, vcs_ref: str) -> str:
    commit = revisions.resolve(vcs_ref)
    if commit is None:
        raise UsageError(f"--vcs-ref {vcs_ref}: no such tag, branch or commit in {revisions.url}")
    return commit


def _from_git(url: str, vcs_ref: str | None, *, build: str | None = None) -> TemplateSource:
    with open_revisions(url) as revisions:
        if vcs_ref is not None:
            commit = resolve_vcs_ref(revisions, vcs_ref)
        else:
            commit = default_commit(revisions, build)
        return TemplateSource(url, commit, read_questions_at(revisions, commit))


def _given(template: str, vcs_ref: str | None) -> TemplateSource:
    if not template.strip():
        raise UsageError("--template: give a template folder, git repository, bundle or URL")
    if looks_remote(template):
        return _from_git(template, vcs_ref)
    location = Path(local_location(template))
    if not location.exists():
        raise UsageError(f"--template {template}: no such folder, git repository or bundle")
    # A path is recorded absolute, so an update finds it from any folder; one
    # given with `~/` keeps it, so it works in every home folder.
    url = template if template.startswith("~") else str(location.resolve())
    if location.is_dir() and not _is_repository_root(location):
        if vcs_ref is not None:
            raise UsageError(f"--vcs-ref: {template} is a plain folder, not a git repository")
        config = next((location / n for n in _CONFIG_NAMES if (location / n).is_file()), None)
        if config is None:
            raise UsageError(f"--template {template}: no copier.yml there; not a Copier template")
        return TemplateSource(url, None, read_questions(config))
    return _from_git(url, vcs_ref)


def _is_repository_root(folder: Path) -> bool:
    top = gitops.toplevel(folder) if gitops.git_executable() else None
    return top is not None and top.resolve() == folder.resolve()
