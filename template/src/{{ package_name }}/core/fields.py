"""Constraints shared by the API's parameters and request fields.

Each keeps a value the database would refuse (the driver then raises: a 500) out of the
service, with a 422 that names the field, and shows in the OpenAPI schema.
"""

from typing import Annotated

from fastapi import Path

# The largest value an Integer column holds on every supported database (a signed 32-bit
# INTEGER on PostgreSQL and MySQL): the bound of ids and offsets.
MAX_INTEGER = 2**31 - 1

# The id of a row in a path, e.g. /users/{user_id}: `user_id: IdPath`.
IdPath = Annotated[int, Path(ge=1, le=MAX_INTEGER)]

# Text that is stored: no NUL character, which PostgreSQL refuses in text. Refused on every
# database, so the API behaves the same on each: `Field(pattern=STORED_TEXT)`.
STORED_TEXT = r"^[^\x00]*$"
