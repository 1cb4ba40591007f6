"""`newservice create`: answers, then Copier, then git, then the project in place, or nothing.

The project is rendered into a hidden staging folder beside DEST (same parent,
so moving it into place is a rename) and is moved only once rendering and git
have succeeded. Any failure, Ctrl-C included, removes the staging folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from newservice import gitops, version
from newservice.answers import Answers, Questions, collect, read_questions
from newservice.errors import NewserviceError, UsageError, from_copier
from newservice.template_source import TemplateSource, locate_template

Warn = Callable[[str], None]


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


def create(options: CreateOptions, warn: Warn) -> Created:
    source = locate_template()
    questions = read_questions(source.questions)
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
            _render(source, Path(scratch) / dest.name, answers, questions, warn, check_only=True)

    if options.pretend:
        with tempfile.TemporaryDirectory(prefix="newservice-pretend-") as scratch:
            values = _render(
                source,
                Path(scratch) / dest.name,
                answers,
                questions,
                warn,
                ask=ask,
                pretend=True,
                quiet=options.quiet,
            )
        return Created(dest, values, GitOutcome.PRETEND)

    with _staging_beside(dest) as staging:
        built = staging / dest.name
        values = _render(source, built, answers, questions, warn, ask=ask, quiet=options.quiet)
        outcome = _initialise_git(built, dest, values, options, warn)
        _move_into_place(built, dest)
    return Created(dest, values, outcome)


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
        )
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
) -> dict[str, Any]:
    """Run Copier; return the answers it settled on. `check_only` validates and renders nothing."""
    from copier import run_copy  # noqa: PLC0415 - keeps `--help` from importing Copier
    from copier.errors import CopierError, DirtyLocalWarning  # noqa: PLC0415
    from jinja2 import TemplateError  # noqa: PLC0415

    with warnings.catch_warnings():
        # A development checkout's template is always being edited: not worth a warning.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        warnings.showwarning = lambda message, *_args, **_kwargs: warn(str(message))
        try:
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
                unsafe=False,
                # The staging folder is ours to remove.
                cleanup_on_error=False,
            )
        except KeyboardInterrupt:
            # Copier's interrupt at a prompt is also a CopierError: keep it an interrupt.
            raise
        except (ValueError, CopierError) as error:
            usage = from_copier(error, answers.origins)
            if usage is not None:
                raise usage from error
            raise NewserviceError(f"the template could not be rendered: {error}") from error
        except TemplateError as error:
            raise NewserviceError(f"the template could not be rendered: {error}") from error
        except OSError as error:
            where = f": {error.filename}" if error.filename else ""
            raise NewserviceError(f"cannot write the project: {error.strerror}{where}") from error
    combined = worker.answers.combined
    # A question skipped by its `when` (the broker without Celery) has no answer.
    skipped = set(worker.answers.hidden) - questions.derived
    return {
        name: combined[name] for name in questions.names if name in combined and name not in skipped
    }


@contextmanager
def _staging_beside(dest: Path) -> Iterator[Path]:
    made = _make_parents(dest.parent)
    staging: Path | None = None
    finished = False
    try:
        try:
            staging = Path(
                tempfile.mkdtemp(prefix=f".{dest.name}-", suffix=".partial", dir=dest.parent)
            )
        except OSError as error:
            raise NewserviceError(f"cannot write in {dest.parent}: {error.strerror}") from error
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
