"""Which threads yield the CPU to which (``runtime.lower_thread_priority``): on Linux each thread has its
own nice level, so a live frame's thread yields to answers being recognised, and the job worker re-checking
closed recordings yields to both."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from dualsign.runtime import BACKGROUND_NICE, JOB_NICE, RankedThreadPool, lower_thread_priority

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
