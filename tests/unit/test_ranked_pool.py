"""The live frames' thread pool (``runtime.RankedThreadPool``): a frame of a connection where a warning is
building up, or that a decision waits for, is analysed before the routine frames queued before it; the
routine ones still advance while urgent ones keep coming."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError, Future

import pytest

from dualsign.runtime import ROUTINE, URGENT, RankedThreadPool


def busy(pool: RankedThreadPool) -> threading.Event:
    """Occupy the pool's one thread until the returned event is set."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(5)

    pool.submit(hold)
    assert started.wait(5)
    return release


def test_urgent_work_runs_before_routine_work_that_was_queued_earlier() -> None:
    pool = RankedThreadPool(1, "test", max_routine_wait_s=30.0)
    order: list[str] = []
    release = busy(pool)
    routine = [pool.submit_ranked(ROUTINE, order.append, f"routine {i}") for i in range(3)]
    urgent = pool.submit_ranked(URGENT, order.append, "urgent")
    release.set()
    for f in [*routine, urgent]:
        f.result(5)
    assert order == ["urgent", "routine 0", "routine 1", "routine 2"]
    pool.shutdown()


def test_routine_work_is_not_held_back_longer_than_its_limit_by_urgent_work_that_keeps_coming() -> None:
    pool = RankedThreadPool(1, "test", max_routine_wait_s=0.2)
    stop = threading.Event()

    def urgent_frames() -> None:  # an urgent frame always waiting while another is analysed
        while not stop.is_set():
            pool.submit_ranked(URGENT, time.sleep, 0.01).result(5)

    feeders = [threading.Thread(target=urgent_frames, daemon=True) for _ in range(3)]
    for feeder in feeders:
        feeder.start()
    time.sleep(0.05)
    start = time.monotonic()
    pool.submit_ranked(ROUTINE, lambda: None).result(5)
    waited = time.monotonic() - start
    stop.set()
    for feeder in feeders:
        feeder.join(5)
    pool.shutdown()
    assert 0.15 <= waited < 1.0


def test_threads_start_as_work_comes_up_to_the_limit() -> None:
    pool = RankedThreadPool(2, "test")
    gate = threading.Barrier(3)
    futures = [pool.submit(gate.wait, 5) for _ in range(2)]
    gate.wait(5)  # both ran at once: two threads
    for f in futures:
        f.result(5)
    assert len({t.name for t in threading.enumerate() if t.name.startswith("test-")}) == 2
    pool.shutdown()


def test_a_failure_reaches_the_caller_and_the_thread_goes_on() -> None:
    pool = RankedThreadPool(1, "test")
    with pytest.raises(ZeroDivisionError):
        pool.submit(lambda: 1 / 0).result(5)
    assert pool.submit_ranked(URGENT, lambda: 42).result(5) == 42
    pool.shutdown()


def test_shutting_down_cancels_what_waits_and_refuses_more() -> None:
    pool = RankedThreadPool(1, "test")
    release = busy(pool)
    queued: Future[None] = pool.submit(time.sleep, 0)
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    with pytest.raises(CancelledError):
        queued.result(5)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.submit(time.sleep, 0)
