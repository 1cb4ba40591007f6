"""The projects table: each project belongs to one user."""

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db.base import Base
from ..db.types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from ..users.models import User

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX_LENGTH))
    description: Mapped[str | None] = mapped_column(String(DESCRIPTION_MAX_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Loaded explicitly when needed; an implicit load raises (see User.projects).
    owner: Mapped["User"] = relationship(back_populates="projects", lazy="raise")

    def __repr__(self) -> str:
        return f"Project(id={self.id!r}, owner_id={self.owner_id!r}, name={self.name!r})"
