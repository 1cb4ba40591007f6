"""The two small edits that wire a new resource into its project.

Copier renders whole files, so the lines that make the app serve a resource and
Alembic see its table are added here, into files the project owns:

- main.py: an import of the resource's router, and `app.include_router(...)`
  after the last router create_app() includes, with the same keywords;
- db/models.py: an import of the model, and its name in `__all__`.

Each line goes where `ruff check` (isort, RUF022) and `ruff format` expect it, so
the project stays clean, and one resource's lines never touch another's, so two
resources never conflict. The files are read with `ast` to find the places and
edited as text, so that every other byte stays as the user left it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from newservice.errors import UsageError


@dataclass(frozen=True)
class Edit:
    path: Path
    text: str
    """The whole new content."""
    added: tuple[str, ...]
    """The lines added, for --pretend and the summary."""


def register(source: Path, *, plural: str, model: str) -> tuple[Edit, Edit]:
    """The edits of main.py and db/models.py under `source` (src/<package>)."""
    return _edit_main(source / "main.py", plural), _edit_models(
        source / "db" / "models.py", plural, model
    )


def _edit_main(path: Path, plural: str) -> Edit:
    lines, tree = _read(path)
    router = f"{plural}_router"
    import_line = f"from .{plural}.router import router as {router}"
    factory = next(
        (
            node
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name == "create_app"
        ),
        None,
    )
    includes = [
        (statement, statement.value)
        for statement in (factory.body if factory else [])
        if isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Attribute)
        and statement.value.func.attr == "include_router"
    ]
    if not includes:
        raise UsageError(
            f"{path} has no create_app() with app.include_router(...) calls, so the router"
            " cannot be registered there"
        )
    last, call = includes[-1]
    # Included as the router before it is: the same keywords (its documented responses).
    arguments = ", ".join([router, *(ast.unparse(keyword) for keyword in call.keywords)])
    include_line = " " * last.col_offset + f"{ast.unparse(call.func)}({arguments})"
    insertions = [
        (last.end_lineno or last.lineno, include_line),
        (_import_position(path, tree, level=1, module=f"{plural}.router"), import_line),
    ]
    return _apply(path, lines, insertions)


def _edit_models(path: Path, plural: str, model: str) -> Edit:
    lines, tree = _read(path)
    import_line = f"from ..{plural}.models import {model}"
    exported = next(
        (
            node.value
            for node in tree.body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            and any(
                isinstance(target, ast.Name) and target.id == "__all__"
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            )
            and isinstance(node.value, ast.List)
        ),
        None,
    )
    if not isinstance(exported, ast.List) or not exported.elts:
        raise UsageError(f"{path} has no __all__ list to add {model} to")
    names = [element for element in exported.elts if isinstance(element, ast.Constant)]
    after = [element for element in names if _export_key(str(element.value)) > _export_key(model)]
    if after:
        anchor, line = after[0], after[0].lineno - 1
    else:
        anchor, line = names[-1], names[-1].end_lineno or names[-1].lineno
    if anchor.lineno == exported.lineno:
        raise UsageError(f"{path}: __all__ is on one line; write one name per line first")
    indent = " " * anchor.col_offset
    insertions = [
        (line, f'{indent}"{model}",'),
        (_import_position(path, tree, level=2, module=f"{plural}.models"), import_line),
    ]
    return _apply(path, lines, insertions)


def _import_position(path: Path, tree: ast.Module, *, level: int, module: str) -> int:
    """The line after which `from <dots><module> import ...` goes, in isort's order."""
    relative = [
        node
        for node in tree.body
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.col_offset == 0
    ]
    if not relative:
        raise UsageError(f"{path} has no relative imports to add one beside")
    key = (-level, module.lower())
    before = [node for node in relative if (-node.level, (node.module or "").lower()) < key]
    if before:
        return before[-1].end_lineno or before[-1].lineno
    return relative[0].lineno - 1


def _export_key(name: str) -> tuple[int, str]:
    """RUF022's order: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return (0, name)
    return (1, name) if name[:1].isupper() else (2, name)


def _read(path: Path) -> tuple[list[str], ast.Module]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from error
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as error:
        raise UsageError(f"{path} does not parse ({error.msg}, line {error.lineno})") from error
    return text.splitlines(keepends=True), tree


def _apply(path: Path, lines: list[str], insertions: list[tuple[int, str]]) -> Edit:
    """Insert each (after line number, text), the later lines first so numbers hold."""
    new = list(lines)
    for after, text in sorted(insertions, key=lambda item: item[0], reverse=True):
        new.insert(after, text + "\n")
    return Edit(path, "".join(new), tuple(text for _after, text in insertions))
