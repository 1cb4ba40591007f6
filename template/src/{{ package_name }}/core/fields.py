"""Constraints shared by the API's parameters and request fields.

Each keeps a value the database would refuse (the driver then raises: a 500) out of the
service, with a 422 that names the field, and shows in the OpenAPI schema.
"""

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path

# The largest value an Integer column holds on every supported database (a signed 32-bit
# INTEGER on PostgreSQL and MySQL): the bound of ids and offsets.
MAX_INTEGER = 2**31 - 1
MIN_INTEGER = -(2**31)
# A BigInteger column: a signed 64-bit integer.
MAX_BIG_INTEGER = 2**63 - 1
MIN_BIG_INTEGER = -(2**63)

# The dates and times every supported database stores (MySQL's DATE and DATETIME start in
# the year 1000), with a day's margin for time zones at either end.
EARLIEST_DATE = date(1000, 1, 1)
LATEST_DATE = date(9999, 12, 31)
EARLIEST_DATETIME = datetime(1000, 1, 2, tzinfo=UTC)
LATEST_DATETIME = datetime(9999, 12, 30, tzinfo=UTC)

# The characters MySQL's TEXT holds in 4-byte UTF-8 (65,535 bytes).
TEXT_MAX_LENGTH = 16383

# The id of a row in a path, e.g. /users/{user_id}: `user_id: IdPath`.
IdPath = Annotated[int, Path(ge=1, le=MAX_INTEGER)]

# Text that is stored: no NUL character, which PostgreSQL refuses in text. Refused on every
# database, so the API behaves the same on each: `Field(pattern=STORED_TEXT)`.
STORED_TEXT = r"^[^\x00]*$"
