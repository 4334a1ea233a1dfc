"""Which threads yield the CPU to which (``runtime.lower_thread_priority``): on Linux each thread has its
own nice level, so a live frame's thread yields to answers being recognised, and the job worker re-checking
closed recordings yields to both."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from dualsign.runtime import (
    BACKGROUND_NICE,
    JOB_NICE,
    RankedThreadPool,
    at_base_priority,
    lower_thread_priority,
    prestarted_pool,
    thread_nice,
)

T = TypeVar("T")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def nice_of_a_thread(by: int | None) -> int:
    got: list[int] = []

    def run() -> None:
        if by is not None:
            lower_thread_priority(by)
        got.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    return got[0]


def test_a_lowered_thread_yields_and_the_others_keep_their_priority() -> None:
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert nice_of_a_thread(None) == base
    assert nice_of_a_thread(BACKGROUND_NICE) == min(19, base + BACKGROUND_NICE)
    assert nice_of_a_thread(JOB_NICE) == min(19, base + JOB_NICE)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base  # the caller's own is kept


def test_the_live_frames_threads_run_lowered() -> None:
    pool = RankedThreadPool(1, "frames", initializer=lower_thread_priority)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    frame_nice = pool.submit(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id())).result(5)
    pool.shutdown()
    assert frame_nice == min(19, base + BACKGROUND_NICE)


def from_a_job_thread(call: Callable[[], T]) -> T:
    """What ``call`` returns (or raises) when run by a thread at the job worker's priority."""
    with ThreadPoolExecutor(1, initializer=lambda: lower_thread_priority(JOB_NICE)) as job:
        return job.submit(call).result(5)


def nice_of_a_thread_started_here() -> int:
    got: list[int] = []
    thread = threading.Thread(
        target=lambda: got.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    )
    thread.start()
    thread.join(5)
    return got[0]


def test_what_the_job_worker_starts_through_at_base_priority_keeps_the_base_priority() -> None:
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    # a thread starts at its starter's nice level: the job worker's would be +10 for good
    assert from_a_job_thread(nice_of_a_thread_started_here) == min(19, base + JOB_NICE)
    assert from_a_job_thread(lambda: at_base_priority(nice_of_a_thread_started_here)) == base
    # from a thread already at the base priority it runs right there
    assert at_base_priority(threading.get_native_id) == threading.get_native_id()
    with pytest.raises(ZeroDivisionError):  # an error reaches the caller
        from_a_job_thread(lambda: at_base_priority(lambda: 1 // 0))


def test_a_prestarted_pool_has_all_its_threads_at_the_base_priority_whoever_calls_first() -> None:
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    pool = from_a_job_thread(lambda: prestarted_pool(3, "engine-"))
    try:
        gate = threading.Barrier(3)

        def nice_when_all_busy() -> int:
            gate.wait(5)  # all three threads at once: none is started later by this caller
            return thread_nice()

        nices = from_a_job_thread(
            lambda: [f.result(5) for f in [pool.submit(nice_when_all_busy) for _ in range(3)]]
        )
        assert nices == [base] * 3
    finally:
        pool.shutdown()


def test_live_frame_threads_started_by_the_job_worker_run_at_the_live_frames_priority() -> None:
    pool = RankedThreadPool(1, "frames", initializer=lower_thread_priority)
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    try:
        frame_nice = from_a_job_thread(lambda: pool.submit(thread_nice).result(5))
    finally:
        pool.shutdown()
    assert frame_nice == min(19, base + BACKGROUND_NICE)


def test_a_forked_child_still_starts_things_at_its_base_priority() -> None:
    pid = os.fork()
    if pid == 0:  # the child: no pytest teardown here, only an exit status
        code = 1
        try:
            signal.alarm(10)  # a hang fails the test instead of stopping the suite
            base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            got = from_a_job_thread(lambda: at_base_priority(nice_of_a_thread_started_here))
            code = 0 if got == base else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
