"""1. Generation: `newservice create` against a plain `copier copy` of the same template,
and `newservice --help` against the interpreter's own start-up.

The runs alternate (create, copier, create --no-git, create, ...) so that a change in the
machine's load during the benchmark falls on every command alike. Every command renders
a new folder with the same name, so the answers are the same. The template source and
commit plain Copier is given are the ones newservice recorded in its first project.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench.harness import HarnessError, console_script, run
from bench.sizes import Sizes
from bench.stats import median, ratio

CREATE_TARGET = 1.25
HELP_TARGET_S = 0.3
_FOLDER = "svc"
# The imports that dominate the start-up, worth naming in the report; copier must be absent.
NOTABLE_IMPORTS = (
    "newservice.cli",
    "typer",
    "rich.console",
    "importlib.metadata",
    "newservice.create",
    "newservice.update",
    "copier",
)


@dataclass
class GenerationResult:
    template: str
    """What plain Copier rendered: the source and commit newservice used."""
    create_s: list[float]
    copier_s: list[float]
    create_no_git_s: list[float]
    help_s: list[float]
    python_s: list[float]
    imports_ms: dict[str, float] = field(default_factory=dict)
    """Cumulative import time of the modules `newservice --help` loads (python -X importtime)."""

    @property
    def create_ratio(self) -> float:
        return ratio(median(self.create_s), median(self.copier_s))

    @property
    def create_met(self) -> bool:
        return self.create_ratio <= CREATE_TARGET

    @property
    def help_met(self) -> bool:
        return median(self.help_s) < HELP_TARGET_S


def _timed(command: Sequence[str], cwd: Path) -> float:
    """Wall time of a successful run; one failed attempt is retried in a fresh folder.

    In a development checkout both commands render the working tree, which Copier stages
    with `git add -A`: an editor's temporary file that vanishes meanwhile fails that run.
    """
    for attempt in range(2):
        folder = cwd / f"attempt-{attempt}"
        folder.mkdir(exist_ok=True)
        start = time.perf_counter()
        try:
            run(command, cwd=folder, timeout=300)
        except HarnessError:
            if attempt:
                raise
            continue
        return time.perf_counter() - start
    raise HarnessError("unreachable")


def _recorded_source(project: Path) -> tuple[str, str]:
    """`_src_path` and `_commit` of a project's answers ("HEAD" when no commit is recorded:
    newservice renders a development checkout's uncommitted edits, as Copier does at HEAD)."""
    values: dict[str, str] = {}
    for line in (project / ".copier-answers.yml").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        values[key.strip()] = value.strip().strip("'\"")
    source = values.get("_src_path", "")
    if not source:
        raise RuntimeError(f"{project}/.copier-answers.yml names no _src_path")
    if source.startswith("~"):
        source = str(Path(source).expanduser())
    return source, values.get("_commit") or "HEAD"


def run_generation(sizes: Sizes, root: Path, log: IO[str]) -> GenerationResult:
    newservice = console_script("newservice")
    copier = console_script("copier")
    slots = iter(range(10_000))

    def fresh() -> Path:
        parent = root / f"generation-{next(slots)}"
        parent.mkdir(parents=True)
        return parent

    # The first run, untimed, fills the file cache and compiles the modules, and tells
    # which template source newservice uses.
    first = fresh()
    run([newservice, "create", _FOLDER, "--defaults"], cwd=first, timeout=300)
    source, commit = _recorded_source(first / _FOLDER)
    create = [newservice, "create", _FOLDER, "--defaults"]
    create_no_git = [*create, "--no-git"]
    plain = [copier, "copy", "--defaults", "--vcs-ref", commit, source, _FOLDER]
    if sizes.generation_warmup:
        _timed(plain, fresh())

    result = GenerationResult(f"{source} at {commit}", [], [], [], [], [])
    for index in range(sizes.generation_runs):
        print(f"  generation run {index + 1}/{sizes.generation_runs}", file=log)
        result.create_s.append(_timed(create, fresh()))
        result.copier_s.append(_timed(plain, fresh()))
        result.create_no_git_s.append(_timed(create_no_git, fresh()))
    for _ in range(sizes.help_runs):
        result.help_s.append(_timed([newservice, "--help"], root))
        result.python_s.append(_timed([sys.executable, "-c", "pass"], root))
    result.imports_ms = _import_times(root)
    return result


def _import_times(cwd: Path) -> dict[str, float]:
    """Cumulative import times (ms) of NOTABLE_IMPORTS when the CLI module is imported."""
    trace = run([sys.executable, "-X", "importtime", "-c", "import newservice.cli"], cwd=cwd).stderr
    found: dict[str, float] = {}
    for line in trace.splitlines():
        # "import time:  self [us] | cumulative | imported package"
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        name = parts[2].strip()
        if name in NOTABLE_IMPORTS and name not in found:
            found[name] = int(parts[1]) / 1000
    return found
