"""Putting a new project on disk all at once, or not at all.

The project is rendered into a hidden staging folder beside DEST (same
parent, so moving it into place is a rename) and is moved only once rendering
and git have succeeded. Any failure, Ctrl-C included, removes the staging
folder and the parent folders made for it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newservice.errors import NewserviceError, UsageError


def check_destination(dest: Path, *, force: bool) -> None:
    """Refuse a DEST the project cannot be placed in, before anything is rendered."""
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


@contextmanager
def staging_beside(dest: Path) -> Iterator[Path]:
    """An empty private folder beside `dest`, removed on the way out whatever happens."""
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


def move_into_place(built: Path, dest: Path) -> None:
    """Move the finished project to `dest`: a rename, or a copy into an existing folder."""
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
