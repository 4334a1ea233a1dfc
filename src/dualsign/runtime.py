"""How this process's threads share the CPU: background work (face analysis of live frames, the job
worker, the face embedder's child process) runs at a lower priority than answers being recognised."""

from __future__ import annotations

import os
import threading

BACKGROUND_NICE = 5  # face analysis of live frames yields the CPU to answers being recognised


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
