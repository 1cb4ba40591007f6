"""Rows as plain data, for reads that skip the ORM's entities."""

from typing import Any

from sqlalchemy import Result


def as_dicts(result: Result[Any]) -> list[dict[str, Any]]:
    """The rows of `result` as dicts keyed by column name.

    Plain dicts rather than `result.mappings()`: pydantic reads a RowMapping as a generic
    Mapping, through Python calls, and validates a page of them about three times slower
    than the same page as dicts.
    """
    columns = tuple(result.keys())
    return [dict(zip(columns, row, strict=True)) for row in result]
