"""Who gets the next idle face worker process (``face_pool.Turns``): a live frame before the re-check of
a closed recording, so that re-checking the sessions that ended does not delay the warnings of those
still live; the re-check still advances under a steady live load."""

from __future__ import annotations

import threading
import time

from dualsign.engines.face_pool import Turns
from dualsign.runtime import defer_to_live_work, defers_to_live_work


def waiting(turns: Turns[str], defer: bool, got: list[tuple[str, str]], who: str) -> threading.Thread:
    thread = threading.Thread(target=lambda: got.append((who, turns.take(defer))), daemon=True)
    thread.start()
    return thread


def test_a_live_caller_gets_the_next_worker_before_a_recheck_that_waited_longer() -> None:
    turns = Turns(["worker"], max_defer_s=30.0)
    held = turns.take(defer=False)
    got: list[tuple[str, str]] = []
    recheck = waiting(turns, True, got, "re-check")
    time.sleep(0.05)
    live = waiting(turns, False, got, "live frame")
    time.sleep(0.05)
    turns.give(held)
    live.join(5)
    assert got == [("live frame", "worker")]
    turns.give(got[0][1])
    recheck.join(5)
    assert got[1] == ("re-check", "worker")


def test_a_recheck_takes_an_idle_worker_at_once_when_nobody_live_waits() -> None:
    turns = Turns(["a", "b"], max_defer_s=30.0)
    start = time.monotonic()
    assert turns.take(defer=True) in {"a", "b"}
    assert time.monotonic() - start < 1.0


def test_a_recheck_is_not_held_back_longer_than_its_limit_under_a_steady_live_load() -> None:
    turns = Turns(["worker"], max_defer_s=0.2)
    stop = threading.Event()

    def live_frames() -> None:  # three sessions' frames: one always waits while another is analysed
        while not stop.is_set():
            worker = turns.take(defer=False)
            time.sleep(0.01)
            turns.give(worker)

    load = [threading.Thread(target=live_frames, daemon=True) for _ in range(3)]
    for thread in load:
        thread.start()
    time.sleep(0.05)
    got: list[tuple[str, str]] = []
    start = time.monotonic()
    waiting(turns, True, got, "re-check").join(5)
    waited = time.monotonic() - start
    stop.set()
    if got:
        turns.give(got[0][1])
    for thread in load:
        thread.join(5)
    assert got == [("re-check", "worker")]
    assert 0.15 <= waited < 2.0  # after its limit, not never


def test_only_the_thread_marked_defers_to_live_work() -> None:
    marks: list[bool] = []

    def job_worker() -> None:
        defer_to_live_work()
        marks.append(defers_to_live_work())

    thread = threading.Thread(target=job_worker)
    thread.start()
    thread.join()
    assert marks == [True]
    assert not defers_to_live_work()  # this (a live) thread is not marked
