"""Durable jobs: what must happen after a command even if the process dies (sealing and its retries,
the evidence report, the recording's analysis, webhook deliveries).

A job is enqueued in the same transaction as the event that calls for it, keyed so that enqueueing
twice queues it once. A worker claims one due job at a time under a lease, runs its handler, and marks
it done, or schedules the next attempt with exponential backoff, or — after ``max_attempts`` — buries
it as ``dead`` with the last error (visible to operators; nothing is dropped silently). While the
handler runs, the worker renews its lease every third of the lease's length, so a job that runs longer
than the lease (a long recording's analysis) is not taken by a second worker. A worker that dies
mid-job stops renewing: its lease runs out and another worker takes the job again (handlers are
idempotent). A worker that stalled past its lease and lost the job to another ends nothing: its
outcome is logged and dropped, because the job now belongs to the new lease.
``version`` is the payload's format; a handler refuses versions it does not know.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dualsign.application.ports import Clock, UnitOfWork, UnitOfWorkFactory
from dualsign.application.records import Job

SEAL_SESSION = "seal_session"
RENDER_REPORT = "render_report"
ANALYSE_RECORDING = "analyse_recording"

_log = logging.getLogger("dualsign.jobs")


class UnknownJobVersion(Exception):
    def __init__(self, kind: str, version: int) -> None:
        super().__init__(f"job {kind} version {version} is not known to this worker")


@dataclass(frozen=True)
class RunAgain:
    """A handler's answer when nothing went wrong but its work is not done: run the job again at ``at``
    (not counted as a failure; ``reason`` is shown as the job's last message)."""

    at: dt.datetime
    reason: str


Handler = Callable[[Job], RunAgain | None]


@dataclass(frozen=True)
class Backoff:
    first_seconds: float = 30.0
    max_seconds: float = 3600.0

    def delay(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.first_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


def enqueue_sealing(uow: UnitOfWork, when: dt.datetime, session_id: str) -> bool:
    """Seal ``session_id`` at ``when``, in the caller's transaction: when the session ends (an outbox: a
    crash right after the commit still gets it sealed), at the end of the recording's grace period, once
    its recording has been re-checked, or after a failed attempt's backoff. A session has one seal job: one
    still queued is moved to ``when``. False when the seal job is running just now (nothing changed)."""
    return uow.jobs.enqueue(
        SEAL_SESSION, 1, f"seal:{session_id}", {"session_id": session_id}, when, 12, reschedule=True
    )


def enqueue_report(uow: UnitOfWork, now: dt.datetime, session_id: str) -> bool:
    """Render the evidence report of a session just sealed (called in the sealing transaction)."""
    return uow.jobs.enqueue(RENDER_REPORT, 1, f"report:{session_id}", {"session_id": session_id}, now, 5)


class JobRunner:
    def __init__(
        self,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        lease_seconds: float = 300.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.new_uow, self.clock, self.handlers = new_uow, clock, dict(handlers)
        self.lease_seconds = lease_seconds
        self.backoff = backoff or Backoff()

    @property
    def kinds(self) -> list[str]:
        return list(self.handlers)

    def run_once(self) -> Job | None:
        """Run one due job, if any; returns it as claimed."""
        with self.new_uow() as uow:
            job = uow.jobs.claim(self.clock.now(), self.lease_seconds, self.kinds)
            uow.commit()
        if job is None:
            return None
        self._execute(job)
        return job

    def run_id(self, job_id: str) -> Job | None:
        """Run this job if it is due and nobody holds it (a queue engine delivered its id); returns it
        as claimed, or None when there was nothing to do (done already, not due, leased by another)."""
        with self.new_uow() as uow:
            job = uow.jobs.claim_id(job_id, self.clock.now(), self.lease_seconds)
            uow.commit()
        if job is None:
            return None
        if job.kind not in self.handlers:
            self._failed(job, f"no handler for job kind {job.kind!r} in this worker")
            return job
        self._execute(job)
        return job

    def _execute(self, job: Job) -> None:
        try:
            with _LeaseKeeper(self, job):
                later = self.handlers[job.kind](job)
        except Exception as exc:  # a failed job is rescheduled or buried with its reason, never lost
            self._failed(job, f"{type(exc).__name__}: {exc}")
            return
        with self.new_uow() as uow:
            if later is not None:
                held = uow.jobs.retry(job.id, later.at, f"waiting: {later.reason}", lease=job.lease)
            else:
                held = uow.jobs.finish(job.id, self.clock.now(), lease=job.lease)
            uow.commit()
        if not held:
            _lost(job, "done" if later is None else f"run again at {later.at.isoformat()}")

    def run_due(self, limit: int = 100) -> int:
        """Run due jobs until none is due (or ``limit``); returns how many ran."""
        count = 0
        while count < limit and self.run_once() is not None:
            count += 1
        return count

    def _failed(self, job: Job, error: str) -> None:
        now = self.clock.now()
        with self.new_uow() as uow:
            if job.attempts >= job.max_attempts:
                held = uow.jobs.bury(job.id, now, error, lease=job.lease)
            else:
                later = now + self.backoff.delay(job.attempts + 1)
                held = uow.jobs.retry(job.id, later, error, lease=job.lease)
            uow.commit()
        if not held:
            _lost(job, f"failed: {error}")


def _lost(job: Job, outcome: str) -> None:
    _log.warning(
        "job %s (%s, attempt %d) lost its lease while running; another worker holds it now, so this "
        "outcome is dropped: %s",
        job.id,
        job.kind,
        job.attempts,
        outcome,
    )


class _LeaseKeeper:
    """Renews a running job's lease every third of its length until the handler returns. It stops
    when the lease is no longer held (the job belongs to another worker now); a renewal that fails
    (the database is away for a moment) is tried again at the next beat."""

    def __init__(self, runner: JobRunner, job: Job) -> None:
        self.runner, self.job = runner, job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _LeaseKeeper:
        if self.job.lease is not None:
            self._thread = threading.Thread(
                target=self._run, args=(self.job.lease,), name=f"lease-{self.job.id}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self, lease: str) -> None:
        seconds = self.runner.lease_seconds
        while not self._stop.wait(seconds / 3):
            try:
                with self.runner.new_uow() as uow:
                    until = self.runner.clock.now() + dt.timedelta(seconds=seconds)
                    held = uow.jobs.renew(self.job.id, lease, until)
                    uow.commit()
            except Exception:  # the next beat tries again; the lease has two more beats to run
                _log.exception("job %s: could not renew its lease", self.job.id)
                continue
            if not held:
                _log.warning("job %s: its lease ran out and another worker holds it", self.job.id)
                return


def check_version(job: Job, known: int) -> Mapping[str, Any]:
    if job.version != known:
        raise UnknownJobVersion(job.kind, job.version)
    return job.payload


def enqueue_analysis(uow: UnitOfWork, now: dt.datetime, session_id: str) -> bool:
    """Re-check a closed recording against the live decisions (sealing waits for it)."""
    return uow.jobs.enqueue(
        ANALYSE_RECORDING, 1, f"analyse:{session_id}", {"session_id": session_id}, now, max_attempts=3
    )
