"""`newservice create`: answers, then Copier, then git, then the project in place, or nothing.

The project is rendered into a hidden staging folder beside DEST (same parent,
so moving it into place is a rename) and is moved only once rendering and git
have succeeded. Any failure, Ctrl-C included, removes the staging folder.

`.copier-answers.yml` names the template (`_src_path`) and the commit rendered
(`_commit`), which `newservice update` starts from. A commit Copier made up for
uncommitted template edits is never left there.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from newservice import answers_file, gitops, version
from newservice.answers import Answers, Questions, collect
from newservice.errors import NewserviceError, UsageError, Warn, copier_errors
from newservice.template_source import TemplateSource, locate_template


@dataclass(frozen=True)
class CreateOptions:
    dest: Path | None
    flags: Mapping[str, str | None] = field(default_factory=dict)
    """Answers given by dedicated flags, by question name; None when not given."""
    data_items: Sequence[str] = ()
    data_file: Path | None = None
    defaults: bool = False
    interactive: bool = False
    """Whether questions can be asked: standard input is a terminal."""
    pretend: bool = False
    git: bool = True
    quiet: bool = False
    force: bool = False
    template: str | None = None
    """--template: another template source than newservice's own."""
    vcs_ref: str | None = None
    trust: bool = False
    """--trust: let the template run code (Copier tasks, extensions, migrations)."""


class GitOutcome(Enum):
    COMMITTED = "initialised, with one commit of the generated files"
    DISABLED = "skipped (--no-git)"
    INSIDE_REPOSITORY = "skipped: the project is inside an existing git work tree"
    UNAVAILABLE = "skipped: git is not installed"
    PRETEND = "skipped (--pretend)"


@dataclass(frozen=True)
class Created:
    dest: Path
    answers: Mapping[str, Any]
    """The project's answers, derived ones included, in copier.yml's order."""
    git: GitOutcome
    template: str = ""
    """Where updates will come from: the recorded commit and source, or why there are none."""


@dataclass(frozen=True)
class _Rendered:
    values: dict[str, Any]
    drafted: bool
    """Copier rendered uncommitted template edits through a throwaway commit."""


def create(options: CreateOptions, warn: Warn) -> Created:
    source = locate_template(template=options.template, vcs_ref=options.vcs_ref)
    questions = source.questions
    trust = options.trust
    answers = collect(
        flags=options.flags,
        data_items=options.data_items,
        data_file=options.data_file,
        questions=questions,
    )
    ask = not options.defaults
    if ask and not options.interactive:
        raise UsageError(
            "standard input is not a terminal, so no questions can be asked;"
            " pass --defaults (-y) and give answers as flags (--name, --db, --worker, ...)"
        )
    if options.dest is not None:
        dest = options.dest.expanduser().resolve()
    else:
        dest = _destination_from_name(source, answers, questions, warn)
    _check_destination(dest, force=options.force)

    if "project_name" not in answers.data:
        answers.origins["project_name"] = (
            f"DEST {dest.name!r} (the default project name; --name sets another)"
        )
        if not ask:
            # Copier would take the same default; giving it as data makes Copier
            # validate it before anything is rendered.
            answers.data["project_name"] = dest.name
    if ask:
        # Refuse a bad flag (or a DEST that makes a bad default name) before the
        # user has answered any question.
        with tempfile.TemporaryDirectory(prefix="newservice-check-") as scratch:
            _render(
                source, Path(scratch) / dest.name, answers, questions, warn,
                check_only=True, trust=trust,
            )  # fmt: skip

    if options.pretend:
        with tempfile.TemporaryDirectory(prefix="newservice-pretend-") as scratch:
            rendered = _render(
                source,
                Path(scratch) / dest.name,
                answers,
                questions,
                warn,
                ask=ask,
                pretend=True,
                quiet=options.quiet,
                trust=trust,
            )
        return Created(dest, rendered.values, GitOutcome.PRETEND)

    with _staging_beside(dest) as staging:
        built = staging / dest.name
        rendered = _render(
            source, built, answers, questions, warn, ask=ask, quiet=options.quiet, trust=trust
        )
        if rendered.drafted:
            # That commit exists nowhere: an update from it would fail, or worse, diff
            # against the wrong files. Without `_commit`, Copier and newservice refuse
            # to update the project and say why.
            answers_file.forget_commit(built)
        updates, why_not = _updates_from(source, built, drafted=rendered.drafted)
        if why_not is not None and not options.quiet:
            warn(f"this project cannot be updated: {why_not}")
        outcome = _initialise_git(built, dest, rendered.values, options, warn)
        _move_into_place(built, dest)
    return Created(dest, rendered.values, outcome, updates)


def _updates_from(
    source: TemplateSource, project: Path, *, drafted: bool
) -> tuple[str, str | None]:
    """The summary's line on updates, and why the project cannot be updated, if it cannot."""
    if drafted:
        return "none: no template commit recorded", (
            f"the template in {source.url} has uncommitted changes, so no template commit is"
            " recorded; commit them and create the project again to make it updatable"
        )
    if source.ref is None:
        return "none: no template commit recorded", (
            f"{source.url} is not a git repository, so no template commit is recorded"
        )
    commit = answers_file.recorded_commit(project)
    return (f"from {source.url}, now at {commit}" if commit else f"from {source.url}"), None


def _destination_from_name(
    source: TemplateSource, answers: Answers, questions: Questions, warn: Warn
) -> Path:
    if "project_name" not in answers.data:
        raise UsageError(
            "give the folder to create (newservice create my-service)"
            " or --name to create it under the current folder"
        )
    # The folder is the project's slug, which copier.yml derives from the name.
    with tempfile.TemporaryDirectory(prefix="newservice-check-") as scratch:
        values = _render(
            source, Path(scratch) / "project", answers, questions, warn, check_only=True
        ).values
    slug = values.get("project_slug")
    if not isinstance(slug, str) or not slug:
        raise NewserviceError("the template derives no folder name from --name; give DEST")
    return Path.cwd() / slug


def _check_destination(dest: Path, *, force: bool) -> None:
    if not dest.name:
        raise UsageError(f"DEST {str(dest)!r} names no folder to create")
    try:
        if dest.exists() or dest.is_symlink():
            if not dest.is_dir():
                raise UsageError(f"{dest} exists and is not a folder")
            if not force and any(dest.iterdir()):
                raise UsageError(
                    f"{dest} already exists and is not empty; choose a new folder, or pass"
                    " --force to write the project into it (other files are kept)"
                )
            return
        ancestor = dest.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
    except OSError as error:
        raise NewserviceError(f"cannot use {dest}: {error.strerror}") from error
    if not ancestor.is_dir():
        raise NewserviceError(f"cannot create {dest}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise NewserviceError(f"cannot create {dest}: {ancestor} is not writable")


def _render(
    source: TemplateSource,
    target: Path,
    answers: Answers,
    questions: Questions,
    warn: Warn,
    *,
    check_only: bool = False,
    ask: bool = False,
    pretend: bool = False,
    quiet: bool = False,
    trust: bool = False,
) -> _Rendered:
    """Run Copier; return the answers it settled on. `check_only` validates and renders nothing."""
    from copier import run_copy  # noqa: PLC0415 - keeps `--help` from importing Copier
    from copier.errors import DirtyLocalWarning  # noqa: PLC0415

    drafted = False

    def show(message: Warning | str, category: type[Warning], *_args: Any, **_kwargs: Any) -> None:
        nonlocal drafted
        if issubclass(category, DirtyLocalWarning):
            # Copier committed the checkout's uncommitted edits in its clone.
            drafted = True
        else:
            warn(str(message))

    with warnings.catch_warnings():
        warnings.simplefilter("always", DirtyLocalWarning)
        warnings.showwarning = show
        with copier_errors(
            origins=answers.origins, source=source.url, failed="the project could not be rendered"
        ):
            worker = run_copy(
                source.url,
                target,
                data=dict(answers.data),
                vcs_ref=source.ref,
                defaults=check_only or not ask,
                pretend=pretend or check_only,
                quiet=quiet or check_only,
                # Validating the answers needs no file rendered.
                exclude=("*",) if check_only else (),
                unsafe=trust,
                # The staging folder is ours to remove.
                cleanup_on_error=False,
            )
    combined = worker.answers.combined
    # A question skipped by its `when` (the broker without Celery) has no answer.
    skipped = set(worker.answers.hidden) - questions.derived
    values = {
        name: combined[name] for name in questions.names if name in combined and name not in skipped
    }
    return _Rendered(values, drafted)


@contextmanager
def _staging_beside(dest: Path) -> Iterator[Path]:
    made = _make_parents(dest.parent)
    staging: Path | None = None
    finished = False
    try:
        for _attempt in range(10):
            # Named before it exists, so that a Ctrl-C at any point between its
            # creation and the `yield` still finds it in `finally` below.
            staging = dest.parent / f".{dest.name}-{secrets.token_hex(4)}.partial"
            try:
                staging.mkdir(mode=0o700)
                break
            except FileExistsError:
                staging = None  # another's: never remove it
                continue
            except OSError as error:
                staging = None
                raise NewserviceError(f"cannot write in {dest.parent}: {error.strerror}") from error
        else:
            staging = None
            raise NewserviceError(f"cannot write in {dest.parent}: no free staging name")
        yield staging
        finished = True
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not finished:
            _remove_empty(made)


def _make_parents(folder: Path) -> list[Path]:
    """Create `folder` and its missing parents; return those created, deepest first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    made = []
    try:
        for path in reversed(missing):
            path.mkdir()
            made.append(path)
    except OSError as error:
        _remove_empty(list(reversed(made)))
        raise NewserviceError(f"cannot create {path}: {error.strerror}") from error
    return list(reversed(made))


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def _initialise_git(
    built: Path, dest: Path, values: Mapping[str, Any], options: CreateOptions, warn: Warn
) -> GitOutcome:
    if not options.git:
        return GitOutcome.DISABLED
    if gitops.git_executable() is None:
        warn("git is not installed, so the project has no repository; run `git init` later")
        return GitOutcome.UNAVAILABLE
    if gitops.inside_work_tree(dest if dest.is_dir() else dest.parent):
        return GitOutcome.INSIDE_REPOSITORY
    name = values.get("project_name", dest.name)
    gitops.initial_commit(built, f"Create {name} with newservice {version()}")
    return GitOutcome.COMMITTED


def _move_into_place(built: Path, dest: Path) -> None:
    try:
        if not dest.exists():
            built.rename(dest)
            return
        if not any(dest.iterdir()):
            # An empty DEST keeps its identity (it may be the shell's current folder);
            # on failure it is emptied again.
            try:
                _copy_over(built, dest)
            except BaseException:
                for child in dest.iterdir():
                    _remove(child)
                raise
            return
        # --force: write the generated files over DEST and keep everything else.
        _refuse_type_clashes(built, dest)
        _copy_over(built, dest)
    except OSError as error:
        raise NewserviceError(f"cannot move the project into {dest}: {error.strerror}") from error


def _copy_over(built: Path, dest: Path) -> None:
    shutil.copytree(built, dest, symlinks=True, dirs_exist_ok=True)


def _refuse_type_clashes(built: Path, dest: Path) -> None:
    for path in sorted(built.rglob("*")):
        existing = dest / path.relative_to(built)
        if existing.is_symlink() or not existing.exists():
            continue
        if existing.is_dir() != path.is_dir():
            kind = "folder" if existing.is_dir() else "file"
            raise UsageError(f"--force: {existing} is a {kind}; the template writes the other kind")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
