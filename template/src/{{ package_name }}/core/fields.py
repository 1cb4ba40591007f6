"""Constraints shared by the API's parameters and request fields.

Each keeps a value the database would refuse (the driver then raises: a 500) out of the
service, with a 422 that names the field, and shows in the OpenAPI schema.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, Field, GetCoreSchemaHandler
from pydantic.config import JsonDict
from pydantic_core import CoreSchema, core_schema

# The largest value an Integer column holds on every supported database (a signed 32-bit
# INTEGER on PostgreSQL and MySQL): the bound of ids and offsets.
MAX_INTEGER = 2**31 - 1
MIN_INTEGER = -(2**31)
# A BigInteger column: a signed 64-bit integer.
MAX_BIG_INTEGER = 2**63 - 1
MIN_BIG_INTEGER = -(2**63)

# The dates every supported database stores (MySQL's DATE starts in the year 1000).
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(9999, 12, 31)

# The characters MySQL's TEXT holds in 4-byte UTF-8 (65,535 bytes).
TEXT_MAX_LENGTH = 16383

# The id of a row in a path, e.g. /users/{user_id}: `user_id: IdPath`.
IdPath = Annotated[int, Path(ge=1, le=MAX_INTEGER)]

# Text that is stored: no NUL character, which PostgreSQL refuses in text. Refused on every
# database, so the API behaves the same on each: `Field(pattern=STORED_TEXT)`.
STORED_TEXT = r"^[^\x00]*$"
# Stored text with something in it: a character at least that is not a space, a tab or a
# line break. Checked as sent, never stripped first, so that the schema's maxLength and
# pattern say exactly what is accepted. The characters are spelled out: `\s` means different
# sets to Pydantic's regex engine and to the schema's readers.
NON_BLANK_TEXT = r"^[^\x00]*[^\x00\t\n\v\f\r ][^\x00]*$"


# JSON Schema bounds no date and no time, only their text: the range of each is stated as
# the years a request may write, and checked as written, so that schema and API agree.
# A date from 1000 to 9999: EARLIEST_DATE to LATEST_DATE.
DATE_YEARS = r"^[1-9][0-9]{3}-"
StoredDate = Annotated[
    date, Field(ge=EARLIEST_DATE, le=LATEST_DATE, json_schema_extra={"pattern": DATE_YEARS})
]

# A time from the year 1001 to 9998, whatever its offset: in UTC it stays within what every
# supported database stores (MySQL's DATETIME: the years 1000 to 9999).
EARLIEST_DATETIME_YEAR, LATEST_DATETIME_YEAR = 1001, 9998
DATETIME_YEARS = (
    r"^(100[1-9]|10[1-9][0-9]|1[1-9][0-9]{2}|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
)


def _in_datetime_years(value: datetime) -> datetime:
    if not EARLIEST_DATETIME_YEAR <= value.year <= LATEST_DATETIME_YEAR:
        raise ValueError(
            f"the year must be from {EARLIEST_DATETIME_YEAR} to {LATEST_DATETIME_YEAR}"
        )
    return value


StoredDatetime = Annotated[
    AwareDatetime,
    AfterValidator(_in_datetime_years),
    Field(json_schema_extra={"pattern": DATETIME_YEARS}),
]


@dataclass(frozen=True)
class DecimalString:
    """A decimal a request sends as a string ("1234.50"): at most `precision` digits, `scale`
    of them after the point, what a NUMERIC(precision, scale) column holds. A string, so that
    no float rounds it on the way; and its schema is a pattern that says exactly what is
    accepted (Pydantic's own decimal schema allows any string): `Annotated[Decimal,
    DecimalString(12, 2)]`.
    """

    precision: int
    scale: int

    @property
    def pattern(self) -> str:
        whole = r"^[+-]?[0-9]{1," + str(self.precision - self.scale) + "}"
        fraction = r"(\.[0-9]{1," + str(self.scale) + "})?" if self.scale else ""
        return whole + fraction + "$"

    def __get_pydantic_core_schema__(
        self, _source: Any, _handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        text = core_schema.no_info_after_validator_function(
            Decimal, core_schema.str_schema(pattern=self.pattern)
        )
        return core_schema.json_or_python_schema(
            json_schema=text,
            # In Python (a query parameter, a test's model_validate): a Decimal as its text.
            python_schema=core_schema.chain_schema(
                [core_schema.no_info_plain_validator_function(_as_text), text]
            ),
            serialization=core_schema.to_string_ser_schema(),
        )


def _as_text(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def without_null(schema: JsonDict) -> None:
    """The schema of a field that a PATCH may leave out but not send as null (its model's
    validator refuses None): the field's type, without the null of its `X | None`."""
    schema.pop("default", None)
    choices = schema.pop("anyOf", None)
    if not isinstance(choices, list):
        return
    kept = [choice for choice in choices if choice != {"type": "null"}]
    if len(kept) == 1 and isinstance(kept[0], dict):
        schema.update(kept[0])
    else:
        schema["anyOf"] = kept
