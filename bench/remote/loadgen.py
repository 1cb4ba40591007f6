"""A closed-loop HTTP/1.1 load generator: N connections, each sending its next request
when the previous response is in.

Standard library only (uvloop when it is installed), so that it runs in any virtual
environment, in its own process: the server under test never shares an event loop or a
GIL with the client that measures it. Keep-alive connections, like a real client pool.

Every loop is bounded: by the deadline (warm-up + measured window), by --max-requests,
and by a drain limit for the requests still out when the window closes. Only loopback
addresses are accepted as targets. `--header NAME:VALUE` (repeatable) adds a header to
every request, such as the bearer token of a protected endpoint.

Writes one JSON object to --out (see `Result`); the orchestrator computes percentiles.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import ipaddress
import json
import resource
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

# Codes recorded for failures that have no HTTP status.
CONNECT_ERROR = 0
"""The connection could not be opened (refused, reset while connecting)."""
TIMEOUT = -1
"""No complete response within --timeout."""
DISCONNECTED = -2
"""The connection broke after the request was sent."""
STALE = -3
"""A kept-alive connection was found closed before any byte of the response (retried)."""

_FAILURE_NAMES = {CONNECT_ERROR: "connect", TIMEOUT: "timeout", DISCONNECTED: "disconnected"}
_RECONNECT_PAUSE_S = 0.02
_HEADER_LIMIT = 64 * 1024


class ResponseError(Exception):
    """The server sent something that is not an HTTP/1.1 response."""


@dataclass
class Result:
    concurrency: int
    warmup_s: float
    window_s: float
    completed: int = 0
    """Successful (2xx) responses that arrived inside the window: the throughput."""
    latencies_ms: list[float] = field(default_factory=list)
    """Latencies of the successful requests sent inside the window (drain included)."""
    statuses: dict[str, int] = field(default_factory=dict)
    """HTTP status (or failure name) -> count, for the requests that ended after the
    window opened; "unfinished" counts those still unanswered when the drain limit ran
    out, whenever they were sent (a stalled server answers nothing at all)."""
    timeline: list[tuple[float, float, int]] = field(default_factory=list)
    """(start, end, status or failure code) of every request, wall clock; with --timeline."""
    sent: int = 0
    answered: int = 0
    """Responses with any HTTP status, warm-up and drain included."""
    cpu_s: float = 0.0


@dataclass(frozen=True)
class Plan:
    host: str
    port: int
    request: bytes
    concurrency: int
    warmup_s: float
    duration_s: float
    timeout_s: float
    drain_s: float
    interval_s: float
    max_requests: int
    timeline: bool


def loopback_target(url: str) -> tuple[str, int, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise SystemExit(f"loadgen: only http:// URLs are supported, not {url!r}")
    if parts.hostname != "localhost" and not ipaddress.ip_address(parts.hostname).is_loopback:
        raise SystemExit(f"loadgen: refusing a target that is not on this machine: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.hostname, parts.port or 80, path


def header(text: str) -> tuple[str, str]:
    """`NAME:VALUE` of --header, checked: a CR or LF would split the request."""
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not colon or not name or any(c in text for c in "\r\n") or " " in name:
        raise argparse.ArgumentTypeError(f"not a header NAME:VALUE: {text!r}")
    return name, value


def header_lines(headers: list[tuple[str, str]]) -> str:
    return "".join(f"{name}: {value}\r\n" for name, value in headers)


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bool, bytes]:
    """Read one response: its status, whether the connection stays open, its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    try:
        status = int(lines[0].split(b" ", 2)[1])
    except (IndexError, ValueError) as error:
        raise ResponseError(lines[0][:80].decode("latin-1")) from error
    length: int | None = None
    chunked = False
    keep_alive = True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        value = value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            keep_alive = b"close" not in value
    body = b""
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:-2]
            if size == 0:
                break
    elif length is not None:
        body = await reader.readexactly(length)
    else:
        body = await reader.read()
        keep_alive = False
    return status, keep_alive, body


def _count(result: Result, key: str) -> None:
    result.statuses[key] = result.statuses.get(key, 0) + 1


class Client:
    """One connection's loop: send, wait, record, repeat until the deadline."""

    def __init__(self, plan: Plan, result: Result, window: tuple[float, float]) -> None:
        self.plan = plan
        self.result = result
        self.window_start, self.window_end = window
        self.outstanding: float | None = None
        """When the request now waiting for its response was sent."""
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def _record(self, start: float, end: float, wall_start: float, code: int) -> None:
        if self.plan.timeline:
            self.result.timeline.append((wall_start, wall_start + (end - start), code))
        if code > 0:
            self.result.answered += 1
        ok = 200 <= code < 300
        if ok and self.window_start <= end <= self.window_end:
            self.result.completed += 1
        if end >= self.window_start:
            _count(self.result, str(code) if code > 0 else _FAILURE_NAMES[code])
        # Latencies are those of the requests sent in the window, wherever they end: a
        # window of completions alone would drop the slowest ones at the edges.
        if ok and self.window_start <= start < self.window_end:
            self.result.latencies_ms.append((end - start) * 1000)

    async def _close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def _one(self) -> int:
        code = await self._attempt()
        if code == STALE:
            # The server closed this kept-alive connection after its last response (uvicorn
            # does after an unhandled exception): like any HTTP client, send again on a
            # new connection rather than report an error for a request never processed.
            code = await self._attempt()
        return DISCONNECTED if code == STALE else code

    async def _attempt(self) -> int:
        plan = self.plan
        reused = self.writer is not None
        if self.writer is None:
            try:
                async with asyncio.timeout(plan.timeout_s):
                    self.reader, self.writer = await asyncio.open_connection(
                        plan.host, plan.port, limit=_HEADER_LIMIT
                    )
            except (OSError, TimeoutError):
                return CONNECT_ERROR
        reader, writer = self.reader, self.writer
        if reader is None or writer is None:
            return CONNECT_ERROR
        try:
            async with asyncio.timeout(plan.timeout_s):
                writer.write(plan.request)
                await writer.drain()
                status, keep_alive, _ = await read_response(reader)
        except TimeoutError:
            await self._close()
            return TIMEOUT
        except asyncio.IncompleteReadError as error:
            await self._close()
            return STALE if reused and not error.partial else DISCONNECTED
        except (OSError, asyncio.LimitOverrunError, ResponseError) as error:
            await self._close()
            return STALE if reused and isinstance(error, ConnectionResetError) else DISCONNECTED
        if not keep_alive:
            await self._close()
        return status

    async def run(self, stop_sending: float, budget: list[int]) -> None:
        next_start = time.perf_counter()
        try:
            while time.perf_counter() < stop_sending and budget[0] > 0:
                budget[0] -= 1
                self.result.sent += 1
                wall_start = time.time()
                # perf_counter, not loop.time(): uvloop's clock ticks in whole milliseconds.
                start = self.outstanding = time.perf_counter()
                code = await self._one()
                end = time.perf_counter()
                self.outstanding = None
                self._record(start, end, wall_start, code)
                if code == CONNECT_ERROR:
                    # A server that is down refuses at once: do not spin on it.
                    await asyncio.sleep(_RECONNECT_PAUSE_S)
                if self.plan.interval_s > 0:
                    next_start += self.plan.interval_s
                    await asyncio.sleep(max(0.0, next_start - time.perf_counter()))
        finally:
            await self._close()


async def run(plan: Plan) -> Result:
    window_start = time.perf_counter() + plan.warmup_s
    window_end = window_start + plan.duration_s
    result = Result(plan.concurrency, plan.warmup_s, plan.duration_s)
    budget = [plan.max_requests]
    clients = [Client(plan, result, (window_start, window_end)) for _ in range(plan.concurrency)]
    tasks = [asyncio.create_task(client.run(window_end, budget)) for client in clients]
    # No request is sent after the window; those still out are given the drain time, so
    # that the slowest latencies of the window are measured rather than dropped.
    _done, pending = await asyncio.wait(
        tasks, timeout=window_end + plan.drain_s - time.perf_counter()
    )
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for client in clients:
        if client.outstanding is not None:
            _count(result, "unfinished")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result.cpu_s = usage.ru_utime + usage.ru_stime
    return result


def _parse(argv: list[str] | None) -> tuple[Plan, Path]:
    parser = argparse.ArgumentParser(prog="loadgen", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--drain", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=0.0)
    parser.add_argument("--max-requests", type=int, default=2_000_000)
    parser.add_argument("--timeline", action="store_true")
    parser.add_argument("--header", type=header, action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    host, port, path = loopback_target(args.url)
    request = (
        f"{args.method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Accept: application/json\r\n{header_lines(args.header)}Content-Length: 0\r\n\r\n"
    ).encode()
    plan = Plan(
        host=host,
        port=port,
        request=request,
        concurrency=args.concurrency,
        warmup_s=args.warmup,
        duration_s=args.duration,
        timeout_s=args.timeout,
        drain_s=args.drain,
        interval_s=args.interval,
        max_requests=args.max_requests,
        timeline=args.timeline,
    )
    return plan, args.out


def _runner() -> Callable[[Coroutine[Any, Any, Result]], Result]:
    # uvloop when installed: a cheaper client leaves more of the CPU to the server.
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return asyncio.run
    return cast("Callable[[Coroutine[Any, Any, Result]], Result]", uvloop.run)


def main(argv: list[str] | None = None) -> None:
    plan, out = _parse(argv)
    result = _runner()(run(plan))
    out.write_text(json.dumps(result.__dict__), encoding="utf-8")


if __name__ == "__main__":
    main()
