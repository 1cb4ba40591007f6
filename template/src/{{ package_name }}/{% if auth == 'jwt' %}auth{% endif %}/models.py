"""The tables of authentication: refresh tokens, and failed logins (for throttling)."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db.base import Base
from ..db.types import UTCDateTime, utcnow
from ..users.models import EMAIL_MAX_LENGTH

# A SHA-256 digest, in hex.
TOKEN_HASH_LENGTH = 64


class RefreshToken(Base):
    """One refresh token. A login starts a family; each refresh uses its token up and adds
    the next one to the family. Revoking a login revokes the whole family.

    Only a hash of the token is stored: a copy of the table logs nobody in. A plain SHA-256
    is enough (not a password hash): the tokens are random, 256 bits, nothing to guess.
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_LENGTH), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    # Deleting a user deletes its tokens in the database (ON DELETE CASCADE).
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set when the token is exchanged for the next one: presenting it again is a reuse.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)

    def __repr__(self) -> str:
        return f"RefreshToken(id={self.id!r}, family_id={self.family_id!r})"


class LoginFailure(Base):
    """One failed login. Throttling counts an email's rows within the window: the count is
    in the database, so it holds across processes and replicas. Rows are only inserted, one
    per failure, never updated: concurrent failures never wait on one another."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Whatever email was tried, registered or not: throttling tells neither apart.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), index=True)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    def __repr__(self) -> str:
        return f"LoginFailure(id={self.id!r}, email={self.email!r})"
