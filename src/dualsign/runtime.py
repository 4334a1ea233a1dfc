"""How this process's threads share the CPU: background work (face analysis of live frames, the job
worker, the face embedder's child process) runs at a lower priority than answers being recognised, and
the job worker's face work (re-checking closed recordings) waits for the live frames' at the face
worker processes."""

from __future__ import annotations

import os
import threading

BACKGROUND_NICE = 5  # face analysis of live frames yields the CPU to answers being recognised
_thread = threading.local()


def lower_thread_priority() -> None:
    """Lower the calling thread's CPU priority (Linux schedules threads one by one; elsewhere a no-op)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), current + BACKGROUND_NICE)
    except (AttributeError, OSError):
        return


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def defer_to_live_work() -> None:
    """Mark the calling thread's work as able to wait (the in-process job worker): a shared engine that
    serves live sessions too (the face worker processes) serves it after the live callers waiting."""
    _thread.defers = True


def defers_to_live_work() -> bool:
    """Whether the calling thread was marked by ``defer_to_live_work``."""
    return bool(getattr(_thread, "defers", False))
