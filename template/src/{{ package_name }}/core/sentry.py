"""Error reports to Sentry, on when SENTRY_DSN is set.

sentry-sdk's own integrations find what this process runs (FastAPI, Celery, RQ, arq,
SQLAlchemy, logging) and report its unhandled errors and error log records. Each event
names the service's release and the request id it happened under: the API's events read
it when they are made, a job's carry it as a tag of the job's scope (tag_request_id), which
the worker's integration reports the job's failure from.

No personal data and no credentials: sentry-sdk's defaults leave out the user, cookies and
the Authorization header of the request it describes; besides, no request body is sent,
and no frame's local variables: a middleware's `scope` holds every header as raw bytes,
which Sentry's scrubber does not recognise, and a login's locals hold the password.

sentry-sdk is imported whether or not it reports: asgi-correlation-id imports it anyway,
to tag Sentry's scope with the request id.
"""

import sentry_sdk
from sentry_sdk.types import Event, Hint

from .. import __version__
from .config import Settings
from .request_id import current_request_id

PACKAGE = __name__.partition(".")[0]
RELEASE = f"{PACKAGE}@{__version__}"
REQUEST_ID_TAG = "request_id"


def _with_request_id(event: Event, _hint: Hint) -> Event:
    request_id = current_request_id()
    if request_id is not None:
        event.setdefault("tags", {})[REQUEST_ID_TAG] = request_id
    return event


def tag_request_id(request_id: str) -> None:
    """Name `request_id` in every event of the current scope (a job's, in a worker)."""
    sentry_sdk.set_tag(REQUEST_ID_TAG, request_id)


def configure_sentry(settings: Settings) -> bool:
    """Start reporting to SENTRY_DSN, if set; whether reporting is on."""
    if settings.SENTRY_DSN is None:
        return False
    sentry_sdk.init(
        dsn=settings.SENTRY_DSN.get_secret_value(),
        release=RELEASE,
        environment=settings.ENVIRONMENT,
        include_local_variables=False,
        max_request_body_size="never",
        before_send=_with_request_id,
    )
    return True
