"""`newservice update` and `check-update` on real git repositories in temporary folders.

Each test builds its own tagged template history (tests/template_repos.py), so
none depends on this repository's tags. The last group builds a wheel from a
shallow, tagless clone of this repository, as a CI clone may be, installs it in
a fresh virtual environment and uses its built-in template history.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

import hatch_build
from newservice import history
from newservice.template_layout import BUILD_REFS
from tests import REPO
from tests.commands import answers, assert_one_line_error, invoke, path_with_uv
from tests.generated import Combination, check_project, run
from tests.servers import require
from tests.template_repos import (
    V2_CHANGE,
    add_v2,
    commit_all,
    git,
    template_repository,
    template_repository_before_question,
    tree,
)

# Any attempt to reach the network fails: updates must work offline.
OFFLINE = {
    "GIT_ALLOW_PROTOCOL": "file",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's history: v1, then v2 (a changelog section at the end of README.md)."""
    return template_repository(tmp_path_factory.mktemp("template") / "repo")


def generate(
    template: Path | str,
    dest: Path,
    ref: str = "v1",
    *flags: str,
    env: dict[str, str | None] | None = None,
) -> Path:
    """A project made from `template` at `ref` (sqlite, no worker), committed by newservice."""
    result = invoke(
        "create", str(dest), "-y", "--quiet", "--db", "sqlite", "--worker", "none",
        "--template", str(template), "--vcs-ref", ref, *flags, env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return dest


def edit_first_line(path: Path, line: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(line + "\n" + "".join(lines[1:]), encoding="utf-8")


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def package(project: Path) -> str:
    value = answers(project)["project_name"]
    assert isinstance(value, str)
    return value.replace("-", "_")


USER_TITLE = "# svc: the team's billing service"
USER_NOTE = "\n# Our note: health checks stay cheap.\n"
USER_ENDING = "\n## Our deployment notes\n\nDeploy on Tuesdays only.\n"


# --- 1. edits on both sides, apart -------------------------------------------------


def test_update_keeps_the_users_edits_and_applies_the_template_change(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "svc")
    readme = project / "README.md"
    health = project / "src" / package(project) / "health.py"
    edit_first_line(readme, USER_TITLE)  # v2 changes README.md too, at its end
    append(health, USER_NOTE)  # v2 does not touch health.py
    commit_all(project, "Our edits")

    result = invoke("update", str(project))

    assert result.exit_code == 0, result.output
    text = readme.read_text(encoding="utf-8")
    assert text.startswith(USER_TITLE + "\n")
    assert text.endswith(V2_CHANGE)
    assert health.read_text(encoding="utf-8").endswith(USER_NOTE)
    assert answers(project)["_commit"] == "v2"
    assert "from template v1 to v2" in result.stdout
    assert "README.md" in result.stdout
    assert "git diff HEAD" in result.stdout


# --- 2. edits on both sides, overlapping ---------------------------------------------


def test_an_overlapping_edit_is_left_as_inline_conflict_markers(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "svc")
    append(project / "README.md", USER_ENDING)  # v2 appends at the same place
    commit_all(project, "Our notes")

    result = invoke("update", str(project))

    assert result.exit_code == 3, result.output
    text = (project / "README.md").read_text(encoding="utf-8")
    assert "<<<<<<< before updating" in text
    assert ">>>>>>> after updating" in text
    assert USER_ENDING.strip() in text  # nothing of the user's is lost
    assert "Template v2 adds this section." in text
    assert "1 with conflicts" in result.stdout
    assert "git add -A" in result.stdout
    assert "--theirs" not in result.stdout
    assert "git reset --hard && git clean -fd" in result.stdout
    assert answers(project)["_commit"] == "v2"


def test_an_overlapping_edit_is_left_in_a_rej_file_with_conflict_rej(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "svc")
    append(project / "README.md", USER_ENDING)
    commit_all(project, "Our notes")

    result = invoke("update", str(project), "--conflict", "rej")

    assert result.exit_code == 3, result.output
    # README.md has the template's new version; the user's change waits in the .rej.
    assert (project / "README.md").read_text(encoding="utf-8").endswith(V2_CHANGE)
    rejected = (project / "README.md.rej").read_text(encoding="utf-8")
    assert "+Deploy on Tuesdays only." in rejected
    assert "README.md.rej" in result.stdout
    assert "YOUR change" in result.stdout
    assert "--theirs" not in result.stdout


# --- 3. changing an answer -------------------------------------------------------------


@pytest.mark.e2e
def test_switching_the_worker_to_arq_adds_it_and_the_project_passes_its_checks(
    tmp_path: Path, worker_id: str
) -> None:
    combo = Combination("sqlite", "arq")
    for server in combo.servers():
        require(server)
    repo = template_repository(tmp_path / "template", v2=False)
    project = generate(repo, tmp_path / "e2e_update_arq")
    assert not (project / "src" / "e2e_update_arq" / "worker").exists()

    result = invoke("update", str(project), "--data", "worker=arq")

    assert result.exit_code == 0, result.output
    assert answers(project)["worker"] == "arq"
    assert "worker: none -> arq" in result.stdout
    assert (project / "src" / "e2e_update_arq" / "worker").is_dir()
    assert "arq" in (project / "pyproject.toml").read_text(encoding="utf-8")
    commit_all(project, "Switch the worker to arq")

    # Redis database 15: one that no combination of test_generated.py uses.
    check_project(project, combo, redis_index=15, worker_id=worker_id)


def test_an_update_that_changes_the_dependencies_re_locks_them(tmp_path: Path) -> None:
    with_uv: dict[str, str | None] = {"PATH": path_with_uv()}
    repo = template_repository(tmp_path / "template", v2=False)
    project = generate(repo, tmp_path / "svc", "v1", env=with_uv)
    assert 'name = "arq"' not in (project / "uv.lock").read_text(encoding="utf-8")

    result = invoke("update", str(project), "--data", "worker=arq", env=with_uv)

    assert result.exit_code == 0, result.output
    assert 'name = "arq"' in (project / "uv.lock").read_text(encoding="utf-8")
    assert re.search(r"uv\.lock +written by `uv lock`", result.stdout)


def test_an_update_that_keeps_the_dependencies_leaves_the_lock_alone(
    template: Path, tmp_path: Path
) -> None:
    with_uv: dict[str, str | None] = {"PATH": path_with_uv()}
    project = generate(template, tmp_path / "svc", "v1", env=with_uv)
    locked = (project / "uv.lock").read_text(encoding="utf-8")

    result = invoke("update", str(project), env=with_uv)  # v2 changes README.md only

    assert result.exit_code == 0, result.output
    assert (project / "uv.lock").read_text(encoding="utf-8") == locked
    assert "uv.lock" not in result.stdout


@pytest.fixture(scope="module")
def template_before_auth(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """v1 predates the `auth` question; v2 asks it."""
    return template_repository_before_question(
        tmp_path_factory.mktemp("template-before-auth") / "repo", "auth"
    )


def test_a_project_made_before_the_auth_question_keeps_a_public_api(
    template_before_auth: Path, tmp_path: Path
) -> None:
    project = generate(template_before_auth, tmp_path / "svc", "v1")
    assert "auth" not in answers(project)

    result = invoke("update", str(project))

    assert result.exit_code == 0, result.output
    assert answers(project)["_commit"] == "v2"
    assert answers(project)["auth"] == "none"
    assert "auth: (not set) -> none" in result.stdout
    # Nothing of authentication arrived: the API stays as public as it was.
    assert not (project / "src" / package(project) / "auth").exists()
    assert "pyjwt" not in (project / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.e2e
def test_a_project_made_before_the_auth_question_opts_in_and_passes_its_checks(
    template_before_auth: Path, tmp_path: Path, worker_id: str
) -> None:
    combo = Combination("sqlite", "none")
    project = generate(template_before_auth, tmp_path / "e2e_update_auth", "v1")
    assert not (project / "src" / "e2e_update_auth" / "auth").exists()

    result = invoke("update", str(project), "--data", "auth=jwt")

    assert result.exit_code == 0, result.output
    assert answers(project)["auth"] == "jwt"
    assert "auth: (not set) -> jwt" in result.stdout
    assert (project / "src" / "e2e_update_auth" / "auth").is_dir()
    assert (project / "migrations" / "versions" / "0003_authentication.py").is_file()
    commit_all(project, "Authentication")

    # Its tests migrate an empty database up and down again, check that the models and
    # the migrations agree, and cover every rule of authentication.
    check_project(project, combo, redis_index=14, worker_id=worker_id)


def test_a_new_project_gets_auth_by_default(template_before_auth: Path, tmp_path: Path) -> None:
    project = generate(template_before_auth, tmp_path / "svc", "v2")
    assert answers(project)["auth"] == "jwt"


# --- 4. no edits: an update is a fresh generation ----------------------------------------


def test_an_update_without_edits_gives_what_a_fresh_generation_gives(
    template: Path, tmp_path: Path
) -> None:
    updated = generate(template, tmp_path / "updated" / "svc", "v1")
    result = invoke("update", str(updated))
    assert result.exit_code == 0, result.output
    fresh = generate(template, tmp_path / "fresh" / "svc", "v2")
    assert tree(updated) == tree(fresh)


# --- 5. another machine -----------------------------------------------------------------


def test_a_teammate_with_another_home_folder_updates_offline(tmp_path: Path) -> None:
    repo = template_repository(tmp_path / "template", v2=False)
    mine, theirs = tmp_path / "home-mine", tmp_path / "home-theirs"
    for home in (mine, theirs):
        (home / "templates").mkdir(parents=True)
    git(repo, "bundle", "create", str(mine / "templates" / "svc.bundle"), "--all")
    project = generate(
        "~/templates/svc.bundle", tmp_path / "svc", env={"HOME": str(mine), **OFFLINE}
    )
    assert answers(project)["_src_path"] == "~/templates/svc.bundle"
    # The teammate's machine: another home folder, with a newer template history.
    add_v2(repo)
    git(repo, "bundle", "create", str(theirs / "templates" / "svc.bundle"), "--all")
    shutil.rmtree(mine)

    result = invoke("update", str(project), env={"HOME": str(theirs), **OFFLINE})

    assert result.exit_code == 0, result.output
    assert answers(project)["_commit"] == "v2"
    assert answers(project)["_src_path"] == "~/templates/svc.bundle"
    assert (project / "README.md").read_text(encoding="utf-8").endswith(V2_CHANGE)


# --- 6. plain Copier --------------------------------------------------------------------


def test_plain_copier_update_needs_no_trust(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc")
    edit_first_line(project / "README.md", USER_TITLE)
    commit_all(project, "Our edits")
    copier = Path(sys.executable).parent / "copier"

    completed = subprocess.run(
        [str(copier), "update", "--defaults"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert answers(project)["_commit"] == "v2"
    text = (project / "README.md").read_text(encoding="utf-8")
    assert text.startswith(USER_TITLE + "\n")
    assert text.endswith(V2_CHANGE)


def test_the_built_in_template_uses_no_feature_that_needs_trust() -> None:
    config = yaml.safe_load((REPO / "copier.yml").read_text(encoding="utf-8"))
    unsafe = {"_tasks", "_migrations", "_jinja_extensions", "_external_data"}
    assert unsafe & set(config) == set()


def test_another_template_runs_its_tasks_only_with_trust(tmp_path: Path) -> None:
    repo = template_repository(tmp_path / "template", v2=False)
    append(repo / "copier.yml", '\n_tasks:\n  - "touch task-ran"\n')
    commit_all(repo, "A task")
    git(repo, "tag", "v1.1")

    refused = invoke("create", str(tmp_path / "svc"), "-y", "--template", str(repo))
    assert_one_line_error(refused, "tasks", "--trust")
    assert not (tmp_path / "svc").exists()

    trusted = invoke("create", str(tmp_path / "svc"), "-y", "--template", str(repo), "--trust")
    assert trusted.exit_code == 0, trusted.output
    assert (tmp_path / "svc" / "task-ran").exists()


# --- what update refuses ------------------------------------------------------------------


def test_a_folder_that_is_not_a_generated_project_is_refused(tmp_path: Path) -> None:
    result = invoke("update", str(tmp_path))
    assert_one_line_error(result, "not a project generated by newservice", ".copier-answers.yml")


def test_a_dirty_work_tree_is_refused(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc")
    append(project / "README.md", USER_ENDING)
    (project / "notes.txt").write_text("draft\n", encoding="utf-8")

    result = invoke("update", str(project))

    assert_one_line_error(result, "uncommitted changes", "commit or stash", code=1)
    assert answers(project)["_commit"] == "v1"
    assert (project / "README.md").read_text(encoding="utf-8").endswith(USER_ENDING)


def test_a_project_outside_git_is_refused(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc", "v1", "--no-git")
    result = invoke("update", str(project))
    assert_one_line_error(result, "not in a git repository", code=1)


def test_a_project_newer_than_the_template_is_refused(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc", "v2")

    result = invoke("update", str(project), "--vcs-ref", "v1")

    assert_one_line_error(result, "project is at template v2", "newer", "v1", code=1)
    assert answers(project)["_commit"] == "v2"


def test_a_project_whose_commit_is_missing_from_the_history_is_refused(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "svc")
    answers_file = project / ".copier-answers.yml"
    answers_file.write_text(
        answers_file.read_text(encoding="utf-8").replace("_commit: v1", "_commit: v7"),
        encoding="utf-8",
    )
    commit_all(project, "Made by a newer newservice")

    for command in ("update", "check-update"):
        result = invoke(command, str(project))
        assert_one_line_error(result, "v7", "not in the history", "newer", "v2", code=1)


def test_bad_data_is_refused_before_anything_is_written(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc")
    head = git(project, "rev-parse", "HEAD")

    unknown = invoke("update", str(project), "--data", "colour=blue")
    assert_one_line_error(unknown, "unknown question 'colour'")
    invalid = invoke("update", str(project), "--data", "worker=oracle")
    assert_one_line_error(invalid, "--data worker", "oracle")

    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == head


def test_an_unknown_vcs_ref_is_refused(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc")
    result = invoke("update", str(project), "--vcs-ref", "v9")
    assert_one_line_error(result, "--vcs-ref v9")


# --- pretend, check-update ---------------------------------------------------------------


def test_pretend_shows_the_update_and_writes_nothing(template: Path, tmp_path: Path) -> None:
    project = generate(template, tmp_path / "svc")
    before = tree(project)

    result = invoke("update", str(project), "--pretend")

    assert result.exit_code == 0, result.output
    assert "Nothing was written (--pretend)" in result.stdout
    assert "README.md" in result.stdout
    assert tree(project) == before
    assert git(project, "status", "--porcelain") == ""


def test_check_update_exit_codes_say_whether_an_update_is_available(
    template: Path, tmp_path: Path
) -> None:
    project = generate(template, tmp_path / "svc")

    behind = invoke("check-update", str(project))
    assert behind.exit_code == 10, behind.output
    assert "project at v1, latest template v2" in behind.stdout

    assert invoke("update", str(project)).exit_code == 0
    commit_all(project, "Update to v2")
    current = invoke("check-update", str(project))
    assert current.exit_code == 0, current.output
    assert "project at v2, latest template v2" in current.stdout


def test_a_development_checkout_records_only_commits_it_has(tmp_path: Path) -> None:
    result = invoke("create", str(tmp_path / "svc"), "-y", "--quiet", "--no-git")
    assert result.exit_code == 0, result.output
    recorded = answers(tmp_path / "svc")
    if "_commit" in recorded:  # a clean checkout; a dirty one records none
        git(REPO, "rev-parse", "--verify", f"{recorded['_commit']}^{{commit}}")


# --- the template history: built into the wheel, stored per user ------------------------------


def bundle_heads(bundle: Path) -> dict[str, str]:
    heads = history.list_heads(bundle)
    assert heads is not None
    return heads


def test_the_build_bundles_tags_and_a_snapshot_of_uncommitted_template_edits(
    tmp_path: Path,
) -> None:
    repo = template_repository(tmp_path / "repo")
    head = git(repo, "rev-parse", "HEAD")
    refs_before = git(repo, "for-each-ref")
    append(repo / "template" / "README.md.jinja", "Uncommitted.\n")

    hatch_build.make_bundle(repo, tmp_path / "t.bundle", "2")

    heads = bundle_heads(tmp_path / "t.bundle")
    build = heads["HEAD"]
    assert build != head
    assert heads[f"{BUILD_REFS}{build}"] == build
    assert heads["refs/tags/v2"] == git(repo, "rev-parse", "v2")
    assert "refs/tags/v1" in heads
    # The repository is untouched: no new refs, and the edit is still uncommitted.
    assert git(repo, "for-each-ref") == refs_before
    assert git(repo, "status", "--porcelain") == "M template/README.md.jinja"
    # The snapshot commit was written to the bundle only, not into the repository.
    written = subprocess.run(["git", "cat-file", "-e", build], cwd=repo, check=False)
    assert written.returncode != 0


def test_the_store_only_grows_an_older_newservice_keeps_a_newer_ones_history(
    tmp_path: Path,
) -> None:
    repo = template_repository(tmp_path / "repo", v2=False)
    hatch_build.make_bundle(repo, tmp_path / "older.bundle", "1")
    add_v2(repo)
    hatch_build.make_bundle(repo, tmp_path / "newer.bundle", "2")
    store = tmp_path / "home" / ".local" / "share" / "newservice" / "template.bundle"

    newer_build = history.install(tmp_path / "newer.bundle", store)
    older_build = history.install(tmp_path / "older.bundle", store)

    heads = bundle_heads(store)
    assert heads["refs/tags/v2"] == newer_build
    assert heads[f"{BUILD_REFS}{newer_build}"] == newer_build
    assert heads[f"{BUILD_REFS}{older_build}"] == older_build
    assert heads["HEAD"] == newer_build  # plain `copier update` without tags goes forward
    before = store.stat().st_mtime_ns
    history.install(tmp_path / "older.bundle", store)
    assert store.stat().st_mtime_ns == before  # nothing new: the store is not rewritten


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """newservice's console script from a wheel built off a shallow, tagless clone.

    The clone has this checkout's work tree (uncommitted edits included) on top
    of its HEAD, and is deleted once the wheel is built. The wheel goes into a
    fresh virtual environment; its dependencies come from this test run's
    environment through a .pth file, so nothing is downloaded.
    """
    scratch = tmp_path_factory.mktemp("wheel")
    clone = scratch / "clone"
    git(scratch, "clone", "--quiet", "--depth", "1", "--no-tags", f"file://{REPO}", str(clone))
    for path in git(REPO, "ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        source, copy = REPO / path, clone / path
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.is_file():
            copy.unlink()
    dist = scratch / "dist"
    run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(clone)],
        cwd=scratch)  # fmt: skip
    shutil.rmtree(clone)
    (wheel,) = dist.glob("*.whl")

    venv = scratch / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=scratch)
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)], cwd=scratch)  # fmt: skip
    site = run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
               cwd=scratch).stdout.strip()  # fmt: skip
    dependencies = sysconfig.get_paths()["purelib"]
    Path(site, "_test_dependencies.pth").write_text(dependencies + "\n", encoding="utf-8")
    return venv / "bin" / "newservice"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def installed_run(
    script: Path, *args: str, home: Path, cwd: Path, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(HOME=str(home), **OFFLINE)
    completed = subprocess.run(
        [str(script), *args], cwd=cwd, env=env, capture_output=True, text=True,
        stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    if check:
        assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def test_an_installed_wheel_records_its_template_history_and_updates(
    installed: Path, home: Path, tmp_path: Path
) -> None:
    python = installed.parent / "python"
    where = run([str(python), "-c", "import newservice; print(newservice.__file__)"],
                cwd=tmp_path).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(installed.parents[1])

    installed_run(installed, "create", "svc", "-y", "-q", "--db", "sqlite", "--worker", "none",
                  home=home, cwd=tmp_path)  # fmt: skip
    project = tmp_path / "svc"
    recorded = answers(project)
    assert recorded["_src_path"] == history.STORE_URL
    store = home / ".local" / "share" / "newservice" / "template.bundle"
    assert store.is_file()
    # The recorded commit exists in the stored history.
    git(tmp_path, "clone", "--quiet", "--mirror", str(store), str(tmp_path / "stored.git"))
    git(tmp_path / "stored.git", "rev-parse", "--verify", f"{recorded['_commit']}^{{commit}}")

    updated = installed_run(installed, "update", home=home, cwd=project)
    assert "nothing changed" in updated.stdout
    assert git(project, "status", "--porcelain") == ""
    checked = installed_run(installed, "check-update", home=home, cwd=project)
    assert "Up to date" in checked.stdout

    copier = Path(sys.executable).parent / "copier"
    completed = subprocess.run(
        [str(copier), "update", "--defaults"],
        cwd=project,
        env={**os.environ, "HOME": str(home), **OFFLINE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert git(project, "status", "--porcelain") == ""


def test_an_installed_wheel_updates_on_a_teammates_machine(
    installed: Path, home: Path, tmp_path: Path
) -> None:
    installed_run(installed, "create", "svc", "-y", "-q", home=home, cwd=tmp_path)
    teammate = tmp_path / "teammate-home"
    teammate.mkdir()

    updated = installed_run(installed, "update", "svc", home=teammate, cwd=tmp_path)

    assert "nothing changed" in updated.stdout
    assert (teammate / ".local" / "share" / "newservice" / "template.bundle").is_file()


def test_an_installed_wheel_refuses_a_project_made_by_a_newer_newservice(
    installed: Path, home: Path, tmp_path: Path
) -> None:
    installed_run(installed, "create", "svc", "-y", "-q", home=home, cwd=tmp_path)
    project = tmp_path / "svc"
    answers_file = project / ".copier-answers.yml"
    recorded = answers(project)["_commit"]
    answers_file.write_text(
        answers_file.read_text(encoding="utf-8").replace(
            f"_commit: {recorded}", "_commit: v99.0.0"
        ),
        encoding="utf-8",
    )
    commit_all(project, "Updated by a teammate's newer newservice")

    refused = installed_run(installed, "update", home=home, cwd=project, check=False)

    assert refused.returncode == 1, refused.stdout + refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, refused.stderr
    assert "v99.0.0" in lines[0]
    assert "upgrade newservice" in lines[0]
