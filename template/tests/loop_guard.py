"""The event-loop guard: an async test fails if its event loop was blocked too long.

A heartbeat task runs next to every async test and measures how late it wakes up. Code
that blocks the loop (a synchronous call in an async function: time.sleep, a blocking
client, heavy CPU work) delays it, and every other request of a real server with it; the
test then fails, naming the delay and showing where the loop's thread was meanwhile. The
limit is 100 ms, or LOOP_GUARD_MS in the environment (wider under coverage's tracer). A
test that blocks the loop on purpose is marked `loop_may_block`.

Only delays that the loop's own thread caused count: it sat in one call (a watchdog thread
samples its stack while the heartbeat is late, and saw the same spot for more than half
the limit, as during time.sleep or a synchronous socket read), and then the whole delay
counts; or it spent the time computing, and then its CPU time counts, not the wall time
that other processes stretched it to. Delays it did not cause are left out:
pauses of the garbage collector, another thread holding the GIL (an in-process worker
thread of a test), the operating system running other processes on a busy CI machine.

Registered as a pytest plugin by tests/conftest.py. Only async tests are watched: a
synchronous test runs no event loop. The guard wraps the test function itself (Hypothesis
tests: each example), so the loop is watched exactly while the test runs on it.
"""

import asyncio
import functools
import gc
import inspect
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from types import FrameType, TracebackType
from typing import Any, Self

import pytest

THRESHOLD_SECONDS = float(os.environ.get("LOOP_GUARD_MS", "100")) / 1000
# Coverage (the suite's coverage gate) traces every Python line: the loop's own work takes
# longer without blocking it any more than it does untraced, so while a tracer is active
# the limit is this much wider. A blocking call still stands out.
TRACED_ALLOWANCE = 1.5
HEARTBEAT_SECONDS = 0.01
MARKER = "loop_may_block"
STACK_FRAMES = 12

AsyncTest = Callable[..., Coroutine[Any, Any, Any]]


class LoopBlockedError(AssertionError):
    """The event loop did not run for longer than the threshold."""


class LoopLagMonitor:
    """`async with LoopLagMonitor() as monitor:` measures the loop's lag during the block.

    `monitor.check()` then raises LoopBlockedError if the loop's thread held the loop up
    for longer than the threshold (see the module's docstring). A block that lasts longer
    than threshold + heartbeat is always caught: the heartbeat was due during it.
    """

    def __init__(
        self, threshold: float = THRESHOLD_SECONDS, heartbeat: float = HEARTBEAT_SECONDS
    ) -> None:
        self.threshold = threshold
        self.heartbeat = heartbeat
        self.max_lag = 0.0  # the longest delay the loop's thread caused
        self.max_other_lag = 0.0  # the longest delay it did not cause (not a failure)
        self.beats = 0
        self.gc_seconds = 0.0  # spent in the garbage collector meanwhile, not counted as lag
        self.stall_stack: str | None = None  # where the loop's thread was, for max_lag
        self._gc_started: float | None = None
        self._loop_thread = 0
        self._task: asyncio.Task[None] | None = None
        # The current heartbeat period: when it is due, and the clocks at its start.
        self._due: float | None = None
        self._gc_seconds_at_due = 0.0
        self._cpu_at_due = 0.0
        # What the watchdog saw of the loop's thread during the current period.
        self._spot: tuple[object, int] | None = None  # (code, instruction) it sat at
        self._spot_since = 0.0
        self._stuck = 0.0  # the longest time it sat at one spot, outside the selector
        self._sample: traceback.StackSummary | None = None

    async def __aenter__(self) -> Self:
        self._loop_thread = threading.get_ident()
        gc.callbacks.append(self._on_gc)
        # Armed now: a block right at the start, before the heartbeat's first turn, counts.
        self._arm(asyncio.get_running_loop().time())
        self._task = asyncio.create_task(self._beat(), name="loop-guard-heartbeat")
        _watchdog.watch(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # A block at the very end has not let the heartbeat wake up yet: count it too.
        self._record(asyncio.get_running_loop().time())
        _watchdog.forget(self)
        gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _arm(self, now: float) -> None:
        """Start a heartbeat period (on the loop's thread)."""
        self._spot, self._stuck, self._sample = None, 0.0, None
        self._gc_seconds_at_due = self.gc_seconds
        self._cpu_at_due = time.thread_time()
        self._due = now + self.heartbeat

    async def _beat(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            assert self._due is not None
            await asyncio.sleep(max(0.0, self._due - loop.time()))
            now = loop.time()
            self._record(now)
            self.beats += 1
            self._arm(now)

    def _record(self, now: float) -> None:
        """Judge the period that ends now (on the loop's thread)."""
        if self._due is None:
            return
        gc_seconds = self.gc_seconds - self._gc_seconds_at_due
        lag = now - self._due - gc_seconds
        if lag <= self.threshold / 2:
            return
        computing = time.thread_time() - self._cpu_at_due - gc_seconds
        if self._stuck > self.threshold / 2:
            caused = lag  # it sat in one call: the whole delay is that call's
        elif computing > self.threshold / 2:
            # It computed: the CPU time it spent is its delay; the rest of the lag is the
            # machine running other processes, which stretches the same work on a busy CI.
            caused = computing
        else:
            self.max_other_lag = max(self.max_other_lag, lag)
            return
        if caused > self.max_lag:
            self.max_lag = caused
            self.stall_stack = _format(self._sample)

    def _on_gc(self, phase: str, _info: dict[str, int]) -> None:
        now = time.monotonic()  # the clock of asyncio's loop.time()
        if phase == "start":
            self._gc_started = now
        elif self._gc_started is not None:
            self.gc_seconds += now - self._gc_started
            self._gc_started = None

    def _look(self, now: float) -> None:
        """Called by the watchdog thread: while the heartbeat is late, note where the loop's
        thread is, and how long it has been at that spot."""
        due = self._due
        if due is None or now - due < self.threshold / 4:
            return
        frame = sys._current_frames().get(self._loop_thread)
        if frame is None:
            return
        if _idle(frame):
            # Waiting is nobody's work, and the sample of the work before it is kept: the
            # loop's thread may already be back in its selector when the heartbeat records.
            self._spot = None
            return
        spot = (frame.f_code, frame.f_lasti)
        if spot != self._spot:
            self._spot, self._spot_since = spot, now
        else:
            self._stuck = max(self._stuck, now - self._spot_since)
        # Cheap: no source line is read now, while the loop is late.
        self._sample = traceback.StackSummary.extract(
            traceback.walk_stack(frame), limit=STACK_FRAMES, lookup_lines=False
        )

    def check(self) -> None:
        if self.max_lag > self.threshold:
            msg = (
                f"the event loop was blocked for {self.max_lag * 1000:.0f} ms (limit "
                f"{self.threshold * 1000:.0f} ms): something synchronous ran on it. Move it "
                f"to a thread (asyncio.to_thread) or a worker, or mark the test {MARKER}."
            )
            if self.stall_stack:
                msg += f"\nThe loop's thread, while it was late:\n{self.stall_stack}"
            raise LoopBlockedError(msg)


def _idle(frame: FrameType) -> bool:
    """Whether the loop's thread waits for something that is not work of its own: events
    (in its selector), or a thread it has just started to be scheduled (Thread.start waits
    for that; asyncio.to_thread's and anyio's pools start their threads so), which only a
    busy machine makes long."""
    if frame.f_code.co_filename.endswith("selectors.py"):
        return True
    caller: FrameType | None = frame
    while caller is not None and caller.f_code.co_filename == threading.__file__:
        if caller.f_code.co_name == "start":
            return True
        caller = caller.f_back
    return False


def _format(sample: traceback.StackSummary | None) -> str | None:
    return None if sample is None else "".join(reversed(sample.format()))


class _Watchdog:
    """One daemon thread that looks at the loop's thread of every monitor, every 10 ms while
    there is one, and sleeps otherwise."""

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self._monitors: set[LoopLagMonitor] = set()
        self._lock = threading.Lock()
        self._watching = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, monitor: LoopLagMonitor) -> None:
        with self._lock:
            self._monitors.add(monitor)
            self._watching.set()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="loop-guard-watchdog", daemon=True
                )
                self._thread.start()

    def forget(self, monitor: LoopLagMonitor) -> None:
        with self._lock:
            self._monitors.discard(monitor)
            if not self._monitors:
                self._watching.clear()

    def _run(self) -> None:
        while self._watching.wait():
            time.sleep(self.period)
            with self._lock:
                monitors = list(self._monitors)
            now = time.monotonic()
            for monitor in monitors:
                monitor._look(now)


_watchdog = _Watchdog()
_current: ContextVar[LoopLagMonitor | None] = ContextVar("loop_guard_monitor", default=None)


def current_monitor() -> LoopLagMonitor | None:
    """The monitor watching the running test, if any."""
    return _current.get()


def guard_threshold() -> float:
    """The limit of the guard for a test starting now (see TRACED_ALLOWANCE)."""
    return THRESHOLD_SECONDS * (TRACED_ALLOWANCE if sys.gettrace() is not None else 1.0)


def guarded(test: AsyncTest) -> AsyncTest:
    """`test`, run under a LoopLagMonitor whose check fails it."""

    @functools.wraps(test)
    async def run_guarded(*args: Any, **kwargs: Any) -> Any:
        async with LoopLagMonitor(threshold=guard_threshold()) as monitor:
            token = _current.set(monitor)
            try:
                result = await test(*args, **kwargs)
            finally:
                _current.reset(token)
        monitor.check()
        return result

    return run_guarded


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: the event-loop guard (tests/loop_guard.py) lets this test pass"
    )


@pytest.fixture(autouse=True)
def loop_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """Watch the event loop while an async test runs (see the module's docstring)."""
    item = request.node
    if not isinstance(item, pytest.Function) or item.get_closest_marker(MARKER):
        yield
        return
    # A Hypothesis test is a synchronous wrapper; its async body runs once per example.
    hypothesis = getattr(item.obj, "hypothesis", None)
    owner, name = (hypothesis, "inner_test") if hypothesis is not None else (item, "obj")
    test = getattr(owner, name)
    if not inspect.iscoroutinefunction(test):
        yield
        return
    setattr(owner, name, guarded(test))
    try:
        yield
    finally:
        setattr(owner, name, test)
