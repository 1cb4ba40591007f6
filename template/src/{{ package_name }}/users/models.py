"""The users table."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base
from ..db.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from ..projects.models import Project

EMAIL_MAX_LENGTH = 320
FULL_NAME_MAX_LENGTH = 200
HASHED_PASSWORD_MAX_LENGTH = 255


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased (see schemas.UserCreate), so uniqueness means the same on every
    # database, whatever its collation.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    full_name: Mapped[str] = mapped_column(String(FULL_NAME_MAX_LENGTH))
    hashed_password: Mapped[str] = mapped_column(String(HASHED_PASSWORD_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # lazy="raise": a service loads the projects explicitly (selectinload) when a response
    # needs them; any other access fails loudly instead of doing hidden I/O. Deleting a user
    # deletes its projects in the database (ON DELETE CASCADE), without loading them.
    projects: Mapped[list["Project"]] = relationship(
        back_populates="owner",
        lazy="raise",
        order_by="Project.id",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, email={self.email!r})"
