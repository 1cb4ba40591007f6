"""The fields of `newservice add resource`: `NAME:TYPE[:MODIFIER...]`, parsed and checked.

The grammar is the command's (Copier has no question type for it), so it lives
here; what each type becomes in the model, the schema and the migration lives in
the resource template. A field comes out as a plain mapping, stored in the
resource's answers file, so that an update renders the same fields again.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from newservice.errors import UsageError

TYPES = (
    "str", "text", "int", "bigint", "float", "decimal", "bool", "date", "datetime", "uuid",
    "json", "ref",
)  # fmt: skip
MODIFIERS = ("optional", "unique", "index")
# Every resource has these columns; a field may not take their names.
STANDARD_COLUMNS = ("id", "created_at", "updated_at")
OWNER_COLUMNS = ("owner", "owner_id")

DEFAULT_STR_LENGTH = 255
# The longest VARCHAR that MySQL's 4-byte UTF-8 holds in a row, and the longest it can
# index (InnoDB keys are at most 3072 bytes): the same on every database, so a resource
# moves between them.
MAX_STR_LENGTH = 16383
MAX_INDEXED_STR_LENGTH = 768
DEFAULT_DECIMAL = (12, 2)
MAX_DECIMAL_PRECISION = 38  # what every supported database stores exactly
# PostgreSQL truncates longer identifiers (MySQL refuses them); a truncated index name
# would no longer match the model's, and `alembic check` would fail.
MAX_IDENTIFIER_LENGTH = 63
# Long enough for any column name people write, short enough for every generated line
# that holds one to fit in 100 columns.
MAX_FIELD_NAME_LENGTH = 40

_BUILTINS = frozenset(dir(builtins))
_SNAKE = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
_STR = re.compile(r"str(?:\((?P<length>\d+)\))?")
_DECIMAL = re.compile(r"decimal(?:\((?P<precision>\d+),\s*(?P<scale>\d+)\))?")
_EXAMPLE = "e.g. title:str(80):unique, total:decimal(12,2), customer:ref:users:optional"


@dataclass(frozen=True)
class Domain:
    """A domain of the project that a `ref` may point to."""

    package: str
    """Its package, which is also its table: users, projects, invoices."""
    model: str
    """Its mapped class: User."""
    singular: str
    """Its model's name in snake_case, as its factory `add_<singular>` uses it: user."""
    owned: bool
    """Its rows have an owner (owner_id)."""
    visible_to: bool
    """Its service says which rows a user may see (`visible_to(viewer)`)."""
    factory_module: str
    """The test module whose `add_<singular>` makes a row of it: tests.factories."""


def parse_fields(
    specs: Sequence[str],
    *,
    owned: bool,
    domains: Mapping[str, Domain],
) -> list[dict[str, Any]]:
    """The fields `specs` describe, each checked on its own and against the others."""
    fields = [_parse(spec, domains) for spec in specs]
    taken = set(STANDARD_COLUMNS) | (set(OWNER_COLUMNS) if owned else set())
    seen: dict[str, str] = {}
    for spec, field in zip(specs, fields, strict=True):
        for name in _names_of(field):
            if name in taken:
                raise UsageError(f"field {spec!r}: '{name}' is a column every resource has")
            if name in seen:
                raise UsageError(f"field {spec!r}: '{name}' is named twice (also {seen[name]!r})")
            seen[name] = spec
    return fields


def check_identifiers(fields: Sequence[Mapping[str, Any]], *, plural: str) -> None:
    """Refuse a field whose index or constraint name PostgreSQL would truncate."""
    for field in fields:
        for identifier in _identifiers(plural, field):
            if len(identifier) > MAX_IDENTIFIER_LENGTH:
                raise UsageError(
                    f"field '{field['name']}': its database name {identifier} is"
                    f" {len(identifier)} characters, more than PostgreSQL keeps"
                    f" ({MAX_IDENTIFIER_LENGTH}); choose a shorter field or resource name"
                )


def _parse(spec: str, domains: Mapping[str, Domain]) -> dict[str, Any]:
    parts = spec.split(":")
    if len(parts) < 2 or not all(parts):  # NAME and TYPE at least
        raise UsageError(f"field {spec!r}: expected NAME:TYPE[:MODIFIER...], {_EXAMPLE}")
    name, kind, *modifiers = parts
    _check_name(spec, name)
    field: dict[str, Any] = {"name": name}
    if kind == "ref":
        if not modifiers:
            raise UsageError(f"field {spec!r}: name the domain it refers to, e.g. {name}:ref:users")
        field.update(_reference(spec, modifiers.pop(0), domains))
    else:
        field.update(_type(spec, kind))
    field.update(_modifiers(spec, field, modifiers))
    return field


def _check_name(spec: str, name: str) -> None:
    if not _SNAKE.fullmatch(name):
        raise UsageError(
            f"field {spec!r}: '{name}' is not a snake_case name (lower-case letters, digits"
            " and single underscores, starting with a letter)"
        )
    if len(name) > MAX_FIELD_NAME_LENGTH:
        raise UsageError(
            f"field {spec!r}: the name is longer than {MAX_FIELD_NAME_LENGTH} characters"
        )
    if name in STANDARD_COLUMNS:
        raise UsageError(f"field {spec!r}: '{name}' is a column every resource has")
    if keyword.iskeyword(name) or name in _BUILTINS:
        what = "keyword" if keyword.iskeyword(name) else "built-in name"
        raise UsageError(
            f"field {spec!r}: '{name}' is a Python {what}, which the resource's code would"
            " shadow; choose another name"
        )


def _modifiers(spec: str, field: Mapping[str, Any], given: Sequence[str]) -> dict[str, bool]:
    modifiers = dict.fromkeys(MODIFIERS, False)
    for modifier in given:
        if modifier not in MODIFIERS:
            raise UsageError(
                f"field {spec!r}: unknown modifier '{modifier}'; the modifiers are"
                f" {', '.join(MODIFIERS)}"
            )
        if modifiers[modifier]:
            raise UsageError(f"field {spec!r}: '{modifier}' is given twice")
        modifiers[modifier] = True
    indexed = modifiers["unique"] or modifiers["index"]
    if indexed and field["type"] in {"text", "json"}:
        raise UsageError(
            f"field {spec!r}: a {field['type']} field cannot be unique or indexed on every"
            " database; use str(N) for text that is"
        )
    if indexed and field.get("length", 0) > MAX_INDEXED_STR_LENGTH:
        raise UsageError(
            f"field {spec!r}: an indexed str holds at most {MAX_INDEXED_STR_LENGTH} characters"
            " (MySQL's longest key)"
        )
    if field["type"] == "ref":
        modifiers["index"] = True  # a foreign key is always indexed: joins and deletes need it
    return modifiers


def _type(spec: str, kind: str) -> dict[str, Any]:
    if match := _STR.fullmatch(kind):
        length = int(match["length"] or DEFAULT_STR_LENGTH)
        if not 1 <= length <= MAX_STR_LENGTH:
            raise UsageError(f"field {spec!r}: a str holds 1 to {MAX_STR_LENGTH} characters")
        return {"type": "str", "length": length}
    if match := _DECIMAL.fullmatch(kind):
        precision, scale = (
            (int(match["precision"]), int(match["scale"]))
            if match["precision"]
            else DEFAULT_DECIMAL
        )
        if not 1 <= precision <= MAX_DECIMAL_PRECISION or scale > precision:
            raise UsageError(
                f"field {spec!r}: decimal(PRECISION,SCALE) needs 1 <= PRECISION <="
                f" {MAX_DECIMAL_PRECISION} and SCALE <= PRECISION"
            )
        return {"type": "decimal", "precision": precision, "scale": scale}
    if kind in TYPES and kind not in {"str", "decimal", "ref"}:
        return {"type": kind}
    raise UsageError(
        f"field {spec!r}: unknown type '{kind}'; the types are str, str(N), text, int, bigint,"
        " float, decimal, decimal(P,S), bool, date, datetime, uuid, json and ref:DOMAIN"
    )


def _reference(spec: str, target: str, domains: Mapping[str, Domain]) -> dict[str, Any]:
    domain = domains.get(target)
    if domain is None:
        known = ", ".join(sorted(domains)) or "none"
        raise UsageError(
            f"field {spec!r}: the project has no domain '{target}' to refer to (its domains:"
            f" {known})"
        )
    return {
        "type": "ref",
        "ref": {
            "package": domain.package,
            "model": domain.model,
            "singular": domain.singular,
            "owned": domain.owned,
            "visible_to": domain.visible_to,
            "factory_module": domain.factory_module,
        },
    }


def _names_of(field: Mapping[str, Any]) -> Iterable[str]:
    """The attribute names a field takes on the model: a reference takes two."""
    yield field["name"]
    if field["type"] == "ref":
        yield f"{field['name']}_id"


def _identifiers(plural: str, field: Mapping[str, Any]) -> Iterable[str]:
    column = f"{field['name']}_id" if field["type"] == "ref" else field["name"]
    if field["index"]:
        yield f"ix_{plural}_{column}"
    elif field["unique"]:
        yield f"uq_{plural}_{column}"
    if field["type"] == "ref":
        yield f"fk_{plural}_{column}_{field['ref']['package']}"
