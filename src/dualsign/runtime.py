"""How this process's threads share the CPU: background work (face analysis of live frames, the job
worker, the face embedder's child process) runs at a lower priority than answers being recognised; the
job worker's face work (re-checking closed recordings) waits for the live frames' at the face worker
processes; and among the live frames, those of a connection where a warning is building up, or that a
decision waits for, go before the others (``RankedThreadPool``).

A thread or process starts at the nice level of the thread that starts it, and an unprivileged thread
can never raise it again. A shared engine's threads (CTranslate2's, a deadline's pool) and processes (the
face workers) are therefore started through ``at_base_priority``: at the process's base priority, not at
that of whichever caller first needed them (the job worker at +10, after a restart with recordings left
to re-check, would otherwise make every later answer's recognition run at +10)."""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

BACKGROUND_NICE = 5  # face analysis of live frames yields the CPU to answers being recognised
# the in-process job worker (re-checking closed recordings, sealing) yields it to live frames too: on a
# saturated machine a recording is sealed later, instead of live warnings coming late
JOB_NICE = 10
_thread = threading.local()
T = TypeVar("T")


def lower_thread_priority(by: int = BACKGROUND_NICE) -> None:
    """Lower the calling thread's CPU priority by ``by`` nice levels (Linux schedules threads one by
    one; elsewhere a no-op)."""
    current = thread_nice()
    if current is None:
        return
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), current + by)


def thread_nice() -> int | None:
    """The calling thread's nice level (None where threads have none of their own)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except (AttributeError, OSError):
        return None


class _BaseThread:
    """One idle thread, started when this module is first imported (by the main thread, at the process's
    base priority), that runs what must start threads or processes at that priority."""

    def __init__(self) -> None:
        self._work: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()
        started = threading.Event()
        self.nice: int | None = None

        def serve() -> None:
            self.nice = thread_nice()
            started.set()
            while True:
                call, future = self._work.get()
                if future.set_running_or_notify_cancel():
                    try:
                        future.set_result(call())
                    except BaseException as exc:  # handed to the caller
                        future.set_exception(exc)

        threading.Thread(target=serve, name="base-priority", daemon=True).start()
        started.wait()

    def run(self, call: Callable[[], T]) -> T:
        mine = thread_nice()
        if mine is None or self.nice is None or mine <= self.nice:
            return call()  # already at the base priority (or above it)
        future: Future[T] = Future()
        self._work.put((call, future))
        return future.result()


_base = _BaseThread()


def _restart_base_thread() -> None:
    """A forked child has only the thread that forked: it gets a base-priority thread of its own (at
    that thread's priority), or a lowered caller would wait for a thread that is not there."""
    global _base
    _base = _BaseThread()


os.register_at_fork(after_in_child=_restart_base_thread)


def at_base_priority(call: Callable[[], T]) -> T:
    """``call()``, run so that the threads and processes it starts get the process's base priority
    whatever the caller's (on the base-priority thread when the caller is lower)."""
    return _base.run(call)


def prestarted_pool(workers: int, name: str) -> ThreadPoolExecutor:
    """A thread pool whose ``workers`` threads all exist on return, at the process's base priority (a
    ``ThreadPoolExecutor`` otherwise starts each thread from whichever caller first needs it)."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)

    def start_all() -> None:
        gate = threading.Barrier(workers + 1)
        for _ in range(workers):
            pool.submit(gate.wait)  # each waits at the gate, so the next submit starts a new thread
        gate.wait()

    at_base_priority(start_all)
    return pool


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


URGENT = 0  # work whose result a signer may be waiting for right now
ROUTINE = 1  # work that may wait its turn
MAX_ROUTINE_WAIT_S = 1.0  # the longest routine work waits behind urgent work that keeps arriving


class RankedThreadPool(Executor):
    """Threads that take urgent work first: a camera frame of a connection where a warning is building
    up, or that a decision waits for, before the routine frames of the others. Within a rank, work is
    taken in the order it came; routine work that has waited ``max_routine_wait_s`` is next in line, so
    that urgent work arriving all the time slows the rest but never stops it. Threads start as work
    comes, up to ``workers``; each runs ``initializer`` first."""

    def __init__(
        self,
        workers: int,
        name: str = "ranked",
        initializer: Callable[[], object] | None = None,
        max_routine_wait_s: float = MAX_ROUTINE_WAIT_S,
    ) -> None:
        self.workers = workers
        self.name = name
        self.initializer = initializer
        self.max_routine_wait_s = max_routine_wait_s
        self._queues: tuple[deque[_Work], deque[_Work]] = (deque(), deque())
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._closed = False

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.submit_ranked(ROUTINE, fn, *args, **kwargs)

    def submit_ranked(self, rank: int, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn(*args, **kwargs)`` on a thread of the pool, ``rank`` ``URGENT`` or ``ROUTINE``."""
        future: Future[T] = Future()
        with self._changed:
            if self._closed:
                raise RuntimeError(f"the {self.name} pool is shut down")
            self._queues[rank].append(_Work(functools.partial(fn, *args, **kwargs), future, time.monotonic()))
            waiting = len(self._queues[URGENT]) + len(self._queues[ROUTINE])
            if waiting > self._idle and len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._run, name=f"{self.name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                at_base_priority(thread.start)  # then its initializer lowers it by as much as it says
            self._changed.notify()
        return future

    def _next(self) -> _Work | None:
        """The next work to run (called holding the lock), None once shut down with nothing left."""
        urgent, routine = self._queues
        while True:
            if routine and (not urgent or time.monotonic() - routine[0].queued >= self.max_routine_wait_s):
                return routine.popleft()
            if urgent:
                return urgent.popleft()
            if self._closed:
                return None
            self._idle += 1
            try:
                self._changed.wait()
            finally:
                self._idle -= 1

    def _run(self) -> None:
        if self.initializer is not None:
            self.initializer()
        while True:
            with self._changed:
                work = self._next()
            if work is None:
                return
            if work.future.set_running_or_notify_cancel():
                try:
                    work.future.set_result(work.call())
                except BaseException as exc:  # handed to whoever waits on the future
                    work.future.set_exception(exc)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._changed:
            self._closed = True
            if cancel_futures:
                for queue in self._queues:
                    while queue:
                        queue.popleft().future.cancel()
            self._changed.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():
                    thread.join()


@dataclass(frozen=True)
class _Work:
    call: Callable[[], Any]
    future: Future[Any]
    queued: float  # time.monotonic() when submitted
