"""The event-loop guard (tests/loop_guard.py): it catches a blocked loop, and it is on.

Without these tests the guard could pass vacuously: a heartbeat that never ran, or a check
that was never called, would fail no test.
"""

import asyncio
import time

import pytest

from tests.loop_guard import LoopBlockedError, LoopLagMonitor, current_monitor, guard_threshold

# Over the 100 ms limit by more than one heartbeat (10 ms): always caught.
BLOCK_SECONDS = 0.12


@pytest.mark.loop_may_block  # blocks on purpose, under a monitor of its own
async def test_the_monitor_catches_a_loop_blocked_for_120_ms() -> None:
    async with LoopLagMonitor(threshold=0.1) as monitor:
        await asyncio.sleep(0.02)
        time.sleep(BLOCK_SECONDS)  # noqa: ASYNC251 (the blocking call under test)
        await asyncio.sleep(0.02)

    assert monitor.max_lag >= BLOCK_SECONDS - 0.05
    with pytest.raises(LoopBlockedError, match=r"blocked for \d+ ms \(limit 100 ms\)") as error:
        monitor.check()
    # The watchdog caught the loop's thread in the act.
    assert "time.sleep(BLOCK_SECONDS)" in str(error.value)


@pytest.mark.loop_may_block
async def test_the_monitor_catches_a_loop_kept_busy_for_120_ms() -> None:
    async with LoopLagMonitor(threshold=0.1) as monitor:
        await asyncio.sleep(0.02)
        # Measured in the thread's own CPU time, as the guard measures it: on a loaded
        # machine, 120 ms of wall time can hold much less work than that.
        deadline = time.thread_time() + BLOCK_SECONDS
        while time.thread_time() < deadline:  # CPU work on the loop's thread
            pass

    with pytest.raises(LoopBlockedError):
        monitor.check()


@pytest.mark.loop_may_block
async def test_the_monitor_catches_a_block_at_the_very_end() -> None:
    async with LoopLagMonitor(threshold=0.1) as monitor:
        await asyncio.sleep(0.02)
        time.sleep(BLOCK_SECONDS)  # noqa: ASYNC251 (nothing awaited after it)

    with pytest.raises(LoopBlockedError):
        monitor.check()


def hold_the_gil() -> float:
    """Keep the GIL for a while from another thread: sum() over a range runs in C, which
    gives the GIL up only when it returns."""
    start = time.perf_counter()
    sum(range(10_000_000))
    return time.perf_counter() - start


async def test_a_delay_another_thread_causes_is_not_the_loops_fault() -> None:
    async with LoopLagMonitor(threshold=0.1) as monitor:
        held = await asyncio.to_thread(hold_the_gil)  # the loop waits in its selector

    monitor.check()  # the loop's thread blocked nothing
    if held > 0.12:  # long enough to have made the heartbeat late
        assert monitor.max_other_lag > 0.1


async def test_the_monitor_passes_a_loop_that_keeps_turning() -> None:
    async with LoopLagMonitor(threshold=0.1) as monitor:
        for _ in range(5):
            await asyncio.sleep(0.01)

    monitor.check()
    assert monitor.beats >= 2  # the heartbeat really ran


async def test_every_async_test_runs_under_the_guard() -> None:
    monitor = current_monitor()

    await asyncio.sleep(0.03)

    assert monitor is not None
    assert monitor.threshold == guard_threshold()
    assert monitor.beats >= 1


def test_the_guard_fails_an_async_test_that_blocks_the_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_guarded=f"""
        import asyncio
        import time

        async def test_blocks():
            time.sleep({2.5 * BLOCK_SECONDS})  # past the limit, under coverage's tracer too

        async def test_awaits():
            await asyncio.sleep(0.05)

        def test_is_synchronous():  # runs no event loop
            time.sleep(0.01)
        """
    )

    result = pytester.runpytest(
        "-p", "tests.loop_guard",
        "-p", "no:cacheprovider",
        "-p", "no:schemathesis",
        "-ra",
        "-o", "asyncio_mode=auto",
        "-o", "asyncio_default_fixture_loop_scope=function",
    )  # fmt: skip

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*LoopBlockedError: the event loop was blocked for *",
            "FAILED test_guarded.py::test_blocks *",
        ]
    )
