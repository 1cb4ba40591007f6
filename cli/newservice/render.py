"""Copier's `run_copy`, the three ways `newservice create` uses it.

- `check`: the answers Copier settles on, asking nothing and rendering
  nothing; a refused answer is a one-line error naming its flag.
- `pretend`: ask, and show what would be written; write nothing.
- `write`: ask, and render the project.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from newservice.answers import Answers
from newservice.errors import Warn, copier_errors
from newservice.template_source import TemplateSource


@dataclass(frozen=True)
class Rendered:
    values: dict[str, Any]
    """The project's answers, derived ones included, in copier.yml's order."""
    drafted: bool
    """Copier rendered uncommitted template edits through a throwaway commit."""


class _Mode(Enum):
    CHECK = "check"
    PRETEND = "pretend"
    WRITE = "write"


@dataclass(frozen=True)
class Renderer:
    source: TemplateSource
    answers: Answers
    """Read at each run: answers given after the renderer is made count."""
    warn: Warn
    ask: bool = False
    """Prompt for the answers not given (`pretend` and `write` only)."""
    show_files: bool = False
    """Let Copier list the files it writes (or would write)."""
    trust: bool = False
    """Let the template run code (Copier tasks, extensions, migrations)."""

    def check(self, folder_name: str) -> dict[str, Any]:
        """The answers for a project in a folder named `folder_name`."""
        with tempfile.TemporaryDirectory(prefix="newservice-check-") as scratch:
            return self._run(Path(scratch) / folder_name, _Mode.CHECK).values

    def pretend(self, folder_name: str) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="newservice-pretend-") as scratch:
            return self._run(Path(scratch) / folder_name, _Mode.PRETEND).values

    def write(self, target: Path) -> Rendered:
        return self._run(target, _Mode.WRITE)

    def _run(self, target: Path, mode: _Mode) -> Rendered:
        from copier import run_copy  # noqa: PLC0415 - keeps `--help` from importing Copier
        from copier.errors import DirtyLocalWarning  # noqa: PLC0415

        drafted = False

        def show(
            message: Warning | str, category: type[Warning], *_args: Any, **_kwargs: Any
        ) -> None:
            nonlocal drafted
            if issubclass(category, DirtyLocalWarning):
                # Copier committed the checkout's uncommitted edits in its clone.
                drafted = True
            else:
                self.warn(str(message))

        checking = mode is _Mode.CHECK
        with warnings.catch_warnings():
            warnings.simplefilter("always", DirtyLocalWarning)
            warnings.showwarning = show
            with copier_errors(
                origins=self.answers.origins,
                source=self.source.url,
                failed="the project could not be rendered",
            ):
                worker = run_copy(
                    self.source.url,
                    target,
                    data=dict(self.answers.data),
                    vcs_ref=self.source.ref,
                    defaults=checking or not self.ask,
                    pretend=mode is not _Mode.WRITE,
                    quiet=checking or not self.show_files,
                    # Validating the answers needs no file rendered.
                    exclude=("*",) if checking else (),
                    unsafe=self.trust,
                    # The staging folder is ours to remove.
                    cleanup_on_error=False,
                )
        questions = self.source.questions
        combined = worker.answers.combined
        # A question skipped by its `when` (the broker without Celery) has no answer.
        skipped = set(worker.answers.hidden) - questions.derived
        values = {
            name: combined[name]
            for name in questions.names
            if name in combined and name not in skipped
        }
        return Rendered(values, drafted)
