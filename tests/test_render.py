"""Rendering the template for each answer set: the files are there, nothing is left unrendered.

pytest-copie renders the repository's template (copier.yml at the repository
root) exactly as `copier copy` would, without the CLI in between.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes_validate.utils import ValidationError, validate
from pytest_copie.plugin import Copie

from tests import REPO
from tests.generated import MATRIX, Combination

PACKAGE = "render_check"


# What every generated service has, whatever the answers.
EVERYWHERE = [
    f"src/{PACKAGE}/main.py",
    f"src/{PACKAGE}/resources.py",
    f"src/{PACKAGE}/dependencies.py",
    f"src/{PACKAGE}/core/config.py",
    f"src/{PACKAGE}/db/engine.py",
    f"src/{PACKAGE}/db/session.py",
    f"src/{PACKAGE}/db/base.py",
    *(f"src/{PACKAGE}/{domain}/{module}.py"
      for domain in ("users", "projects")
      for module in ("models", "schemas", "service", "router")),
    f"src/{PACKAGE}/health.py",
    f"src/{PACKAGE}/reports/queue.py",
    "tests/faults.py",
    "tests/test_faults.py",
    "tests/reports/test_worker.py",
    "migrations/env.py",
    "alembic.ini",
    "compose.yaml",
    "Dockerfile",
    ".env.example",
    ".gitignore",
    "README.md",
    "pyproject.toml",
    ".copier-answers.yml",
]  # fmt: skip

# The import package each choice brings in as a dependency of the service.
DRIVERS = {"postgresql": "asyncpg", "mysql": "asyncmy", "sqlite": "aiosqlite"}
QUEUES = {"celery": "celery", "rq": "rq", "arq": "arq", "none": None}

TEXT_SUFFIXES = {
    "", ".py", ".toml", ".ini", ".cfg", ".md", ".txt", ".yaml", ".yml", ".json",
    ".example", ".mako", ".sh", ".env", ".gitignore", ".dockerignore",
}  # fmt: skip


def dependency_names(pyproject: Path) -> set[str]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project.get("dependencies", []):
        match = re.match(r"[A-Za-z0-9_.-]+", requirement)
        if match:
            names.add(match.group(0).lower().replace("_", "-"))
    return names


# The modules of worker/ for each worker setup; "none" has no worker/ at all.
WORKER_MODULES = {
    "celery": {"__init__.py", "jobs.py"},
    "rq": {"__init__.py", "jobs.py", "rq_config.py"},
    "arq": {"__init__.py", "__main__.py", "jobs.py"},
    "none": set(),
}

# A line that only the variant chosen for that answer has, in each module whose whole body
# is one template file per answer: the file names select exactly one of them.
VARIANT_MARKS = {
    f"src/{PACKAGE}/reports/queue.py": {
        "celery": "from celery import Celery",
        "rq": "from rq import Queue",
        "arq": "from arq.connections import ArqRedis",
        "none": 'class JobQueue:\n    """Runs each job as a task of this process',
    },
    "tests/reports/test_worker.py": {
        "celery": '"""Celery, for real',
        "rq": '"""RQ, for real',
        "arq": '"""arq, for real',
        "none": '"""Worker "none", for real',
    },
}
# The link tests/test_faults.py breaks the database through, for each database.
DATABASE_LINKS = {
    "postgresql": "class TcpProxy:",
    "mysql": "class TcpProxy:",
    "sqlite": "class VolumeLink:",
}


@pytest.mark.parametrize("case", MATRIX, ids=[case.id for case in MATRIX])
def test_template_renders(copie: Copie, case: Combination) -> None:
    answers = {"project_name": "Render Check", **case.answers()}
    result = copie.copy(extra_answers=answers, template_dir=REPO)
    assert result.exception is None, result.exception
    assert result.project_dir is not None
    project = result.project_dir

    missing = [path for path in EVERYWHERE if not (project / path).is_file()]
    assert missing == []

    recorded = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert {key: recorded.get(key) for key in answers} == answers

    files = [path for path in project.rglob("*") if ".git" not in path.parts]
    assert [p for p in files if p.name.endswith(".jinja") or "{{" in str(p)] == []
    assert [p for p in files if p.is_dir() and not any(p.iterdir())] == []
    unrendered = [
        str(path.relative_to(project))
        for path in files
        if path.is_file()
        and (path.suffix in TEXT_SUFFIXES or path.name.startswith("."))
        # ${{ ... }} is a GitHub Actions expression, not Jinja.
        and re.search(r"(?<!\$)\{\{|\{%", path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert unrendered == []

    dependencies = dependency_names(project / "pyproject.toml")
    assert "pwdlib" in dependencies
    for db, driver in DRIVERS.items():
        assert (driver in dependencies) == (db == case.db), (driver, sorted(dependencies))
    for worker, queue in QUEUES.items():
        if queue is not None:
            assert (queue in dependencies) == (worker == case.worker), (queue, sorted(dependencies))
    worker_package = project / "src" / PACKAGE / "worker"
    modules = {path.name for path in worker_package.iterdir()} if worker_package.exists() else set()
    assert modules == WORKER_MODULES[case.worker]
    shutdown_test = project / "tests" / "reports" / "test_worker_shutdown.py"
    assert shutdown_test.is_file() == (case.worker != "none")
    # Only a worker serves metrics of its own.
    worker_metrics = project / "src" / PACKAGE / "core" / "worker_metrics.py"
    assert worker_metrics.is_file() == (case.worker != "none")
    # Authentication is all there with auth=jwt, and leaves no trace with auth=none.
    authenticated = case.auth == "jwt"
    auth_dependencies = {"pyjwt", "python-multipart"}
    assert auth_dependencies & dependencies == (auth_dependencies if authenticated else set())
    auth_parts = [
        project / "src" / PACKAGE / "auth",
        project / "src" / PACKAGE / "admin.py",
        project / "tests" / "auth",
        project / "migrations" / "versions" / "0003_authentication.py",
    ]
    assert [part.exists() for part in auth_parts] == [authenticated] * len(auth_parts)
    for path, marks in VARIANT_MARKS.items():
        text = (project / path).read_text(encoding="utf-8")
        assert [worker for worker, mark in marks.items() if mark in text] == [case.worker], path
    assert DATABASE_LINKS[case.db] in (project / "tests" / "faults.py").read_text(encoding="utf-8")
    check_shipping_files(project)
    check_kubernetes_manifests(project, case)


# What each linter is asked to check, with the arguments that make a warning a failure.
LINTERS = (
    ["check-jsonschema", "--builtin-schema", "vendor.github-workflows", ".github/workflows/ci.yml"],
    ["check-jsonschema", "--builtin-schema", "custom.github-workflows-require-timeout",
     ".github/workflows/ci.yml"],
    ["check-jsonschema", "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"],
    ["hadolint", "--failure-threshold", "info", "Dockerfile"],
)  # fmt: skip


def check_shipping_files(project: Path) -> None:
    """The workflow, Dependabot's settings and the Dockerfile pass their linters; the build
    context keeps out local settings, environments and history."""
    tools = Path(sys.executable).parent
    for command in LINTERS:
        linted = subprocess.run(
            [str(tools / command[0]), *command[1:]],
            cwd=project, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert linted.returncode == 0, (command, linted.stdout, linted.stderr)
    ignored = (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".env", ".venv/", ".git/", "__pycache__/", ".mypy_cache/"} <= set(ignored)
    workflow = yaml.safe_load((project / ".github" / "workflows" / "ci.yml").read_text("utf-8"))
    assert workflow["permissions"] == {"contents": "read"}
    used = [step["uses"] for job in workflow["jobs"].values() for step in job["steps"]
            if "uses" in step]  # fmt: skip
    # Every action at an exact release, never a moving branch or major tag.
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", uses) for uses in used), used


# The Kubernetes release whose API schemas the manifests are validated against, offline.
KUBERNETES_VERSION = "1.30"
SLUG = PACKAGE.replace("_", "-")
# The Secrets' files: created out of band, never listed by a kustomization (applying the
# placeholders would overwrite the real Secret).
UNLISTED = {"secret.yaml"}


def check_kubernetes_manifests(project: Path, case: Combination) -> None:
    """deploy/k8s/: every manifest valid for the Kubernetes API, every file listed by its
    kustomization, placeholders only in the Secrets, and shutdowns that fit their grace periods."""
    root = project / "deploy" / "k8s"
    manifests: dict[Path, list[dict[str, Any]]] = {}
    for path in sorted(root.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        # As the generated project's pre-commit hooks want every file.
        assert text.endswith("\n") and not text.endswith("\n\n"), path
        assert not re.search(r"[ \t]$", text, flags=re.MULTILINE), path
        manifests[path.relative_to(root)] = [doc for doc in yaml.safe_load_all(text) if doc]
    resources = {
        name: docs for name, docs in manifests.items() if name.name != "kustomization.yaml"
    }
    for name, documents in resources.items():
        for document in documents:
            try:
                validate(document, KUBERNETES_VERSION, strict=True)
            except ValidationError as error:
                pytest.fail(f"deploy/k8s/{name}: {error.message}")

    # Each kustomization lists exactly the files beside it, so that a conditional file
    # cannot be left out (or listed where it was not rendered).
    for name in (name for name in manifests if name.name == "kustomization.yaml"):
        [kustomization] = manifests[name]
        listed = [*kustomization.get("resources", []),
                  *(patch["path"] for patch in kustomization.get("patches", []))]  # fmt: skip
        present = [other.name for other in resources
                   if other.parent == name.parent and other.name not in UNLISTED]  # fmt: skip
        assert sorted(listed) == sorted(present), name
    [main] = manifests[Path("kustomization.yaml")]
    assert main["labels"] == [{"pairs": {"app.kubernetes.io/name": SLUG}, "includeSelectors": True}]
    # PgBouncer is a component for PostgreSQL alone, and off until a team turns it on.
    assert "components" not in main
    assert (root / "pgbouncer").is_dir() == (case.db == "postgresql")

    service = {(document["kind"], document["metadata"]["name"]): document
               for name, documents in resources.items() if name.parent == Path()
               for document in documents}  # fmt: skip
    # The service's image is named once, in the kustomization, which sets its registry and tag.
    [image] = main["images"]
    pods = [document["spec"]["template"]["spec"] for document in service.values()
            if document["kind"] in {"Deployment", "Job"}]  # fmt: skip
    containers = [c for pod in pods for c in (*pod["containers"], *pod.get("initContainers", []))]
    assert {container["image"] for container in containers} == {image["name"]}

    secrets = [document for documents in resources.values() for document in documents
               if document["kind"] == "Secret"]  # fmt: skip
    assert secrets
    for secret in secrets:
        assert "data" not in secret
        real = [
            key for key, value in secret["stringData"].items() if value and "change-me" not in value
        ]
        assert real == [], secret["metadata"]["name"]

    # The API's grace period holds its shutdown: the preStop sleep, the drain, then uvicorn's
    # graceful timeout (the image's).
    settings = service["ConfigMap", f"{SLUG}-config"]["data"]
    api = service["Deployment", f"{SLUG}-api"]
    api_pod = api["spec"]["template"]["spec"]
    [api_container] = [c for c in api_pod["containers"] if c["name"] == "api"]
    sleep, seconds = api_container["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep == "sleep"
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    graceful = re.search(r'"--timeout-graceful-shutdown", "(\d+)"', dockerfile)
    assert graceful is not None
    shutdown = int(seconds) + float(settings["SHUTDOWN_DRAIN_SECONDS"]) + int(graceful.group(1))
    assert api_pod["terminationGracePeriodSeconds"] >= shutdown
    if case.worker != "none":
        # SQLite's worker shares the API's pod (and volume).
        worker = api if case.db == "sqlite" else service["Deployment", f"{SLUG}-worker"]
        grace = worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace > int(settings["JOB_TIMEOUT_SECONDS"])
    autoscaler = service.get(("HorizontalPodAutoscaler", f"{SLUG}-api"))
    if case.db == "sqlite":
        # One writer: one pod, replaced, never rolled.
        assert autoscaler is None
        assert (api["spec"]["replicas"], api["spec"]["strategy"]) == (1, {"type": "Recreate"})
    else:
        # The connection budget is checked against DB_EXPECTED_REPLICAS.
        assert autoscaler is not None
        assert autoscaler["spec"]["maxReplicas"] == int(settings["DB_EXPECTED_REPLICAS"])
