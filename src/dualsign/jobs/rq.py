"""Durable jobs carried by RQ on Redis: the scale-out engine of ``dualsign worker`` processes.

The job table stays the record of what must happen (a job is written in the transaction of the event
that calls for it, and its state, attempts and errors live there). RQ carries "run job X" messages to
whichever worker process is free:

- the relay (a thread of every worker) looks at the job table each poll and puts the ids of due jobs
  (queued and due, or leased by a worker whose lease ran out) on the RQ queue, each at most once while
  a Redis key ``dualsign:jobs:sent:<id>`` lives (``SET NX`` with the lease as expiry), so several
  relays send a job once;
- each worker runs an RQ ``SimpleWorker`` whose task ``run_job`` leases that job's row (``FOR UPDATE
  SKIP LOCKED`` on PostgreSQL) and runs its handler exactly as the embedded worker does: done, retried
  with backoff, or buried as dead with its last error. A row already done or leased is skipped.

Nothing lives only in Redis: if Redis loses its data (or a worker dies holding a message), the key
expires and the relay sends the id again; the lease makes a second delivery harmless.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from dualsign.application.outbox.jobs import JobRunner
from dualsign.application.ports import Clock, UnitOfWorkFactory

QUEUE = "dualsign-jobs"
SENT_KEY = "dualsign:jobs:sent:{}"
RESULT_TTL_S = 3600  # RQ keeps who ran what for an hour (operators' view; the job table is the record)
_log = logging.getLogger("dualsign.jobs")
_runner: JobRunner | None = None  # the runner of this worker process (set by ``RqJobs.work``)
_redis: Redis | None = None


def run_job(job_id: str) -> str:
    """The RQ task: run one job of the job table by id. Returns what happened (kept as RQ's result)."""
    if _runner is None:
        raise RuntimeError("run_job runs inside `dualsign worker` (no job runner in this process)")
    try:
        job = _runner.run_id(job_id)
    finally:
        if _redis is not None:
            _redis.delete(SENT_KEY.format(job_id))  # a retry later is sent again when it is due
    if job is None:
        return "skipped: not due or leased by another worker"
    return f"ran {job.kind} attempt {job.attempts} in {socket.gethostname()}:{os.getpid()}"


class RqJobs:
    def __init__(
        self,
        redis_url: str,
        runner: JobRunner,
        new_uow: UnitOfWorkFactory,
        clock: Clock,
        *,
        queue: str = QUEUE,
    ) -> None:
        self.redis = Redis.from_url(redis_url)
        self.queue = Queue(queue, connection=self.redis)
        self.runner, self.new_uow, self.clock = runner, new_uow, clock
        self._stop = threading.Event()

    def relay_once(self, limit: int = 500) -> int:
        """Send the ids of due jobs not sent yet; returns how many were sent."""
        with self.new_uow() as uow:
            ids = uow.jobs.due_ids(self.clock.now(), self.runner.kinds, limit)
        sent = 0
        expiry = max(1, round(self.runner.lease_seconds))
        for job_id in ids:
            if self.redis.set(SENT_KEY.format(job_id), "1", nx=True, ex=expiry):
                self.queue.enqueue(run_job, job_id, result_ttl=RESULT_TTL_S, description=f"job {job_id}")
                sent += 1
        return sent

    def _relay(self, poll_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                self.relay_once()
            except Exception:  # the database or Redis went away: try again at the next poll
                _log.exception("job relay: could not send due jobs")
            self._stop.wait(poll_seconds)

    def work(self, poll_seconds: float = 1.0, *, burst: bool = False, name: str | None = None) -> None:
        """Relay and run jobs in this process until interrupted (``burst``: until the queue is empty)."""
        global _runner, _redis
        _runner, _redis = self.runner, self.redis
        relay: threading.Thread | None = None
        if burst:
            self.relay_once()
        else:
            relay = threading.Thread(target=self._relay, args=(poll_seconds,), name="dualsign-relay")
            relay.daemon = True
            relay.start()
        worker: Any = SimpleWorker([self.queue], connection=self.redis, name=name)
        try:
            worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
        finally:
            self._stop.set()
            if relay is not None:
                relay.join(timeout=5)
