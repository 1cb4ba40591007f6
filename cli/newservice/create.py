"""`newservice create`: answers, then Copier, then git, then the project in place, or nothing.

`.copier-answers.yml` names the template (`_src_path`) and the commit rendered
(`_commit`), which `newservice update` starts from. A commit Copier made up for
uncommitted template edits is never left there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from newservice import answers_file, gitops, locking, placement, version
from newservice.answers import Answers, collect
from newservice.errors import NewserviceError, UsageError, Warn
from newservice.render import Renderer
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
    lock: bool = True
    """Write uv.lock with `uv lock` (before the first commit, so that it is committed)."""
    quiet: bool = False
    """Errors only: no warnings that do not stop the command, no file list."""
    verbose: bool = False
    """Copier's list of the files it writes."""
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
    lock: locking.LockOutcome | None = None
    """Whether uv.lock was written; None with --pretend."""


def create(options: CreateOptions, warn: Warn) -> Created:
    if options.quiet and options.verbose:
        raise UsageError("--quiet and --verbose contradict each other; give one of them")
    source = locate_template(template=options.template, vcs_ref=options.vcs_ref)
    answers = collect(
        flags=options.flags,
        data_items=options.data_items,
        data_file=options.data_file,
        questions=source.questions,
    )
    ask = not options.defaults
    if ask and not options.interactive:
        raise UsageError(
            "standard input is not a terminal, so no questions can be asked;"
            " pass --defaults (-y) and give answers as flags (--name, --db, --worker, ...)"
        )
    copier = Renderer(
        source,
        answers,
        warn,
        ask=ask,
        # --pretend exists to show what would be written.
        show_files=options.verbose or (options.pretend and not options.quiet),
        trust=options.trust,
    )
    dest = _destination(options.dest, answers, copier)
    placement.check_destination(dest, force=options.force)
    _default_project_name(answers, dest, ask=ask)
    if ask:
        # Refuse a bad flag (or a DEST that makes a bad default name) before the
        # user has answered any question.
        copier.check(dest.name)

    if options.pretend:
        return Created(dest, copier.pretend(dest.name), GitOutcome.PRETEND)

    with placement.staging_beside(dest) as staging:
        built = staging / dest.name
        rendered = copier.write(built)
        if rendered.drafted:
            # Copier recorded the commit it made up for uncommitted template edits. It
            # exists nowhere else: an update from it would fail, or worse, diff against
            # the wrong files. Without `_commit`, Copier and newservice refuse to update
            # the project and say why.
            answers_file.forget_commit(built)
        updates, why_not = _updates_from(source, built, drafted=rendered.drafted)
        if why_not is not None and not options.quiet:
            warn(f"this project cannot be updated: {why_not}")
        locked = locking.lock(built) if options.lock else locking.NOT_ASKED
        outcome = _initialise_git(built, dest, rendered.values, options, warn)
        placement.move_into_place(built, dest)
    return Created(dest, rendered.values, outcome, updates, locked)


def _destination(given: Path | None, answers: Answers, copier: Renderer) -> Path:
    if given is not None:
        return given.expanduser().resolve()
    if "project_name" not in answers.data:
        raise UsageError(
            "give the folder to create (newservice create my-service)"
            " or --name to create it under the current folder"
        )
    # The folder is the project's slug, which copier.yml derives from the name.
    slug = copier.check("project").get("project_slug")
    if not isinstance(slug, str) or not slug:
        raise NewserviceError("the template derives no folder name from --name; give DEST")
    return Path.cwd() / slug


def _default_project_name(answers: Answers, dest: Path, *, ask: bool) -> None:
    if "project_name" in answers.data:
        return
    answers.origins["project_name"] = (
        f"DEST {dest.name!r} (the default project name; --name sets another)"
    )
    if not ask:
        # Copier would take the same default; giving it as data makes Copier
        # validate it before anything is rendered.
        answers.data["project_name"] = dest.name


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
