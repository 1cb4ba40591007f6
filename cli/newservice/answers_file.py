"""`.copier-answers.yml`, the file in which a project records its template and answers.

Copier writes it from the template (`{{ _copier_answers | to_nice_yaml }}`
under a comment line) and reads it back on every update: `_src_path` names the
template, `_commit` the template commit rendered, and every other key is an
answer. newservice reads it and, to drop a `_commit`, rewrites it the way
Copier writes it, so that a rewritten file is what Copier would have written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from newservice.errors import NewserviceError

ANSWERS_FILE = ".copier-answers.yml"


def load(project: Path, name: str = ANSWERS_FILE) -> dict[str, Any]:
    """The recorded answers of `project` (or of a resource of it, with its file's `name`);
    an unreadable file is a one-line error."""
    return load_file(project / name)


def load_file(path: Path) -> dict[str, Any]:
    return _parse(path)[1]


def recorded_commit(project: Path) -> str | None:
    """The template commit `project` records, or None when it records none (or no file)."""
    try:
        commit = load(project).get("_commit")
    except NewserviceError:
        return None
    return commit if isinstance(commit, str) and commit else None


def forget_commit(project: Path, name: str = ANSWERS_FILE) -> None:
    """Rewrite the answers of `project` without `_commit`; the rest stays as Copier wrote it."""
    path = project / name
    header, answers = _parse(path)
    if answers.pop("_commit", None) is None:
        return
    # Copier's to_nice_yaml: yaml.dump with these options, keys sorted.
    body = yaml.safe_dump(answers, indent=4, allow_unicode=True, default_flow_style=False)
    try:
        path.write_text(header + body, encoding="utf-8")
    except OSError as error:
        raise NewserviceError(f"cannot write {path}: {error.strerror}") from error


def _parse(path: Path) -> tuple[str, dict[str, Any]]:
    """The comment lines that open the file, and the answers."""
    try:
        text = path.read_text(encoding="utf-8")
        loaded = yaml.safe_load(text)
    except OSError as error:
        raise NewserviceError(f"cannot read {path}: {error.strerror}") from error
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise NewserviceError(f"cannot read {path}: not a YAML file") from error
    if not isinstance(loaded, dict):
        raise NewserviceError(f"{path} is not a mapping of answers")
    lines = text.splitlines(keepends=True)
    header = ""
    for line in lines:
        if not line.startswith("#"):
            break
        header += line
    return header, loaded
