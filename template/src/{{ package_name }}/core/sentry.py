"""Error reports to Sentry, on when SENTRY_DSN is set.

sentry-sdk's own integrations find what this process runs (FastAPI, Celery, RQ, arq,
SQLAlchemy, logging) and report its unhandled errors and error log records. Each event
names the service's release and the request id it happened under (in the API and in the
job that request enqueued). No personal data: no user, no cookies, no Authorization
header, no request body (send_default_pii stays off).
"""

import sentry_sdk
from sentry_sdk.types import Event, Hint

from .. import __version__
from .config import Settings
from .request_id import current_request_id

PACKAGE = __name__.partition(".")[0]
RELEASE = f"{PACKAGE}@{__version__}"


def _with_request_id(event: Event, _hint: Hint) -> Event:
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("tags", {})["request_id"] = request_id
    return event


def configure_sentry(settings: Settings) -> bool:
    """Start reporting to SENTRY_DSN, if set; whether reporting is on."""
    if settings.SENTRY_DSN is None:
        return False
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN.get_secret_value(),
        release=RELEASE,
        environment=settings.ENVIRONMENT,
        send_default_pii=False,
        before_send=_with_request_id,
    )
    return True
