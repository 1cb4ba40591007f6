"""The naming rules in includes/naming.jinja stay honest, checked through Copier itself.

Every standard-library module of the running Python and every keyword must be
refused as a project name; names with accents must fold to the expected package.
"""

from __future__ import annotations

import builtins
import keyword
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from copier import run_copy

from tests import REPO


@pytest.fixture(scope="module")
def questions_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """copier.yml and its includes in a plain folder, without the template's files.

    Copier reads a plain folder without a git clone, which keeps checking some
    hundreds of names fast; the questions and their rules are the repository's own.
    """
    root = tmp_path_factory.mktemp("questions")
    shutil.copy2(REPO / "copier.yml", root / "copier.yml")
    shutil.copytree(REPO / "includes", root / "includes")
    (root / "template").mkdir()
    (root / "resource_template").mkdir()
    return root


def settle(template: Path, project_name: str) -> dict[str, Any]:
    """The answers Copier settles on for `project_name`, everything else by default."""
    worker = run_copy(
        str(template),
        template.parent / "never-written" / "project",
        data={"project_name": project_name},
        defaults=True,
        pretend=True,
        quiet=True,
        exclude=("*",),
    )
    return dict(worker.answers.combined)


def refusal(template: Path, project_name: str) -> str | None:
    try:
        settle(template, project_name)
    except ValueError as error:
        return str(error)
    return None


STDLIB = sorted(name for name in sys.stdlib_module_names if not name.startswith("_"))
CHUNKS = 4


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_stdlib_module_is_refused(questions_only: Path, chunk: int) -> None:
    wrong = {}
    for name in STDLIB[chunk::CHUNKS]:
        message = refusal(questions_only, name)
        if message is None or "standard-library" not in message:
            wrong[name] = message
    assert wrong == {}


def settle_resource(template: Path, name: str) -> dict[str, Any]:
    """The answers Copier settles on for a resource named `name`."""
    worker = run_copy(
        str(template),
        template.parent / "never-written" / "project",
        data={"project_name": "svc", "resource_name": name, "resource_down_revision": "0001"},
        defaults=True,
        pretend=True,
        quiet=True,
        exclude=("*",),
    )
    return dict(worker.answers.combined)


def resource_refusal(template: Path, name: str) -> str | None:
    """Why Copier refuses `name` as a resource's name, or None."""
    try:
        settle_resource(template, name)
    except ValueError as error:
        return str(error)
    return None


def test_every_builtin_name_is_refused_as_a_resource(questions_only: Path) -> None:
    """A resource's name names its local variables: none may shadow a built-in."""
    wrong = {}
    for name in (word for word in dir(builtins) if word.islower() and word[0] != "_"):
        message = resource_refusal(questions_only, name)
        if message is None or "built-in" not in message:
            wrong[name] = message
    assert wrong == {}


@pytest.mark.parametrize(
    ("name", "plural", "model"),
    [
        ("order_line", "order_lines", "OrderLine"),
        ("box", "boxes", "Box"),
        ("category", "categories", "Category"),
        ("day", "days", "Day"),
        ("batch", "batches", "Batch"),
        ("item2", "item2s", "Item2"),
    ],
)
def test_a_resource_name_gives_its_plural_and_model(
    questions_only: Path, name: str, plural: str, model: str
) -> None:
    answers = settle_resource(questions_only, name)
    assert (answers["resource_plural"], answers["resource_class"]) == (plural, model)


def test_every_lowercase_keyword_is_refused(questions_only: Path) -> None:
    wrong = {}
    for name in (word for word in keyword.kwlist if word.islower()):
        message = refusal(questions_only, name)
        if message is None or "keyword" not in message:
            wrong[name] = message
    assert wrong == {}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("test", "standard-library"),
        ("Asyncio", "standard-library"),
        ("fastapi", "depends on"),
        ("pwdlib", "depends on"),
        ("3d", "digit"),
        ("!!!", "no letters or digits"),
        ("   ", "must not be empty"),
        ("Сервис", "ASCII"),
        ("Café 東京", "ASCII"),
    ],
)
def test_bad_names_are_refused_with_the_reason(
    questions_only: Path, name: str, reason: str
) -> None:
    message = refusal(questions_only, name)
    assert message is not None
    assert reason in message


@pytest.mark.parametrize(
    ("name", "slug", "package"),
    [
        ("Café Service", "cafe-service", "cafe_service"),
        ("Crème Brûlée", "creme-brulee", "creme_brulee"),
        ("Straße Bahn", "strasse-bahn", "strasse_bahn"),
        ("Łódź Tools", "lodz-tools", "lodz_tools"),
        ("Ærø Ferries", "aero-ferries", "aero_ferries"),
        ("  Billing API  ", "billing-api", "billing_api"),
        ("my_service2", "my-service2", "my_service2"),
    ],
)
def test_good_names_give_the_expected_package(
    questions_only: Path, name: str, slug: str, package: str
) -> None:
    answers = settle(questions_only, name)
    assert (answers["project_slug"], answers["package_name"]) == (slug, package)
