"""1. Generation: `newservice create` against a plain `copier copy` of the same template,
`newservice add resource` against a plain `copier copy` of the resource template with the
same answers, and `newservice --help` against the interpreter's own start-up.

The runs alternate (create, copier, create --no-git, create, ...) so that a change in the
machine's load during the benchmark falls on every command alike. Every command renders
a new folder with the same name, so the answers are the same. The template source and
commit plain Copier is given are the ones newservice recorded in its first project.
"""

from __future__ import annotations

import math
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import yaml

from bench.formatting import TIMES, excess_over, format_number, format_ratio, markdown_table
from bench.harness import HarnessError, console_script, run
from bench.section import Context, Section, Target
from bench.sizes import Sizes
from bench.stats import median, ratio

CREATE_TARGET = 1.25
ADD_TARGET = 1.5
# A resource of every kind of field, a reference included.
RESOURCE = (
    "invoice", "number:str(20):unique", "total:decimal(12,2):index", "paid:bool",
    "due:date:optional", "data:json", "customer:ref:users",
)  # fmt: skip
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
    add_s: list[float] = field(default_factory=list)
    copier_resource_s: list[float] = field(default_factory=list)
    imports_ms: dict[str, float] = field(default_factory=dict)
    """Cumulative import time of the modules `newservice --help` loads (python -X importtime)."""

    @property
    def create_ratio(self) -> float:
        return ratio(median(self.create_s), median(self.copier_s))

    @property
    def create_met(self) -> bool:
        return self.create_ratio <= CREATE_TARGET

    @property
    def add_ratio(self) -> float:
        return ratio(median(self.add_s), median(self.copier_resource_s))

    @property
    def add_met(self) -> bool:
        return self.add_ratio <= ADD_TARGET

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
    _time_add_resource(
        result,
        project=first / _FOLDER,
        source=source,
        commit=commit,
        fresh=fresh,
        sizes=sizes,
        log=log,
    )
    for _ in range(sizes.help_runs):
        result.help_s.append(_timed([newservice, "--help"], root))
        result.python_s.append(_timed([sys.executable, "-c", "pass"], root))
    result.imports_ms = _import_times(root)
    return result


def _time_add_resource(
    result: GenerationResult,
    *,
    project: Path,
    source: str,
    commit: str,
    fresh: Callable[[], Path],
    sizes: Sizes,
    log: IO[str],
) -> None:
    """`add resource` in a copy of `project`, against plain Copier given the answers it
    recorded (the project's and the resource's), rendering into an empty folder."""
    newservice = console_script("newservice")
    copier = console_script("copier")
    first = fresh() / _FOLDER
    shutil.copytree(project, first, symlinks=True)
    run([newservice, "add", "resource", *RESOURCE], cwd=first, timeout=300)
    answers_file = f".copier-answers.resource-{RESOURCE[0]}.yml"
    recorded = yaml.safe_load((first / answers_file).read_text(encoding="utf-8"))
    data_file = first.parent / "resource-answers.yml"
    data_file.write_text(
        yaml.safe_dump({key: value for key, value in recorded.items() if key[0] != "_"}),
        encoding="utf-8",
    )
    plain = [copier, "copy", "--defaults", "--vcs-ref", commit, "--answers-file", answers_file,
             "--data-file", str(data_file), source, _FOLDER]  # fmt: skip
    for index in range(sizes.generation_runs):
        print(f"  add resource run {index + 1}/{sizes.generation_runs}", file=log)
        copy = fresh() / "attempt-0" / _FOLDER
        shutil.copytree(project, copy, symlinks=True)
        start = time.perf_counter()
        run([newservice, "add", "resource", *RESOURCE], cwd=copy, timeout=300)
        result.add_s.append(time.perf_counter() - start)
        result.copier_resource_s.append(_timed(plain, fresh()))


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


# --- in the report --------------------------------------------------------------------


def _targets(result: GenerationResult) -> list[Target]:
    help_s = median(result.help_s)
    return [
        Target(
            f"`create` ≤ {CREATE_TARGET}{TIMES} plain `copier copy`",
            format_ratio(result.create_ratio),
            result.create_met,
            excess_over(result.create_ratio, CREATE_TARGET, TIMES),
        ),
        Target(
            f"`add resource` ≤ {ADD_TARGET}{TIMES} plain `copier copy` of the resource",
            format_ratio(result.add_ratio),
            result.add_met,
            excess_over(result.add_ratio, ADD_TARGET, TIMES),
        ),
        Target(
            f"`newservice --help` < {HELP_TARGET_S} s",
            f"{format_number(help_s, 3)} s",
            result.help_met,
            excess_over(help_s, HELP_TARGET_S, "s"),
        ),
    ]


def _text(result: GenerationResult, _chart: str | None) -> str:
    copier_s = median(result.copier_s)
    python_s = median(result.python_s)

    def row(command: str, times: list[float], baseline: float, baseline_name: str) -> list[str]:
        return [
            command,
            format_number(median(times), 3),
            format_number(min(times, default=math.nan), 3),
            format_number(max(times, default=math.nan), 3),
            f"{format_ratio(median(times) / baseline)} {baseline_name}",
        ]

    imports = ", ".join(f"{name} {ms:.0f} ms" for name, ms in result.imports_ms.items())
    development = result.template.endswith(" at HEAD")
    return "\n".join(
        [
            f"Median wall time of {len(result.create_s)} runs each, interleaved, after an"
            f" untimed first run; seconds. Template: `{result.template}`"
            + (
                " (a development checkout: both render its working tree, uncommitted edits"
                " included, through a throwaway commit Copier makes in a temporary clone)."
                if development
                else "."
            ),
            "",
            markdown_table(
                ["Command", "Median", "Min", "Max", "Ratio"],
                "lrrrl",
                [
                    row("`copier copy --defaults` (baseline)", result.copier_s, copier_s, "copier"),
                    row("`newservice create DEST --defaults`", result.create_s, copier_s, "copier"),
                    row(
                        "`newservice create DEST --defaults --no-git`",
                        result.create_no_git_s,
                        copier_s,
                        "copier",
                    ),
                    row(
                        "`copier copy` of the resource (baseline)",
                        result.copier_resource_s,
                        median(result.copier_resource_s),
                        "copier",
                    ),
                    row(
                        "`newservice add resource invoice ...`",
                        result.add_s,
                        median(result.copier_resource_s),
                        "copier",
                    ),
                    row("`python -c pass` (baseline)", result.python_s, python_s, "python"),
                    row("`newservice --help`", result.help_s, python_s, "python"),
                ],
            ),
            "",
            f"Import times behind `--help` (`python -X importtime`, cumulative): {imports}."
            + ("" if "copier" in result.imports_ms else " Copier is not imported."),
        ]
    )


def _notes(result: GenerationResult, _context: Context) -> list[str]:
    notes = [_create_note(result), _add_note(result)]
    if not result.help_met:
        notes.append(_help_note(result))
    return notes


def _create_note(result: GenerationResult) -> str:
    git_s = median(result.create_s) - median(result.create_no_git_s)
    no_git = median(result.create_no_git_s) / median(result.copier_s)
    git = (
        f"`git init` and the first commit take {format_number(git_s, 2)} s of it"
        if git_s > 0
        else "git costs nothing measurable against the run-to-run noise"
    )
    return (
        f"**Generation.** `create` costs {format_ratio(result.create_ratio)} plain Copier;"
        f" without git it is {format_ratio(no_git)}, so {git}. Copier's rendering is the bulk"
        " of both; newservice adds the answers check and the staging folder that make"
        " creation atomic."
        + (
            ""
            if result.create_met
            else " The target is missed by the steps plain Copier does not do."
        )
    )


def _add_note(result: GenerationResult) -> str:
    return (
        f"**Adding a resource.** `add resource` costs {format_ratio(result.add_ratio)} plain"
        " Copier rendering the same resource with the answers it recorded. Both clone the"
        " template at the project's commit and render it; newservice adds reading the"
        " project's code (its domains, tables and migration head, with `ast`), the scratch"
        " folder and the two registration edits."
    )


def _help_note(result: GenerationResult) -> str:
    cli_ms = result.imports_ms.get("newservice.cli", math.nan)
    return (
        f"**`--help`: {format_number(median(result.help_s), 3)} s, missed.** The interpreter"
        f" alone starts in {format_number(median(result.python_s), 3)} s; importing the CLI"
        f" takes {format_number(cli_ms, 0)} ms ({_heaviest_imports(result.imports_ms)}), and"
        " Typer and Rich build the help with the rest. Copier is"
        + (" imported" if "copier" in result.imports_ms else " not imported")
        + ", as intended, and each command imports its own modules only when it runs;"
        " what remains is Typer and Rich themselves, and importlib.metadata, which"
        " newservice/__init__.py imports for the version. Reading the version lazily"
        " would take part of the excess off."
    )


def _heaviest_imports(imports_ms: dict[str, float]) -> str:
    """The three slowest imports under the CLI module's own."""
    slowest = sorted(
        ((ms, name) for name, ms in imports_ms.items() if name != "newservice.cli"), reverse=True
    )
    return ", ".join(f"{name} {ms:.0f} ms" for ms, name in slowest[:3])


SECTION = Section(
    name="generation",
    title="Generation",
    targets=_targets,
    text=_text,
    notes=_notes,
)
