"""`newservice` as a user runs it: flags, answers, errors, git, and what is left on disk.

Rendering is real (Copier and the repository's template); only the assertions
about generated files are limited to .copier-answers.yml, so these tests do not
depend on the service the template generates.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from newservice import version
from tests.commands import answers, assert_one_line_error, invoke
from tests.template_repos import git


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def python_m_newservice(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m newservice ARGS` in a new process; stderr lists every module imported."""
    return subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "newservice", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def imports_copier(completed: subprocess.CompletedProcess[str]) -> bool:
    imported = [line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines()]
    return any(name.split(".")[0] in {"copier", "jinja2"} for name in imported)


# --- the application -------------------------------------------------------------


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"newservice {version()}"


def test_version_of_python_m_newservice() -> None:
    completed = python_m_newservice("--version")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == f"newservice {version()}"


@pytest.mark.parametrize("args", [["--help"], ["create", "--help"]], ids=["app", "create"])
def test_help_does_not_import_copier(args: list[str]) -> None:
    completed = python_m_newservice(*args)
    assert completed.returncode == 0, completed.stderr
    assert "Usage" in completed.stdout
    assert not imports_copier(completed)


def test_create_help_documents_every_flag() -> None:
    result = invoke("create", "--help")
    assert result.exit_code == 0
    for flag in (
        "--name",
        "--description",
        "--db",
        "--worker",
        "--broker",
        "--auth",
        "--defaults",
        "--data",
        "--data-file",
        "--pretend",
        "--no-git",
        "--quiet",
        "--verbose",
        "--force",
        "--debug",
    ):
        assert flag in result.stdout


def test_show_completion_prints_a_bash_script() -> None:
    # Typer finds the shell among the parent processes, and a test runner may have
    # none; Typer's own switch for tests makes it take the shell given instead.
    completed = python_m_newservice(
        "--show-completion", "bash", env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    )
    assert completed.returncode == 0, completed.stderr
    assert "_NEWSERVICE_COMPLETE=complete_bash" in completed.stdout
    assert "complete -o default -F _newservice_completion newservice" in completed.stdout


@pytest.mark.parametrize(
    ("words", "offered"),
    [("newservice cr", ["create"]), ("newservice create --verb", ["--verbose"])],
    ids=["command", "option"],
)
def test_bash_completion_offers_commands_and_options(words: str, offered: list[str]) -> None:
    # What the script from --show-completion runs at each Tab, as bash would.
    completed = python_m_newservice(
        env={
            "_NEWSERVICE_COMPLETE": "complete_bash",
            "COMP_WORDS": words,
            "COMP_CWORD": str(len(words.split()) - 1),
        }
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == offered
    # Every Tab runs newservice: Copier stays unimported, as for --help.
    assert not imports_copier(completed)


# --- creating a project ------------------------------------------------------------


def test_defaults_create_a_project_with_one_commit(tmp_path: Path) -> None:
    project = tmp_path / "billing"
    result = invoke("create", str(project), "--defaults")
    assert result.exit_code == 0, result.output
    assert answers(project)["project_name"] == "billing"
    assert git(project, "rev-list", "--count", "HEAD") == "1"
    assert git(project, "status", "--porcelain") == ""
    # Nothing but the project: the staging folder is gone.
    assert [path.name for path in tmp_path.iterdir()] == ["billing"]


def test_no_git_leaves_no_repository(tmp_path: Path) -> None:
    project = tmp_path / "billing"
    result = invoke("create", str(project), "-y", "--no-git")
    assert result.exit_code == 0, result.output
    assert (project / ".copier-answers.yml").is_file()
    assert not (project / ".git").exists()


def test_console_script_creates_a_project(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "newservice"
    completed = subprocess.run(
        [str(script), "create", "orders", "-y", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert answers(tmp_path / "orders")["project_name"] == "orders"
    assert git(tmp_path / "orders", "rev-list", "--count", "HEAD") == "1"


@pytest.mark.parametrize(
    ("flags", "expected", "absent"),
    [
        (
            ["--name", "Café Service", "--description", "Bills people"],
            {"project_name": "Café Service", "description": "Bills people"},
            [],
        ),
        (["--db", "mysql", "--worker", "rq"], {"db": "mysql", "worker": "rq"}, ["broker"]),
        (["--db", "sqlite", "--worker", "none"], {"db": "sqlite", "worker": "none"}, ["broker"]),
        (
            ["--worker", "celery", "--broker", "rabbitmq"],
            {"worker": "celery", "broker": "rabbitmq"},
            [],
        ),
        (["--auth", "none"], {"auth": "none"}, []),
        ([], {"db": "postgresql", "worker": "celery", "broker": "redis", "auth": "jwt"}, []),
    ],
    ids=["name", "mysql-rq", "sqlite-none", "celery-rabbitmq", "auth-none", "defaults"],
)
def test_flags_map_to_answers(
    tmp_path: Path, flags: list[str], expected: dict[str, str], absent: list[str]
) -> None:
    project = tmp_path / "svc"
    result = invoke("create", str(project), "-y", "--no-git", *flags)
    assert result.exit_code == 0, result.output
    recorded = answers(project)
    assert {key: recorded.get(key) for key in expected} == expected
    assert not [key for key in absent if key in recorded]


def test_data_and_data_file_map_to_answers_flags_winning(tmp_path: Path) -> None:
    data_file = tmp_path / "answers.yml"
    data_file.write_text("db: mysql\nworker: arq\ndescription: from the file\n", encoding="utf-8")
    project = tmp_path / "svc"
    result = invoke(
        "create", str(project), "-y", "--no-git",
        "--data-file", str(data_file),
        "--data", "worker=rq",
        "--data", "description=from --data",
        "--description", "from the flag",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    recorded = answers(project)
    assert (recorded["db"], recorded["worker"], recorded["description"]) == (
        "mysql",
        "rq",
        "from the flag",
    )


def test_summary_shows_answers_and_next_steps(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "Café"), "-y", "--no-git", "--name", "Café Service")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "cafe_service" in out
    assert re.search(r"^ *auth +jwt$", out, flags=re.MULTILINE)
    assert "uvicorn --factory cafe_service.main:create_app --reload" in out
    assert "docker compose up -d db redis" in out
    assert "python -m cafe_service.admin create you@example.com" in out
    for step in ("python -m venv .venv", 'pip install -e ".[dev]"', "alembic upgrade head"):
        assert step in out


def next_steps(stdout: str) -> list[str]:
    """The commands of the numbered next steps, without their comments."""
    _, _, steps = stdout.partition("Next steps")
    return [
        match.group(1).split("#")[0].strip()
        for match in re.finditer(r"^ +\d+\. (.+)$", steps, flags=re.MULTILINE)
    ]


NEXT_STEPS = [
    (
        ["--db", "postgresql", "--worker", "celery", "--broker", "redis"],
        "docker compose up -d db redis",
        "celery -A svc.worker worker --loglevel INFO",
    ),
    (
        ["--db", "sqlite", "--worker", "rq"],
        "docker compose up -d redis",
        "rq worker -c svc.worker.rq_config --with-scheduler",
    ),
    (
        ["--db", "mysql", "--worker", "celery", "--broker", "rabbitmq"],
        "docker compose up -d db rabbitmq",
        "celery -A svc.worker worker --loglevel INFO",
    ),
    (["--db", "sqlite", "--worker", "none"], None, None),
]


@pytest.mark.parametrize(
    ("flags", "services", "worker"),
    NEXT_STEPS,
    ids=["postgresql-celery-redis", "sqlite-rq", "mysql-celery-rabbitmq", "sqlite-none"],
)
def test_next_steps_start_every_service_and_the_worker_the_answers_need(
    tmp_path: Path, flags: list[str], services: str | None, worker: str | None
) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--no-git", *flags)
    assert result.exit_code == 0, result.output
    steps = next_steps(result.stdout)
    assert [step for step in steps if "docker compose" in step] == ([services] if services else [])
    assert steps[-1] == (worker or "pytest")


@pytest.mark.parametrize(("auth", "admin_step"), [("jwt", True), ("none", False)])
def test_next_steps_make_the_first_administrator_only_with_authentication(
    tmp_path: Path, auth: str, admin_step: bool
) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--no-git", "--auth", auth)
    assert result.exit_code == 0, result.output
    steps = next_steps(result.stdout)
    assert ("python -m svc.admin create you@example.com" in steps) == admin_step
    # After the schema exists, before the service runs.
    if admin_step:
        admin = steps.index("python -m svc.admin create you@example.com")
        assert steps[admin - 1] == "alembic upgrade head"


def test_create_lists_no_files_unless_verbose(tmp_path: Path) -> None:
    plain = invoke("create", str(tmp_path / "plain"), "-y", "--no-git")
    assert plain.exit_code == 0, plain.output
    assert "Next steps" in plain.stdout
    # Copier's file list names every file; the summary names none.
    assert "compose.yaml" not in plain.output

    verbose = invoke("create", str(tmp_path / "verbose"), "-y", "--no-git", "--verbose")
    assert verbose.exit_code == 0, verbose.output
    assert "compose.yaml" in verbose.stderr
    assert "Next steps" in verbose.stdout


def test_quiet_prints_nothing(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--quiet")
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_quiet_and_verbose_together_are_refused(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--quiet", "--verbose")
    assert_one_line_error(result, "--quiet and --verbose")
    assert listing(tmp_path) == []


def test_without_dest_the_folder_is_the_names_slug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("create", "-y", "--no-git", "--name", "Café Service")
    assert result.exit_code == 0, result.output
    assert answers(tmp_path / "cafe-service")["project_name"] == "Café Service"


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    project = tmp_path / "a" / "b" / "svc"
    result = invoke("create", str(project), "-y", "--no-git")
    assert result.exit_code == 0, result.output
    assert (project / ".copier-answers.yml").is_file()


def test_an_empty_existing_dest_is_used(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    result = invoke("create", str(project), "-y", "--no-git")
    assert result.exit_code == 0, result.output
    assert (project / ".copier-answers.yml").is_file()


def test_force_writes_into_a_non_empty_dest_and_keeps_other_files(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n", encoding="utf-8")
    result = invoke("create", str(project), "-y", "--no-git", "--force", "--db", "sqlite")
    assert result.exit_code == 0, result.output
    assert (project / "notes.txt").read_text(encoding="utf-8") == "mine\n"
    assert answers(project)["db"] == "sqlite"
    assert [path.name for path in tmp_path.iterdir()] == ["svc"]


def test_pretend_writes_nothing(tmp_path: Path) -> None:
    before = listing(tmp_path)
    result = invoke("create", str(tmp_path / "svc"), "-y", "--pretend")
    assert result.exit_code == 0, result.output
    assert "Nothing was written" in result.stdout
    assert ".copier-answers.yml" in result.stderr  # Copier's list of what it would write
    assert listing(tmp_path) == before


def test_inside_a_git_work_tree_no_repository_is_nested(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    project = tmp_path / "services" / "svc"
    result = invoke("create", str(project), "-y")
    assert result.exit_code == 0, result.output
    assert not (project / ".git").exists()
    assert "existing git work tree" in result.stdout


def test_git_identity_falls_back_only_when_none_is_configured(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("", encoding="utf-8")
    configured = tmp_path / "ada.gitconfig"
    configured.write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n", encoding="utf-8")
    unset: dict[str, str | None] = {
        name: None
        for name in (
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
        )
    }
    isolated = {**unset, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(tmp_path)}
    for config, author in ((empty, "newservice"), (configured, "Ada <ada@example.com>")):
        project = tmp_path / config.stem
        env = {**isolated, "GIT_CONFIG_GLOBAL": str(config)}
        result = invoke("create", str(project), "-y", "-q", env=env)
        assert result.exit_code == 0, result.output
        assert git(project, "log", "--format=%an <%ae>").startswith(author)


# --- refusals: one line, exit 2, nothing written -------------------------------------


def test_without_a_terminal_defaults_are_required(tmp_path: Path) -> None:
    before = listing(tmp_path)
    result = invoke("create", str(tmp_path / "svc"))
    assert_one_line_error(result, "--defaults (-y)")
    assert listing(tmp_path) == before


BAD_ANSWERS = [
    (["--name", "asyncio"], "standard-library module 'asyncio'"),
    (["--name", "test"], "standard-library module 'test'"),
    (["--name", "fastapi"], "'fastapi' module the service depends on"),
    (["--name", "sqlalchemy"], "'sqlalchemy' module the service depends on"),
    (["--name", "class"], "Python keyword"),
    (["--name", "3d"], "start with a digit"),
    (["--name", "   "], "must not be empty"),
    (["--name", "Сервис"], "cannot be spelled in ASCII"),
    (["--db", "oracle"], "--db: 'oracle' is not one of postgresql, mysql, sqlite"),
    (["--worker", "sidekiq"], "--worker: 'sidekiq' is not one of celery, rq, arq, none"),
    (["--worker", "rq", "--broker", "rabbitmq"], "--broker: only Celery can use RabbitMQ"),
    (["--auth", "basic"], "--auth: 'basic' is not one of jwt, none"),
    (["--data", "db=oracle"], "--data db: 'oracle' is not one of"),
]


@pytest.mark.parametrize(
    ("flags", "message"), BAD_ANSWERS, ids=[" ".join(flags) for flags, _ in BAD_ANSWERS]
)
def test_bad_answers_are_refused_before_anything_is_written(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    before = listing(tmp_path)
    result = invoke("create", str(tmp_path / "svc"), "-y", *flags)
    assert_one_line_error(result, message)
    if flags[0] == "--name":
        assert "error: --name: " in result.stderr
    assert listing(tmp_path) == before


@pytest.mark.parametrize("folder", ["asyncio", "class", "fastapi"])
def test_a_dest_that_makes_a_bad_default_name_is_refused(tmp_path: Path, folder: str) -> None:
    result = invoke("create", str(tmp_path / folder), "-y")
    assert_one_line_error(result, f"DEST '{folder}'", "--name")
    assert listing(tmp_path) == []


def test_a_refused_answer_leaves_no_created_parent_behind(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "a" / "b" / "svc"), "-y", "--db", "oracle")
    assert_one_line_error(result, "--db")
    assert listing(tmp_path) == []


BAD_INPUT = [
    (["--data", "db"], "--data 'db': expected KEY=VALUE"),
    (["--data", "=sqlite"], "expected KEY=VALUE"),
    (["--data", "colour=blue"], "unknown question 'colour'"),
    (["--data", "package_name=x"], "'package_name' is derived"),
    (["--data-file", "{missing}"], "cannot read it"),
    (["--data-file", "{malformed}"], "not valid YAML (line "),
    (["--data-file", "{a_list}"], "expected a mapping"),
    (["--data-file", "{unknown_key}"], "unknown question 'colour'"),
    (["--data-file", "{null_name}"], "project_name: expected a str, not None"),
]


@pytest.mark.parametrize(
    ("flags", "message"), BAD_INPUT, ids=[" ".join(flags) for flags, _ in BAD_INPUT]
)
def test_bad_command_line_input_is_refused(tmp_path: Path, flags: list[str], message: str) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    files = {
        "missing": inputs / "missing.yml",
        "malformed": inputs / "malformed.yml",
        "a_list": inputs / "list.yml",
        "unknown_key": inputs / "unknown.yml",
        "null_name": inputs / "null.yml",
    }
    files["malformed"].write_text("db: sqlite\nworker: [rq\n", encoding="utf-8")
    files["a_list"].write_text("- db\n- sqlite\n", encoding="utf-8")
    files["unknown_key"].write_text("colour: blue\n", encoding="utf-8")
    files["null_name"].write_text("project_name: null\n", encoding="utf-8")
    before = listing(tmp_path)
    args = [flag.format(**{key: str(path) for key, path in files.items()}) for flag in flags]
    result = invoke("create", str(tmp_path / "svc"), "-y", *args)
    assert_one_line_error(result, message)
    assert listing(tmp_path) == before


def test_an_existing_non_empty_dest_needs_force(tmp_path: Path) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    (project / "notes.txt").write_text("mine\n", encoding="utf-8")
    before = listing(tmp_path)
    result = invoke("create", str(project), "-y")
    assert_one_line_error(result, "not empty", "--force")
    assert listing(tmp_path) == before


def test_a_dest_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "svc").write_text("", encoding="utf-8")
    result = invoke("create", str(tmp_path / "svc"), "-y")
    assert_one_line_error(result, "not a folder")


def test_a_dest_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = invoke("create", str(tmp_path / "file" / "svc"), "-y")
    assert_one_line_error(result, "not a folder", code=1)
    assert listing(tmp_path) == ["file"]


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """An empty folder in which nothing can be created, even by root."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    # Root ignores permission bits; a read-only file system refuses root too.
    mount = ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "newservice-test", str(folder)]
    mounted = subprocess.run(mount, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        reason = f"cannot mount a read-only folder: {mounted.stderr.strip()}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: every case must run)")
        pytest.skip(reason)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("dest", ["svc", "new/svc"])
def test_a_dest_whose_parent_is_not_writable_is_refused(read_only_folder: Path, dest: str) -> None:
    result = invoke("create", str(read_only_folder / dest), "-y")

    assert_one_line_error(result, "not writable", code=1)
    assert listing(read_only_folder) == []


def test_neither_dest_nor_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("create", "-y")
    assert_one_line_error(result, "--name")
    assert listing(tmp_path) == []


def test_debug_lets_the_traceback_through(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--db", "oracle", "--debug")
    assert result.exit_code != 0
    assert result.exception is not None
    assert "oracle" in str(result.exception)
    assert listing(tmp_path) == []


def test_ctrl_c_while_rendering_leaves_nothing(tmp_path: Path) -> None:
    # A template that renders for minutes unless interrupted: the real one renders in well
    # under a second, so a Ctrl-C aimed at its rendering could land after it ended. The
    # sandbox caps a range at 100,000, hence two nested loops. Copier creates the folder
    # `rendering` just before it renders the file inside it: once the folder exists, the
    # Ctrl-C lands in Copier's rendering, not in the imports before it.
    slow = tmp_path / "slow-template"
    (slow / "rendering").mkdir(parents=True)
    (slow / "copier.yml").write_text("project_name: {type: str}\n", encoding="utf-8")
    (slow / "rendering" / "slow.txt.jinja").write_text(
        "{% for _ in range(100000) %}{% for _ in range(100000) %}{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    work = tmp_path / "work"
    work.mkdir()
    # Started as from a terminal, with Ctrl-C's default action. A non-interactive shell starts
    # its background jobs (CI's test run) with SIGINT ignored, which their children inherit:
    # Python then raises no KeyboardInterrupt. A handler of this process's own is reset to
    # the default in the child.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "newservice", "create", "svc", "-y", "-q", "--template", slow],
            cwd=work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, ignored)
    deadline = time.monotonic() + 60
    try:
        while not list(work.glob(".svc-*/svc/rendering")):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the rendering never started"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()  # a failed test leaves no rendering behind, burning a core for hours
    assert process.returncode == 130, stderr
    assert stderr.strip() == "error: interrupted"
    assert listing(work) == []


def test_ctrl_c_that_lands_in_an_import_is_still_an_interrupt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What Python raises when the Ctrl-C lands in a class body's __set_name__ while Copier
    # (pydantic) is imported: the interrupt arrives wrapped in a RuntimeError.
    def interrupted_import(*_args: object, **_kwargs: object) -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as interrupt:
            raise RuntimeError("Error calling __set_name__") from interrupt

    monkeypatch.setattr("newservice.create.create", interrupted_import)
    result = invoke("create", str(tmp_path / "svc"), "-y")

    assert_one_line_error(result, "interrupted", code=130)


# --- in a real terminal ----------------------------------------------------------------


def run_in_terminal(
    args: list[str], cwd: Path, *, keys: list[bytes], timeout: float = 60
) -> tuple[int, str]:
    """Run `python -m newservice` on a pseudo-terminal, typing each key at a prompt.

    A key is sent once a question is on screen and the output has settled.
    """
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "newservice", *args],
        cwd=cwd,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={**os.environ, "TERM": "xterm", "COLUMNS": "100", "LINES": "30"},
        start_new_session=True,
    )
    os.close(terminal)
    output = b""
    pending = list(keys)
    prompts_seen = 0
    last_output = time.monotonic()
    deadline = last_output + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # the terminal closed: the program ended
                    break
                if not chunk:
                    break
                output += chunk
                last_output = time.monotonic()
                continue
            settled = time.monotonic() - last_output > 0.4
            # Questionary marks every question with a microphone.
            prompts = output.count("🎤".encode())
            if pending and settled and prompts > prompts_seen:
                prompts_seen = prompts
                os.write(controller, pending.pop(0))
            if process.poll() is not None and not ready:
                break
        code = process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    return code, output.decode("utf-8", "replace")


terminal_only = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")


@terminal_only
def test_enter_at_every_prompt_creates_a_working_project(tmp_path: Path) -> None:
    # Six questions with a default each: name, description, db, worker, broker, auth.
    code, output = run_in_terminal(["create", "ledger", "--no-git"], tmp_path, keys=[b"\r"] * 6)
    assert code == 0, output
    assert "Next steps" in output
    assert "compose.yaml" not in output  # no file list on a terminal either
    recorded = answers(tmp_path / "ledger")
    asked = ("project_name", "db", "worker", "broker", "auth")
    assert {key: recorded.get(key) for key in asked} == {
        "project_name": "ledger",
        "db": "postgresql",
        "worker": "celery",
        "broker": "redis",
        "auth": "jwt",
    }


@terminal_only
def test_flags_are_not_asked_again(tmp_path: Path) -> None:
    # Only the name and the description are left to ask.
    flags = ["--db", "sqlite", "--worker", "none", "--auth", "none", "--no-git"]
    code, output = run_in_terminal(["create", "ledger", *flags], tmp_path, keys=[b"\r"] * 2)
    assert code == 0, output
    recorded = answers(tmp_path / "ledger")
    assert (recorded["db"], recorded["worker"], recorded["auth"]) == ("sqlite", "none", "none")


@terminal_only
def test_a_bad_flag_is_refused_before_the_first_question(tmp_path: Path) -> None:
    code, output = run_in_terminal(["create", "ledger", "--db", "oracle"], tmp_path, keys=[])
    assert code == 2, output
    assert "🎤" not in output
    assert "--db: 'oracle' is not one of" in output
    assert listing(tmp_path) == []


@terminal_only
def test_ctrl_c_at_a_prompt_leaves_nothing(tmp_path: Path) -> None:
    code, output = run_in_terminal(["create", "ledger"], tmp_path, keys=[b"\r", b"\x03"])
    assert code == 130, output
    assert "interrupted" in output
    assert "Traceback" not in output
    assert listing(tmp_path) == []
