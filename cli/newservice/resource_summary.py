"""What `newservice add resource` shows: the files, the two edits, and what to run next."""

from __future__ import annotations

import shlex
from pathlib import Path

from rich.console import Console
from rich.text import Text

from newservice.add_resource import Added
from newservice.display import display_path, print_steps


def show_added(console: Console, added: Added, cwd: Path) -> None:
    where = display_path(added.project, cwd)
    verb = "Would add" if added.pretend else "Added"
    console.print(f"{verb} the resource {added.name} (/{added.plural}) to {where}", soft_wrap=True)
    for name in added.files:
        console.print(Text.assemble(("  create    ", "green"), name), soft_wrap=True)
    for edit in added.edits:
        relative = edit.path.relative_to(added.project).as_posix()
        for line in edit.added:
            console.print(
                Text.assemble(("  edit      ", "yellow"), f"{relative}: ", (line.strip(), "dim")),
                soft_wrap=True,
            )
    if added.pretend:
        console.print("Run the same command without --pretend to write it.")
        return
    console.print()
    console.print(Text("Next steps", style="bold"))
    steps = [f"cd {shlex.quote(where)}"] if added.project != cwd else []
    steps += [
        "uv run alembic upgrade head    # create the table",
        f"uv run pytest tests/{added.plural}",
        f'git add -A && git commit -m "Add the {added.plural} resource"',
    ]
    print_steps(console, steps)
