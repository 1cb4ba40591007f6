"""OpenTelemetry traces, on when the standard OTEL_* variables ask for them.

With OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or
OTEL_TRACES_EXPORTER=otlp|console) set, each process exports its spans over OTLP/HTTP: a
server span per request with spans for its dependencies, endpoint and serialization
(FastAPI's own telemetry, on once a tracer provider is set), a child span per SQL
statement (SQLAlchemy's instrumentation) and a span per job that continues the trace of
the request that enqueued it (job_span: the request's W3C trace context travels with the
job, as its request id does). Unset, the SDK is not even imported and FastAPI's telemetry
stays off: nothing here costs more than a test of a flag.
"""

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from fastapi.telemetry import TelemetryConfig

from .. import __version__

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

PACKAGE = __name__.partition(".")[0]
# Requests not worth a trace: probes and scrapes, every few seconds.
UNTRACED_PATHS = frozenset({"/health/live", "/health/ready", "/metrics"})


def _untraced(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in UNTRACED_PATHS


# FastAPI's telemetry: traces only, through the provider configure_tracing sets. Metrics
# are Prometheus's (metrics.py), logs go through logging; exporters are set up here, for
# the API and the workers alike, not by FastAPI.
FASTAPI_TELEMETRY: TelemetryConfig = {
    "metrics": False,
    "logs": False,
    "auto_configure": False,
    "exclude": _untraced,
}

_provider: "TracerProvider | None" = None


def tracing_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether the OTEL_* variables ask for traces (OpenTelemetry's own rules)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return any(
        environ.get(name)
        for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def tracing_enabled() -> bool:
    """Whether this process exports traces (configure_tracing ran and found them asked)."""
    return _provider is not None


def configure_tracing() -> bool:
    """Set this process's tracer provider if traces are asked for; idempotent.

    A forked child (a prefork Celery worker, an RQ work horse) inherits the provider: the
    SDK restarts its export thread after a fork.
    """
    global _provider  # noqa: PLW0603 (one provider per process)
    if _provider is not None or not tracing_requested():
        return _provider is not None
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, name the service instead.
    defaults = {SERVICE_VERSION: __version__}
    if not os.environ.get("OTEL_SERVICE_NAME"):
        defaults[SERVICE_NAME] = PACKAGE
    provider = TracerProvider(resource=Resource.create(defaults))
    exporter: SpanExporter = (
        ConsoleSpanExporter()
        if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console"
        else OTLPSpanExporter()  # its endpoint and headers: the OTEL_EXPORTER_OTLP_* variables
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    # A span per SQL statement of every engine created from now on (db/engine.py builds
    # them after this, in every process). skip_dep_check: the instrumentation declares
    # SQLAlchemy < 2.1 although the engine events it relies on are unchanged in 2.1
    # (tests/reports/test_processes.py sees its spans).
    SQLAlchemyInstrumentor().instrument(tracer_provider=provider, skip_dep_check=True)
    _provider = provider
    return True


def flush_traces() -> None:
    """Export the spans still buffered: before a process that ran a job exits."""
    if _provider is not None:
        _provider.force_flush()


def trace_context() -> dict[str, str]:
    """The current trace's context (W3C traceparent), for a job to continue; empty when
    tracing is off."""
    carrier: dict[str, str] = {}
    if tracing_enabled():
        from opentelemetry.propagate import inject

        inject(carrier)
    return carrier


@contextmanager
def job_span(name: str, context: Mapping[str, str] | None) -> Iterator[None]:
    """A span for the job `name`, continuing the trace in `context` (trace_context() of
    the request that enqueued it), or the current one; nothing when tracing is off."""
    if _provider is None:
        yield
        return
    from opentelemetry.propagate import extract
    from opentelemetry.trace import SpanKind

    parent = extract(dict(context)) if context else None
    tracer = _provider.get_tracer(PACKAGE, __version__)
    with tracer.start_as_current_span(name, context=parent, kind=SpanKind.CONSUMER):
        yield
