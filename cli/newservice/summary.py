"""What `newservice create` shows once it is done: the answers, then the next steps."""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.console import Console
from rich.text import Text

from newservice.create import Created, GitOutcome
from newservice.display import display_path, print_steps

_SHOWN = (
    ("project_name", "name"),
    ("package_name", "package"),
    ("db", "database"),
    ("worker", "worker"),
    ("broker", "broker"),
    ("auth", "auth"),
)


def show_summary(console: Console, created: Created, cwd: Path) -> None:
    where = display_path(created.dest, cwd)
    name = str(created.answers.get("project_name", created.dest.name))
    if created.git is GitOutcome.PRETEND:
        heading = Text.assemble(
            ("Nothing was written (--pretend). ", "bold yellow"),
            f"{name} would be created in {where}",
        )
    else:
        heading = Text.assemble(("Created ", "bold green"), (name, "bold"), f" in {where}")
    console.print(heading)

    rows = [(label, str(created.answers[key])) for key, label in _SHOWN if key in created.answers]
    rows.append(("git", created.git.value))
    if created.lock is not None:
        rows.append(("uv.lock", created.lock.detail))
    if created.template:
        rows.append(("updates", created.template))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        console.print(Text.assemble(("  " + label.ljust(width + 2), "dim"), value), soft_wrap=True)
    if created.git is GitOutcome.PRETEND:
        return

    console.print()
    console.print(Text("Next steps", style="bold"))
    print_steps(console, next_steps(created, cwd))


def next_steps(created: Created, cwd: Path) -> list[str]:
    package = created.answers.get("package_name", "<package>")
    steps = []
    if created.dest != cwd:
        steps.append(f"cd {shlex.quote(display_path(created.dest, cwd))}")
    # With uv.lock, the locked route and the project's poe tasks; without, plain pip.
    locked = created.lock is not None and created.lock.written
    run = "uv run " if locked else ""
    if locked:
        steps.append("uv sync --extra dev")
    else:
        steps += ["python -m venv .venv && . .venv/bin/activate", 'pip install -e ".[dev]"']
    steps.append("cp .env.example .env")
    # copier.yml derives both from the answers, for the template and for these steps.
    services = created.answers.get("backing_services")
    worker_command = created.answers.get("worker_command")
    if services:
        steps.append(f"docker compose up -d {services}")
    steps.append("uv run poe migrate" if locked else "alembic upgrade head")
    if created.answers.get("auth") == "jwt":
        admin = f"{run}python -m {package}.admin create you@example.com"
        steps.append(f"{admin}    # the first administrator")
    if locked:
        steps += ["uv run poe serve", "uv run poe test"]
        if worker_command:
            steps.append("uv run poe worker    # the worker, in a second terminal")
        return steps
    steps += [f"uvicorn --factory {package}.main:create_app --reload", "pytest"]
    if worker_command:
        steps.append(f"{worker_command}    # the worker, in a second terminal")
    return steps
