"""A local stand-in for a trace collector and for Sentry: an HTTP server, in a thread of
the test process, that decodes and keeps what the service sends it.

- `POST /v1/traces`: OTLP/HTTP, protobuf (what the service's exporter sends);
- `POST /api/<project>/envelope/`: Sentry's envelopes, whose "event" items are kept.
"""

import gzip
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int  # opentelemetry.proto's Span.SpanKind: 2 server, 5 consumer ...
    service: str
    attributes: dict[str, object]


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def decode_spans(body: bytes) -> list[ReceivedSpan]:
    request = ExportTraceServiceRequest.FromString(body)
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        resource = {item.key: _value(item.value) for item in resource_spans.resource.attributes}
        for scope_spans in resource_spans.scope_spans:
            spans.extend(
                ReceivedSpan(
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    name=span.name,
                    kind=span.kind,
                    service=str(resource.get("service.name")),
                    attributes={item.key: _value(item.value) for item in span.attributes},
                )
                for span in scope_spans.spans
            )
    return spans


def decode_events(body: bytes) -> list[dict[str, Any]]:
    """The events of a Sentry envelope: newline-separated JSON, an item header before each
    item."""
    lines = body.split(b"\n")
    events = []
    for header, payload in itertools.pairwise(lines[1:]):
        if header.strip() and json.loads(header).get("type") == "event":
            events.append(json.loads(payload))
    return events


class Receiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.keep(self.path, body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *_: object) -> None:  # keep the test's output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def keep(self, path: str, body: bytes) -> None:
        if path == "/v1/traces":
            spans = decode_spans(body)
            with self._lock:
                self.spans.extend(spans)
        elif path.endswith("/envelope/"):
            events = decode_events(body)
            with self._lock:
                self.events.extend(events)

    def wait_for(self, found: Callable[["Receiver"], _T | None], seconds: float = 20) -> _T:
        """What `found` returns once it is not None, looking again until `seconds` pass.
        (Blocking: call it from a thread.)"""
        deadline = time.monotonic() + seconds
        while True:
            with self._lock:
                result = found(self)
            if result is not None:
                return result
            if time.monotonic() > deadline:
                received = f"{len(self.spans)} spans, {len(self.events)} events"
                msg = f"not received within {seconds} s ({received} so far)"
                raise AssertionError(msg)
            time.sleep(0.1)


@contextmanager
def receiving() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
