"""Every mapped class, imported in one place.

Alembic reads `Base.metadata` from here, so it sees the whole schema, and
`configure_models()` resolves every relationship at startup instead of on the first query.
A new domain's models module is added to the imports below.
"""

from sqlalchemy.orm import configure_mappers

from ..projects.models import Project
from ..reports.models import ProjectReport
from ..users.models import User
from .base import Base

__all__ = ["Base", "Project", "ProjectReport", "User", "configure_models"]


def configure_models() -> None:
    """Resolve all mappers now: a broken relationship fails at startup, not mid-request."""
    configure_mappers()
