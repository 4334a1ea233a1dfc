"""The real clock and id factory (the domain and use cases receive them; tests pass fixed ones)."""

from __future__ import annotations

import os
import secrets
import threading
from datetime import UTC, datetime

BACKGROUND_NICE = 5  # face analysis of live frames yields the CPU to answers being recognised


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """Ids like ``ses_3f9c…``: a type prefix and 96 random bits, unguessable across tenants."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"


def lower_thread_priority() -> None:
    """Lower the calling thread's CPU priority (Linux schedules threads one by one; elsewhere a no-op)."""
    try:
        current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), current + BACKGROUND_NICE)
    except (AttributeError, OSError):
        return
