"""newservice: generate FastAPI + async SQLAlchemy 2.0 services."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _distribution_version


def version() -> str:
    try:
        return _distribution_version("newservice")
    except PackageNotFoundError:
        # Imported from a source tree that was never installed.
        return "0+unknown"
