"""A TCP proxy in front of PostgreSQL that can play a server restart without one.

SIGUSR1 cuts: the listening socket is closed (new connections are refused, as by a
stopped server) and every open connection is reset (as a restart drops its backends).
SIGUSR2 restores: the proxy listens again. Each change is acknowledged on stdout as
`cut <time>` / `restored <time>` (wall clock, after it took effect). SIGTERM, or
--max-seconds, ends the proxy. Listens on and forwards to loopback addresses only.

    python -m bench.remote.tcpproxy --listen 6543 --upstream 5432
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import time

HOST = "127.0.0.1"
_CHUNK = 64 * 1024


class Proxy:
    def __init__(self, listen: int, upstream: int) -> None:
        self.listen = listen
        self.upstream = upstream
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, HOST, self.listen, reuse_address=True)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server = await asyncio.open_connection(HOST, self.upstream)
        except OSError:
            client.transport.abort()
            return
        self.writers.update((client, server))
        try:
            await asyncio.gather(_pump(client_reader, server), _pump(server_reader, client))
        finally:
            for writer in (client, server):
                self.writers.discard(writer)
                writer.transport.abort()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(OSError):
        if writer.can_write_eof():
            writer.write_eof()


def _say(word: str) -> None:
    sys.stdout.write(f"{word} {time.time():.6f}\n")
    sys.stdout.flush()


async def main_async(listen: int, upstream: int, max_seconds: float) -> None:
    proxy = Proxy(listen, upstream)
    await proxy.start()
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, commands.put_nowait, "cut")
    loop.add_signal_handler(signal.SIGUSR2, commands.put_nowait, "restore")
    loop.add_signal_handler(signal.SIGTERM, commands.put_nowait, "stop")
    _say("listening")
    deadline = loop.time() + max_seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            command = await asyncio.wait_for(commands.get(), remaining)
        except TimeoutError:
            break
        if command == "stop":
            break
        if command == "cut":
            await proxy.cut()
            _say("cut")
        elif proxy.server is None:
            await proxy.start()
            _say("restored")
    await proxy.cut()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="tcpproxy")
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", type=int, default=5432)
    parser.add_argument("--max-seconds", type=float, default=600)
    args = parser.parse_args(argv)
    asyncio.run(main_async(args.listen, args.upstream, args.max_seconds))


if __name__ == "__main__":
    main()
