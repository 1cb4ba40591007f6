"""`newservice update` and `check-update`: from the template commit a project records to ours.

Everything that would make an update fail halfway, or do harm, is refused in
one line before Copier writes anything: a folder that is not a generated
project, a work tree with uncommitted changes (an update must be reviewable
with `git diff` and undoable with git), and a project made by a newer
newservice (its commit may not exist here, and Copier cannot downgrade).

Then Copier's own update runs. It renders the template at the project's
recorded commit and at the new one, both with the project's answers, and
applies the difference to the project as a three-way merge: the user's edits
stay, and only lines that both the user and the template changed conflict.
"""

from __future__ import annotations

import tempfile
import tomllib
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from newservice import answers_file, gitops, version
from newservice.answers import Answers, Questions, collect
from newservice.answers_file import ANSWERS_FILE
from newservice.errors import NewserviceError, UsageError, Warn, copier_errors
from newservice.history import STORE_URL, install_packaged, store_path
from newservice.locking import LOCK_FILE, LockOutcome, lock
from newservice.project_facts import RESOURCE_ANSWERS_GLOB
from newservice.revisions import Revisions, is_newer, open_revisions
from newservice.template_source import default_commit, read_questions_at, resolve_vcs_ref

ConflictStyle = Literal["inline", "rej"]

# Conflicted index entries, as `git status` shows them.
_UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


@dataclass(frozen=True)
class UpdateOptions:
    path: Path
    data_items: Sequence[str] = ()
    vcs_ref: str | None = None
    conflict: ConflictStyle = "inline"
    pretend: bool = False
    trust: bool = False


@dataclass(frozen=True)
class Change:
    kind: str
    """modified, added, deleted, or conflict (unmerged in git's index)."""
    path: str
    """Relative to the project."""


@dataclass(frozen=True)
class Updated:
    project: Path
    old: str
    """The template commit the project was at, as `_commit` recorded it."""
    new: str
    changes: tuple[Change, ...]
    conflicts: tuple[str, ...]
    """Files holding conflict markers (inline), or the .rej files (rej); relative paths."""
    conflict_style: ConflictStyle
    answers: tuple[tuple[str, Any, Any], ...]
    """(question, old answer, new answer) for each answer that changed."""
    pretend: bool
    lock: LockOutcome | None = None
    """uv.lock re-locked, or why not; None when nothing asked for it."""


@dataclass(frozen=True)
class Check:
    project: Path
    old: str
    new: str
    source: str
    available: bool
    resources_behind: int = 0
    """Resources (`newservice add resource`) whose answers record an older commit."""


@dataclass(frozen=True)
class _Project:
    root: Path
    src: str
    commit: str
    answers: dict[str, Any]

    @property
    def builtin(self) -> bool:
        return self.src == STORE_URL


@dataclass(frozen=True)
class _Plan:
    old: str
    new: str
    target: str
    """The full id of the commit to update to; Copier is given exactly this."""
    questions: Questions
    current: bool


def check(path: Path) -> Check:
    project = _read_project(path)
    with _history(project) as (revisions, build):
        plan = _plan(project, revisions, build, vcs_ref=None)
        behind = sum(
            revisions.resolve(str(answers_file.load_file(resource).get("_commit"))) != plan.target
            for resource in _resources(project.root)
        )
    return Check(
        project.root,
        plan.old,
        plan.new,
        project.src,
        available=not plan.current or behind > 0,
        resources_behind=behind,
    )


def _require_updatable_resources(root: Path) -> None:
    for resource in _resources(root):
        if not answers_file.load_file(resource).get("_commit"):
            raise NewserviceError(
                f"{resource.name} records no template commit (the resource was rendered from"
                " uncommitted template edits), so it cannot be updated; delete that file to"
                " leave the resource out of updates, then commit"
            )


def _resources(root: Path) -> list[Path]:
    """The answers files of the resources added to the project, in name order."""
    return sorted(root.glob(RESOURCE_ANSWERS_GLOB))


def update(options: UpdateOptions, warn: Warn) -> Updated:
    project = _read_project(options.path)
    _require_clean_work_tree(project.root)
    with _history(project) as (revisions, build):
        plan = _plan(project, revisions, build, options.vcs_ref)
    answers = collect(
        flags={}, data_items=options.data_items, data_file=None, questions=plan.questions
    )
    _keep_behaviour_of_older_projects(project, plan.questions, answers)
    _require_updatable_resources(project.root)
    if not options.pretend:
        declared = _declared_dependencies(project.root)
        _run_copier(project.root, plan, answers, options, warn=warn, source=project.src)
        relocked = _relock(project.root, declared)
        return replace(_outcome(project, project.root, plan, options), lock=relocked)
    # Copier's own --pretend still applies part of an update to the work tree;
    # a throwaway clone of the last commit (the work tree is clean) is safe.
    with tempfile.TemporaryDirectory(prefix="newservice-pretend-") as scratch:
        copy = _clone(project.root, Path(scratch))
        _run_copier(copy, plan, answers, options, warn=warn, source=project.src)
        return _outcome(project, copy, plan, options)


def _declared_dependencies(root: Path) -> object:
    """What uv.lock is resolved from: the dependency tables of pyproject.toml (None when it
    does not parse, e.g. with conflict markers)."""
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project", {})
    return (
        project.get("requires-python"),
        project.get("dependencies"),
        project.get("optional-dependencies"),
        data.get("dependency-groups"),
    )


def _relock(root: Path, declared_before: object) -> LockOutcome | None:
    """Re-lock a locked project whose declared dependencies the update changed."""
    if not (root / LOCK_FILE).exists():
        return None
    declared = _declared_dependencies(root)
    if declared == declared_before:
        return None
    if declared is None:
        return LockOutcome(
            False,
            "not re-locked: pyproject.toml does not parse (conflicts?); run `uv lock` once it does",
        )
    return lock(root)


# Questions added after projects already existed, with the answer that keeps such a
# project behaving as before; a new project gets the question's own default. Copier
# cannot tell an update from a copy inside a default, so the update supplies it.
_ANSWER_OF_OLDER_PROJECTS = {"auth": "none"}


def _keep_behaviour_of_older_projects(
    project: _Project, questions: Questions, answers: Answers
) -> None:
    for key, value in _ANSWER_OF_OLDER_PROJECTS.items():
        if key in questions.askable and key not in project.answers and key not in answers.data:
            answers.give(key, value, f"the project predates the '{key}' question")


def _read_project(path: Path) -> _Project:
    root = path.expanduser().resolve()
    if not root.is_dir():
        raise UsageError(f"{path} is not a folder")
    recorded_in = root / ANSWERS_FILE
    if not recorded_in.is_file():
        raise UsageError(
            f"{root} is not a project generated by newservice: it has no {ANSWERS_FILE}"
        )
    answers = answers_file.load(root)
    src = answers.get("_src_path")
    if not isinstance(src, str) or not src:
        raise NewserviceError(f"{recorded_in} records no template source (_src_path)")
    commit = answers.get("_commit")
    if not isinstance(commit, str) or not commit:
        raise NewserviceError(
            f"{recorded_in} records no template commit (_commit): the project was made from"
            " uncommitted template changes or from a plain folder, so there is nothing to"
            " update from"
        )
    return _Project(root, src, commit, answers)


def _require_clean_work_tree(root: Path) -> None:
    gitops.require_git("updating a project")
    if gitops.toplevel(root) is None:
        raise NewserviceError(
            f"{root} is not in a git repository; an update needs one so that it can be"
            " reviewed and undone: commit the project first (git init && git add -A &&"
            " git commit -m 'Generated project')"
        )
    dirty = gitops.status(root)
    if dirty:
        first = _relative(dirty[0][1], root)
        raise NewserviceError(
            f"{root} has uncommitted changes ({len(dirty)} paths, such as {first}); commit or"
            " stash them first, so that the update can be reviewed and undone"
        )


@contextmanager
def _history(project: _Project) -> Iterator[tuple[Revisions, str | None]]:
    """The history of the project's template, with this newservice's commit in it."""
    build = install_packaged() if project.builtin else None
    if project.builtin and build is None and not store_path().exists():
        raise NewserviceError(
            f"{project.root} was made by an installed newservice, whose template history"
            f" lives in {STORE_URL}; there is none on this machine, and this newservice (a"
            " development checkout) has none to install: install newservice from a wheel"
        )
    with open_revisions(project.src) as revisions:
        yield revisions, build


def _plan(project: _Project, revisions: Revisions, build: str | None, vcs_ref: str | None) -> _Plan:
    if vcs_ref is not None:
        target = resolve_vcs_ref(revisions, vcs_ref)
    else:
        target = default_commit(revisions, build)
    new = revisions.describe(target)
    if project.builtin and vcs_ref is None:
        ours = f"the template of this newservice ({version()}) is {new}"
        advice = "upgrade newservice"
    else:
        ours = f"the template to update to is {new} (from {project.src})"
        advice = "Copier cannot take a project back to an older template"
    start = revisions.resolve(project.commit)
    if start is None:
        raise NewserviceError(
            f"the project is at template {project.commit}, which is not in the history of"
            f" {project.src}: it was made by a newer or a different newservice; {ours};"
            f" {advice}"
        )
    if start != target and (
        revisions.is_ancestor(target, start)
        or is_newer(revisions.version(start), revisions.version(target))
    ):
        raise NewserviceError(
            f"the project is at template {project.commit}, newer than this one: {ours}; {advice}"
        )
    return _Plan(project.commit, new, target, read_questions_at(revisions, target), start == target)


def _run_copier(
    root: Path, plan: _Plan, answers: Answers, options: UpdateOptions, *, warn: Warn, source: str
) -> None:
    """Update the project, then each of its resources: each has its own answers file, and
    the resources are given the project's answers as they now are."""
    resources = _resources(root)
    if not resources:
        _run_update(root, plan, answers.data, answers, options, warn=warn, source=source)
        return
    with gitops.steps_then_uncommitted(root) as checkpoint:
        _run_update(root, plan, answers.data, answers, options, warn=warn, source=source)
        project_answers = {
            key: value
            for key, value in answers_file.load(root).items()
            if key in plan.questions.askable and not key.startswith("resource_")
        }
        for resource in resources:
            checkpoint()
            _run_update(
                root,
                plan,
                project_answers,
                answers,
                options,
                warn=warn,
                source=source,
                answers_name=resource.name,
            )


def _run_update(
    root: Path,
    plan: _Plan,
    data: Mapping[str, Any],
    answers: Answers,
    options: UpdateOptions,
    *,
    warn: Warn,
    source: str,
    answers_name: str | None = None,
) -> None:
    from copier import run_update  # noqa: PLC0415 - keeps `--help` from importing Copier

    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *_args, **_kwargs: warn(str(message))
        with copier_errors(
            origins=answers.origins,
            source=source,
            failed="the update failed",
            hint=_undo_hint(root),
        ):
            run_update(
                root,
                data=dict(data),
                answers_file=answers_name,
                vcs_ref=plan.target,
                defaults=True,
                overwrite=True,
                quiet=True,
                conflict=options.conflict,
                unsafe=options.trust,
            )


def _undo_hint(root: Path) -> str:
    try:
        touched = bool(gitops.status(root))
    except NewserviceError:
        return ""
    if not touched:
        return ""
    return (
        f"; {root} may be partly updated: `git reset --hard && git clean -fd` there"
        " restores your last commit"
    )


def _clone(root: Path, scratch: Path) -> Path:
    top = gitops.toplevel(root)
    if top is None:
        raise NewserviceError(f"{root} is not in a git repository")
    clone = scratch / "project"
    gitops.output(
        ["clone", "--quiet", "--", str(top), str(clone)],
        what="cannot copy the project for --pretend",
    )
    return clone / _relative(root, top)


def _outcome(project: _Project, where: Path, plan: _Plan, options: UpdateOptions) -> Updated:
    changes = []
    for code, path in gitops.status(where):
        relative = _relative(path, where)
        if not relative.endswith(".rej"):
            changes.append(Change(_kind(code), relative))
    if options.conflict == "inline":
        conflicts = [
            change.path
            for change in changes
            if change.kind == "conflict" or _has_markers(where / change.path)
        ]
    else:
        # A project may ignore *.rej; ask for ignored files too, but only those.
        conflicts = sorted(
            _relative(path, where)
            for _code, path in gitops.status(where, "*.rej", ignored=True)
            if path.name.endswith(".rej")
        )
    new_answers = answers_file.load(where)
    keys = [key for key in {**project.answers, **new_answers} if not key.startswith("_")]
    answers = tuple(
        (key, project.answers.get(key), new_answers.get(key))
        for key in keys
        if project.answers.get(key) != new_answers.get(key)
    )
    return Updated(
        project=project.root,
        old=plan.old,
        new=plan.new,
        changes=tuple(changes),
        conflicts=tuple(conflicts),
        conflict_style=options.conflict,
        answers=answers,
        pretend=options.pretend,
    )


def _kind(code: str) -> str:
    if code in _UNMERGED:
        return "conflict"
    if code == "??" or code[0] == "A":
        return "added"
    if "D" in code:
        return "deleted"
    return "modified"


def _has_markers(path: Path) -> bool:
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return False
    return any(line.startswith(b"<<<<<<< ") for line in lines) and any(
        line.startswith(b">>>>>>> ") for line in lines
    )


def _relative(path: Path, folder: Path) -> str:
    return path.resolve().relative_to(folder.resolve()).as_posix()
