"""Keeps N report jobs running on the generated service, back to back.

Each client asks for a report (POST /projects/{id}/report, 202), polls the status URL
until the job is done or failed, then asks for the next one: N jobs are always queued or
running. Bounded by the deadline, a drain limit and --job-timeout per job; loopback
targets only. `--header NAME:VALUE` (repeatable) goes with every request: both endpoints
need an access token. Writes one JSON object to --out:

    {"completed": jobs done inside the window, "window_s": ..., "latencies_ms": [...],
     "statuses": {"done": n, "failed": n, "http 500": n, "unfinished": n, ...}}

    python -m bench.remote.jobdriver --base http://127.0.0.1:8000 --clients 8 --out jobs.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bench.remote.loadgen import (
    ResponseError,
    header,
    header_lines,
    loopback_target,
    read_response,
)

_FINISHED = {"done", "failed"}


@dataclass
class Jobs:
    window_s: float
    completed: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    server_ms: list[float] = field(default_factory=list)
    """finished_at - started_at of the jobs done, as the service recorded them."""

    def count(self, key: str) -> None:
        self.statuses[key] = self.statuses.get(key, 0) + 1


class Connection:
    """One keep-alive HTTP/1.1 connection that reconnects when the server closes it."""

    def __init__(self, host: str, port: int, headers: list[tuple[str, str]]) -> None:
        self.host, self.port = host, port
        self.headers = header_lines(headers)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str) -> tuple[int, bytes]:
        for attempt in range(2):
            if self.reader is None or self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            try:
                self.writer.write(
                    f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
                    f"{self.headers}Content-Length: 0\r\n\r\n".encode()
                )
                await self.writer.drain()
                status, keep_alive, body = await read_response(self.reader)
            except (OSError, asyncio.IncompleteReadError, ResponseError):
                await self.close()
                if attempt:
                    raise
                continue
            if not keep_alive:
                await self.close()
            return status, body
        raise ConnectionError("unreachable")  # the loop returns or raises

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def _client(
    args: argparse.Namespace,
    index: int,
    jobs: Jobs,
    window: tuple[float, float],
    outstanding: list[float | None],
) -> None:
    host, port, _ = loopback_target(args.base)
    connection = Connection(host, port, args.header)
    window_start, window_end = window
    job = 0
    try:
        while time.perf_counter() < window_end:
            project = 1 + (index + job * args.clients) % args.projects
            job += 1
            start = time.perf_counter()
            outstanding[index] = start
            outcome = await _one_job(connection, args, project, jobs)
            end = time.perf_counter()
            outstanding[index] = None
            if end >= window_start:
                jobs.count(outcome)
            if outcome == "done" and window_start <= end <= window_end:
                jobs.completed += 1
            if outcome == "done" and window_start <= start < window_end:
                jobs.latencies_ms.append((end - start) * 1000)
    finally:
        await connection.close()


async def _one_job(
    connection: Connection, args: argparse.Namespace, project: int, jobs: Jobs
) -> str:
    try:
        async with asyncio.timeout(args.job_timeout):
            status, body = await connection.request("POST", f"/projects/{project}/report")
            if status != 202:
                return f"http {status}"
            url = json.loads(body)["status_url"]
            while True:
                await asyncio.sleep(args.poll)
                status, body = await connection.request("GET", url)
                if status != 200:
                    return f"http {status}"
                report = json.loads(body)
                state = str(report["status"])
                if state in _FINISHED:
                    if report.get("started_at") and report.get("finished_at"):
                        took = datetime.fromisoformat(
                            report["finished_at"]
                        ) - datetime.fromisoformat(report["started_at"])
                        jobs.server_ms.append(took.total_seconds() * 1000)
                    return state
    except TimeoutError:
        return "timeout"
    except OSError:
        return "connect"


async def run(args: argparse.Namespace) -> Jobs:
    window_start = time.perf_counter() + args.warmup
    window_end = window_start + args.duration
    jobs = Jobs(window_s=args.duration)
    outstanding: list[float | None] = [None] * args.clients
    tasks = [
        asyncio.create_task(_client(args, i, jobs, (window_start, window_end), outstanding))
        for i in range(args.clients)
    ]
    _, pending = await asyncio.wait(tasks, timeout=window_end + args.drain - time.perf_counter())
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for start in outstanding:
        if start is not None:
            jobs.count("unfinished")
    return jobs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="jobdriver")
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--drain", type=float, default=30.0)
    parser.add_argument("--poll", type=float, default=0.01)
    parser.add_argument("--job-timeout", type=float, default=120.0)
    parser.add_argument("--header", type=header, action="append", default=[])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    loopback_target(args.base)
    jobs = asyncio.run(run(args))
    args.out.write_text(json.dumps(jobs.__dict__), encoding="utf-8")


if __name__ == "__main__":
    main()
