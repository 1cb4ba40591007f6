"""What every process of the service sets up once (logs, traces, error reports), and what
a job carries from the request that enqueued it (its request id and trace context).

The API calls configure_telemetry in create_app, each worker when its process starts
(a forked child when it runs its first job); see README.md, "Operating it".
"""

from collections.abc import Iterator
from contextlib import contextmanager

from .config import Settings
from .logging import configure_logging
from .request_id import current_request_id, request_id_scope
from .sentry import configure_sentry, tag_request_id
from .tracing import configure_tracing, job_span, trace_context

# What a job receives from its request: "request_id", and "traceparent" (and "tracestate")
# when tracing is on. Plain strings, so that every queue's serializer takes it.
JobContext = dict[str, str]


def configure_telemetry(settings: Settings) -> None:
    """Logging, tracing and Sentry for this process, from the settings and OTEL_* variables."""
    configure_logging(settings.LOG_LEVEL, settings.log_format)
    configure_tracing()
    configure_sentry(settings)


def job_context() -> JobContext:
    """The current request's id and trace context, for the job it enqueues."""
    request_id = current_request_id()
    context = trace_context()
    if request_id is not None:
        context["request_id"] = request_id
    return context


@contextmanager
def job_scope(job: str, context: JobContext | None) -> Iterator[None]:
    """Run a job under the request id and in the trace of the request that enqueued it.

    `context` None: the job runs in the request's own process and context (worker "none"),
    which already holds both.
    """
    context = context or {}
    request_id = context.get("request_id")
    if request_id is not None:
        tag_request_id(request_id)
    with request_id_scope(request_id), job_span(job, context):
        yield
