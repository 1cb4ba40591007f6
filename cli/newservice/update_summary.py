"""What `newservice update` shows once Copier is done: what changed, and what to do next.

The advice on conflicts keeps the user's code first. It never suggests taking
the template's side of a conflict: that side does not contain the user's edit,
so taking it would delete their code.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from newservice.display import display_path, print_steps
from newservice.history import STORE_URL
from newservice.update import Check, Updated

_STYLES = {"modified": "yellow", "added": "green", "deleted": "red", "conflict": "bold red"}

UNDO = (
    "git reset --hard && git clean -fd",
    "It puts every tracked file back as you last committed it and deletes every untracked"
    " file: the work tree was clean before the update, so those are exactly the files the"
    " update added (ignored files, such as .env, stay).",
)


def show_update(console: Console, updated: Updated, cwd: Path) -> None:
    where = _where(updated.project, cwd)
    console.print(_heading(updated, where), soft_wrap=True)
    for key, old, new in updated.answers:
        console.print(
            Text.assemble(("  answer    ", "dim"), f"{key}: {_show(old)} -> {_show(new)}"),
            soft_wrap=True,
        )
    conflicted = set(updated.conflicts)
    for change in updated.changes:
        kind = "conflict" if change.path in conflicted else change.kind
        console.print(
            Text.assemble(("  " + kind.ljust(10), _STYLES.get(kind, "")), change.path),
            soft_wrap=True,
        )
    if updated.conflict_style == "rej":
        for reject in updated.conflicts:
            console.print(Text.assemble(("  reject    ", "bold red"), reject), soft_wrap=True)
    if updated.lock is not None:
        console.print(Text.assemble(("  uv.lock   ", "dim"), updated.lock.detail), soft_wrap=True)
    if updated.pretend:
        if updated.changes:
            console.print("Run the same command without --pretend to apply it.")
        return
    if not updated.changes:
        return
    console.print()
    steps = [f"cd {shlex.quote(where)}"] if updated.project != cwd else []
    if updated.conflicts:
        _show_conflict_help(console, updated, steps)
    else:
        console.print(Text("Next steps", style="bold"))
        steps += [
            "git diff HEAD    # review what the update changed",
            "run the project's tests (pytest)",
            f'git add -A && git commit -m "Update to template {updated.new}"',
        ]
        print_steps(console, steps)
    console.print(
        Text.assemble("To abandon the update: ", (UNDO[0], "cyan"), f". {UNDO[1]}"),
        soft_wrap=True,
    )


def show_check(console: Console, checked: Check, cwd: Path) -> None:
    where = _where(checked.project, cwd)
    if checked.source == STORE_URL:
        versions = f"project at {checked.old}, installed template {checked.new}"
    else:
        versions = f"project at {checked.old}, latest template {checked.new} in {checked.source}"
    if checked.resources_behind:
        count = checked.resources_behind
        versions += f"; {count} resource{'s' if count != 1 else ''} behind it"
    if checked.available:
        console.print(
            Text.assemble(
                ("Update available ", "bold yellow"),
                f"for {where}: {versions}; `newservice update` applies it",
            ),
            soft_wrap=True,
        )
    else:
        console.print(
            Text.assemble(("Up to date: ", "bold green"), f"{where}: {versions}"), soft_wrap=True
        )


def _heading(updated: Updated, where: str) -> Text:
    count = len(updated.changes)
    files = f"{count} file{'s' if count != 1 else ''}"
    conflicts = len(updated.conflicts)
    with_conflicts = f", {conflicts} with conflicts" if conflicts else ""
    span = (
        f"from template {updated.old} to {updated.new}"
        if updated.old != updated.new
        else f"at template {updated.new}"
    )
    if updated.pretend:
        if not count:
            return Text.assemble(("Nothing to update ", "bold green"), f"in {where} {span}.")
        return Text.assemble(
            ("Nothing was written (--pretend). ", "bold yellow"),
            f"Updating {where} {span} would change {files}{with_conflicts}:",
        )
    if not count:
        return Text.assemble(("Up to date: ", "bold green"), f"{where} {span}; nothing changed.")
    return Text.assemble(
        ("Updated ", "bold green" if not conflicts else "bold yellow"),
        f"{where} {span}: {files} changed{with_conflicts}:",
    )


def _show_conflict_help(console: Console, updated: Updated, steps: list[str]) -> None:
    console.print(Text("Conflicts to resolve", style="bold red"))
    if updated.conflict_style == "inline":
        console.print(
            "The template changed lines that you had changed too. Nothing of yours was lost:"
            " each conflicted file holds both versions, yours first.",
            soft_wrap=True,
        )
        steps += [
            "open each conflicted file; between `<<<<<<< before updating` and `=======` is"
            " your code, between `=======` and `>>>>>>> after updating` the template's new"
            " version",
            "edit each such block into the code you want: keep your change and bring in the"
            " template's where it still applies; then delete the three marker lines",
            "git add -A    # marks the files resolved",
            "run the project's tests (pytest)",
            f'git commit -m "Update to template {updated.new}"',
        ]
    else:
        console.print(
            "The template changed lines that you had changed too. Each FILE.rej holds the"
            " part of YOUR change that could not be applied again: FILE now has the"
            " template's new version there, and your change is only in FILE.rej (and in"
            " your last commit: `git show HEAD:FILE`).",
            soft_wrap=True,
        )
        steps += [
            "for each FILE.rej, apply its change to FILE by hand: lines starting with + are"
            " yours, lines starting with - are what you had replaced",
            "delete FILE.rej only once its change is back in FILE",
            "run the project's tests (pytest)",
            f'git add -A && git commit -m "Update to template {updated.new}"',
        ]
    print_steps(console, steps)
    console.print(
        Text.assemble(("git diff HEAD", "cyan"), " shows everything the update changed."),
        soft_wrap=True,
    )


def _show(value: Any) -> str:
    # Not "(none)": `none` is itself an answer (worker, auth).
    return "(not set)" if value is None else str(value)


def _where(project: Path, cwd: Path) -> str:
    # The messages name the project; "." would not.
    return project.name if project == cwd else display_path(project, cwd)
