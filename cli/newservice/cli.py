"""The command line of newservice: flags in, one-line errors or a summary out.

Copier is imported only inside the commands that render, so `--help` stays instant.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from newservice import version
from newservice.create import CreateOptions
from newservice.create import create as create_project
from newservice.errors import FAILURE_EXIT, INTERRUPTED_EXIT, NewserviceError
from newservice.summary import show_summary

app = typer.Typer(
    name="newservice",
    help="Generate FastAPI + async SQLAlchemy 2.0 services whose database layer is already right.",
    no_args_is_help=True,
    add_completion=False,
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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print errors only: no file list, no summary.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into an existing non-empty DEST; files the template does not produce"
            " are kept.",
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
    options = CreateOptions(
        dest=dest,
        flags={
            "project_name": name,
            "description": description,
            "db": db,
            "worker": worker,
            "broker": broker,
        },
        data_items=tuple(data or ()),
        data_file=data_file,
        defaults=defaults,
        interactive=sys.stdin.isatty(),
        pretend=pretend,
        git=not no_git,
        quiet=quiet,
        force=force,
    )
    try:
        created = create_project(options, warn=lambda message: _warn(err, message))
    except KeyboardInterrupt:
        _fail(err, "interrupted", INTERRUPTED_EXIT)
    except NewserviceError as error:
        if debug:
            raise
        _fail(err, error.message, error.exit_code)
    except Exception as error:
        # A bug, not a user error; the one line still beats a traceback.
        if debug:
            raise
        _fail(err, f"unexpected {type(error).__name__}: {error} (--debug shows details)")
    if not quiet:
        show_summary(out, created, Path.cwd())


def _warn(err: Console, message: str) -> None:
    err.print(Text.assemble(("warning: ", "yellow"), message), soft_wrap=True)


def _fail(err: Console, message: str, code: int = FAILURE_EXIT) -> NoReturn:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
    raise typer.Exit(code)
