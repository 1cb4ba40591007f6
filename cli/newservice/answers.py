"""The answers given on the command line, as Copier `data`, and where each came from.

Only the names of the questions are read from copier.yml here; their rules
(choices, validators, conditions) stay there and Copier applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from newservice.errors import NewserviceError, UsageError

# The flag that gives each answer, for messages that name what the user typed.
FLAGS = {
    "project_name": "--name",
    "description": "--description",
    "db": "--db",
    "worker": "--worker",
    "broker": "--broker",
    "auth": "--auth",
}


@dataclass
class Answers:
    data: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)

    def give(self, key: str, value: Any, origin: str) -> None:
        self.data[key] = value
        self.origins[key] = origin


@dataclass(frozen=True)
class Questions:
    names: tuple[str, ...]
    """Every question, in copier.yml's order."""
    derived: frozenset[str]
    """Computed by the template (`when: false`); an answer would override the rule."""

    @property
    def askable(self) -> tuple[str, ...]:
        return tuple(name for name in self.names if name not in self.derived)


def collect(
    *,
    flags: Mapping[str, str | None],
    data_items: Sequence[str],
    data_file: Path | None,
    questions: Questions,
) -> Answers:
    """Merge the answer sources; a dedicated flag beats --data, which beats --data-file."""
    answers = Answers()
    if data_file is not None:
        for key, value in load_data_file(data_file).items():
            answers.give(key, value, f"--data-file {data_file}: {key}")
    for item in data_items:
        key, value = parse_data_item(item)
        answers.give(key, value, f"--data {key}")
    for key, value in flags.items():
        if value is not None:
            answers.give(key, value, FLAGS[key])
    for key, origin in answers.origins.items():
        _check_known(key, origin, questions)
    return answers


def parse_data_item(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise UsageError(f"--data {item!r}: expected KEY=VALUE, for example --data db=sqlite")
    return key.strip(), value


def load_data_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise UsageError(f"--data-file {path}: cannot read it: {reason}") from error
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"--data-file {path}: not valid YAML{where}") from error
    if loaded is None:
        return {}
    if not isinstance(loaded, dict) or not all(isinstance(key, str) for key in loaded):
        raise UsageError(f"--data-file {path}: expected a mapping of question names to answers")
    return loaded


class _QuestionsLoader(yaml.SafeLoader):
    """Reads copier.yml for its keys; tags such as Copier's `!include` are ignored."""


_QuestionsLoader.add_multi_constructor("!", lambda _loader, _suffix, _node: None)


def read_questions(copier_yml: Path) -> Questions:
    try:
        text = copier_yml.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NewserviceError(f"cannot read the template's questions in {copier_yml}") from error
    return parse_questions(text, str(copier_yml))


def parse_questions(text: str, where: str) -> Questions:
    """The questions of a copier.yml given as text; `where` names it in errors."""
    try:
        documents = list(yaml.load_all(text, _QuestionsLoader))
    except yaml.YAMLError as error:
        raise NewserviceError(f"cannot read the template's questions in {where}") from error
    config: dict[str, Any] = {}
    for document in documents:
        if isinstance(document, dict):
            config.update(document)
    names = [key for key in config if isinstance(key, str) and not key.startswith("_")]
    derived = {
        key for key in names if isinstance(config[key], dict) and config[key].get("when") is False
    }
    return Questions(tuple(names), frozenset(derived))


def _check_known(key: str, origin: str, questions: Questions) -> None:
    if key in questions.derived:
        raise UsageError(f"{origin}: '{key}' is derived from the other answers and cannot be set")
    if key not in questions.askable:
        known = ", ".join(questions.askable)
        raise UsageError(f"{origin}: unknown question '{key}'; the questions are {known}")
