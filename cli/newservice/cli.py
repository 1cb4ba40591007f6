"""The command line of newservice: flags in, one-line errors or a summary out.

Copier is imported only inside the commands that render, so `--help` stays instant.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from newservice import version
from newservice.errors import (
    CONFLICTS_EXIT,
    FAILURE_EXIT,
    INTERRUPTED_EXIT,
    UPDATE_AVAILABLE_EXIT,
    NewserviceError,
)

T = TypeVar("T")

app = typer.Typer(
    name="newservice",
    help="Generate FastAPI + async SQLAlchemy 2.0 services whose database layer is already right.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _show_version(value: bool) -> None:
    if value:
        Console().print(f"newservice {version()}", highlight=False)
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Show the version and exit.",
        ),
    ] = False,
) -> None:
    """Generate FastAPI + async SQLAlchemy 2.0 services whose database layer is already right."""


@app.command()
def create(
    dest: Annotated[
        Path | None,
        typer.Argument(
            metavar="DEST",
            help="Folder to create; its name is the default project name."
            " Without it, --name is required and the folder is the name's slug"
            " under the current folder.",
            show_default=False,
        ),
    ] = None,
    *,
    name: Annotated[
        str | None, typer.Option("--name", help="Project name (the package name derives from it).")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="One-line description of the service.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database (a wrong value is answered with the valid ones)."),
    ] = None,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker", help="Background worker (a wrong value is answered with the valid ones)."
        ),
    ] = None,
    broker: Annotated[
        str | None, typer.Option("--broker", help="Celery's broker (only with --worker celery).")
    ] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            "--auth", help="Authentication: jwt (login and ownership) or none (a public API)."
        ),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults",
            "-y",
            help="Ask nothing: use the defaults for every answer not given. Needed without a"
            " terminal.",
        ),
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            metavar="KEY=VALUE",
            help="Answer a question by its copier.yml name; repeatable. Flags above win.",
        ),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option(
            "--data-file",
            metavar="FILE",
            help="YAML file of answers by question name; --data and flags win over it.",
        ),
    ] = None,
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Show what would be written; write nothing.")
    ] = False,
    no_git: Annotated[
        bool,
        typer.Option(
            "--no-git",
            help="Skip `git init` and the first commit (also skipped inside an existing"
            " repository).",
        ),
    ] = False,
    no_lock: Annotated[
        bool,
        typer.Option(
            "--no-lock",
            help="Skip `uv lock` (uv.lock pins every dependency; run it later in the project).",
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors only: no file list, no summary.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="List every file written, as Copier writes it."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into an existing non-empty DEST; files the template does not produce"
            " are kept.",
        ),
    ] = False,
    template: Annotated[
        str | None,
        typer.Option(
            "--template",
            metavar="SRC",
            help="Render another Copier template: a folder, git repository, bundle or URL"
            " (default: newservice's own). A git one renders its latest release tag.",
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option(
            "--vcs-ref", metavar="REF", help="Render this tag, branch or commit of the template."
        ),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Allow a --template to run code on this machine (Copier tasks, extensions)."
            " newservice's own template never needs it.",
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback of an error.")
    ] = False,
) -> None:
    """Create a new service from the newservice template.

    Questions are asked in the terminal unless --defaults (-y) is given; every
    answer given as a flag is checked before the first question.
    """
    out = Console()
    err = Console(stderr=True)
    # Each command imports its own modules: `--help` and completion load none of them.
    from newservice.create import CreateOptions  # noqa: PLC0415
    from newservice.create import create as create_project  # noqa: PLC0415
    from newservice.summary import show_summary  # noqa: PLC0415

    options = CreateOptions(
        dest=dest,
        flags={
            "project_name": name,
            "description": description,
            "db": db,
            "worker": worker,
            "broker": broker,
            "auth": auth,
        },
        data_items=tuple(data or ()),
        data_file=data_file,
        defaults=defaults,
        interactive=sys.stdin.isatty(),
        pretend=pretend,
        git=not no_git,
        lock=not no_lock,
        quiet=quiet,
        verbose=verbose,
        force=force,
        template=template,
        vcs_ref=vcs_ref,
        trust=trust,
    )
    created = _attempt(
        lambda: create_project(options, warn=lambda message: _warn(err, message)), err, debug
    )
    if not quiet:
        show_summary(out, created, Path.cwd())


class Conflict(StrEnum):
    inline = "inline"
    rej = "rej"


PathArgument = Annotated[
    Path,
    typer.Argument(
        metavar="[PATH]",
        help="The generated project (default: the current folder).",
        show_default=False,
    ),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]


@app.command("update")
def update_command(
    path: PathArgument = Path(),
    *,
    pretend: Annotated[
        bool,
        typer.Option("--pretend", help="Show what the update would change; write nothing."),
    ] = False,
    conflict: Annotated[
        Conflict,
        typer.Option(
            "--conflict",
            help="How to leave a conflict: inline markers in the file, or the part of your"
            " change that could not be applied in FILE.rej.",
        ),
    ] = Conflict.inline,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            metavar="KEY=VALUE",
            help="Change an answer, e.g. --data worker=arq; repeatable.",
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option(
            "--vcs-ref",
            metavar="REF",
            help="Update to this tag, branch or commit of the template instead of the"
            " installed newservice's (or, for another template, its latest release).",
        ),
    ] = None,
    trust: Annotated[
        bool,
        typer.Option(
            "--trust",
            help="Allow the project's template to run code on this machine (Copier tasks,"
            " extensions, migrations). newservice's own template never needs it.",
        ),
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Update a generated project to the installed newservice's template.

    Your edits are kept: Copier merges the template's changes into your files.
    The work tree must be committed first. Exit codes: 0 updated (or nothing
    to do), 3 updated with conflicts to resolve, 1 refused or failed, 2 bad
    usage.
    """
    out = Console()
    err = Console(stderr=True)
    from newservice.update import UpdateOptions, update  # noqa: PLC0415
    from newservice.update_summary import show_update  # noqa: PLC0415

    options = UpdateOptions(
        path=path,
        data_items=tuple(data or ()),
        vcs_ref=vcs_ref,
        conflict="rej" if conflict is Conflict.rej else "inline",
        pretend=pretend,
        trust=trust,
    )
    updated = _attempt(
        lambda: update(options, warn=lambda message: _warn(err, message)), err, debug
    )
    show_update(out, updated, Path.cwd())
    if updated.conflicts:
        raise typer.Exit(CONFLICTS_EXIT)


@app.command("check-update")
def check_update_command(path: PathArgument = Path(), *, debug: DebugOption = False) -> None:
    """Say whether the installed newservice has a newer template than the project's.

    Exit codes, for CI: 0 up to date, 10 an update is available, 1 the project
    is newer than this newservice or cannot be checked, 2 bad usage.
    """
    out = Console()
    err = Console(stderr=True)
    from newservice.update import check  # noqa: PLC0415
    from newservice.update_summary import show_check  # noqa: PLC0415

    checked = _attempt(lambda: check(path), err, debug)
    show_check(out, checked, Path.cwd())
    if checked.available:
        raise typer.Exit(UPDATE_AVAILABLE_EXIT)


add_app = typer.Typer(name="add", help="Add to a generated project.", no_args_is_help=True)
app.add_typer(add_app)


@add_app.command("resource")
def add_resource_command(
    name: Annotated[
        str,
        typer.Argument(
            metavar="NAME",
            help="The resource, singular and snake_case (invoice); its package, table and"
            " URL are the plural (invoices).",
            show_default=False,
        ),
    ],
    fields: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="FIELD:TYPE[:MODIFIER]",
            help="Types: str, str(N), text, int, bigint, float, decimal, decimal(P,S), bool,"
            " date, datetime, uuid, json, ref:DOMAIN. Modifiers: optional, unique, index."
            " Quote a field with parentheses: 'title:str(80):unique'.",
            show_default=False,
        ),
    ] = None,
    *,
    path: Annotated[
        Path, typer.Option("--path", help="The generated project (default: the current folder).")
    ] = Path(),
    plural: Annotated[
        str | None,
        typer.Option("--plural", help="The plural, where adding -s or -es gets it wrong."),
    ] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="With authentication: rows shared by every signed-in user, not owned by"
            " the one who created them.",
        ),
    ] = False,
    pretend: Annotated[
        bool, typer.Option("--pretend", help="Show what would be written; write nothing.")
    ] = False,
    debug: DebugOption = False,
) -> None:
    """Add a resource: model, schemas, service, router, migration and tests, updatable.

    Example: newservice add resource invoice 'number:str(20):unique' 'total:decimal(12,2)'
    customer:ref:users 'paid_at:datetime:optional'
    """
    out = Console()
    err = Console(stderr=True)
    from newservice.add_resource import AddOptions, add_resource  # noqa: PLC0415
    from newservice.resource_summary import show_added  # noqa: PLC0415

    options = AddOptions(
        path=path,
        name=name,
        fields=tuple(fields or ()),
        plural=plural,
        public=public,
        pretend=pretend,
    )
    added = _attempt(
        lambda: add_resource(options, warn=lambda message: _warn(err, message)), err, debug
    )
    show_added(out, added, Path.cwd())


def _attempt(action: Callable[[], T], err: Console, debug: bool) -> T:
    """Run a command's work; any failure becomes one line on stderr and its exit code."""
    try:
        return action()
    except KeyboardInterrupt:
        _fail(err, "interrupted", INTERRUPTED_EXIT)
    except NewserviceError as error:
        if debug:
            raise
        _fail(err, error.message, error.exit_code)
    except Exception as error:
        if _caused_by_interrupt(error):
            _fail(err, "interrupted", INTERRUPTED_EXIT)
        # A bug, not a user error; the one line still beats a traceback.
        if debug:
            raise
        _fail(err, f"unexpected {type(error).__name__}: {error} (--debug shows details)")


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether a Ctrl-C is behind `error`: one that lands while a module is imported can
    surface wrapped, for example as the RuntimeError of a failed `__set_name__`."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _warn(err: Console, message: str) -> None:
    err.print(Text.assemble(("warning: ", "yellow"), message), soft_wrap=True)


def _fail(err: Console, message: str, code: int = FAILURE_EXIT) -> NoReturn:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)
