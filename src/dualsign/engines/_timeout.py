"""Run an engine call in a worker thread with a deadline: a hung model never hangs a signer's session."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TypeVar

from dualsign.engines.base import EngineFailed
from dualsign.runtime import prestarted_pool

T = TypeVar("T")


class Deadline:
    def __init__(self, engine: str, workers: int) -> None:
        self.engine = engine
        # started now at the process's base priority: an answer's call never runs on a thread the job
        # worker started at its lower priority
        self._pool = prestarted_pool(workers, f"{engine}-")

    def run(self, fn: Callable[[], T], timeout_s: float) -> T:
        future = self._pool.submit(fn)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            future.cancel()
            raise EngineFailed(self.engine, f"no result within {timeout_s:.1f} s") from None
        except EngineFailed:
            raise
        except Exception as exc:  # a library error becomes data the caller records
            raise EngineFailed(self.engine, f"{type(exc).__name__}: {exc}") from exc
