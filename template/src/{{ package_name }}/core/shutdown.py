"""Draining before a shutdown: after SIGTERM the API keeps serving for SHUTDOWN_DRAIN_SECONDS
while /health/ready answers 503, and only then stops as uvicorn would have at once.

A load balancer takes a process out of rotation after a failed health check or two (HAProxy's
`fall`, Kubernetes' readiness probe and endpoint updates); a server that stopped listening on
SIGTERM would meanwhile refuse the requests still sent its way. uvicorn has no such pause, so
this wraps the handler uvicorn installed: SIGTERM marks the process draining, and uvicorn's own
handler runs when the pause is over. uvicorn then stops accepting connections, finishes the
requests in flight (within its --timeout-graceful-shutdown) and runs the lifespan's shutdown,
which disposes of the pool. A second SIGTERM, or SIGINT (Ctrl-C), stops at once.
"""

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

logger = logging.getLogger(__name__)


class Drain:
    """Whether this process is draining: set once, by SIGTERM, and never unset."""

    def __init__(self) -> None:
        self.started = False


def drain_on_sigterm(drain: Drain, seconds: float) -> Callable[[], None]:
    """Delay the server's own SIGTERM handler by `seconds`, marking `drain` meanwhile.

    Returns what puts the server's handler back. Nothing is installed when `seconds` is 0,
    off the main thread (signals are delivered there), or when no Python handler is there to
    delay (the process is not under a server that handles SIGTERM itself, as in tests).
    """
    server_handler = signal.getsignal(signal.SIGTERM)
    on_main_thread = threading.current_thread() is threading.main_thread()
    if seconds <= 0 or not callable(server_handler) or not on_main_thread:
        return lambda: None
    loop = asyncio.get_running_loop()

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, server_handler)  # a second SIGTERM stops at once
        drain.started = True
        logger.info("SIGTERM: draining for %s s (not ready), then shutting down", seconds)
        # The handler runs between two steps of the loop: the timer is handed to it safely.
        loop.call_soon_threadsafe(loop.call_later, seconds, server_handler, signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)

    def restore() -> None:
        if signal.getsignal(signal.SIGTERM) is on_sigterm:
            signal.signal(signal.SIGTERM, server_handler)

    return restore
