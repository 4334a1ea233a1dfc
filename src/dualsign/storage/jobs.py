"""The durable job table behind the ``JobQueue`` port (``application.outbox.jobs``): enqueueing by key,
leases, retries and dead jobs. Like the repositories, it never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from dualsign.application.records import Job
from dualsign.storage.repositories import utc
from dualsign.storage.tables import JobRow


def _job(row: JobRow) -> Job:
    return Job(
        row.id,
        row.kind,
        row.version,
        row.key,
        dict(row.payload),
        row.state,
        row.attempts,
        row.max_attempts,
        utc(row.run_after),
        row.last_error,
        row.lease_id if row.state == "running" else None,
    )


class SqlJobs:
    """The durable job table. PostgreSQL workers claim with ``FOR UPDATE SKIP LOCKED``; SQLite has one
    writer at a time."""

    def __init__(self, db: Session) -> None:
        self.db = db

    def enqueue(
        self,
        kind: str,
        version: int,
        key: str,
        payload: dict[str, Any],
        run_after: datetime,
        max_attempts: int,
        *,
        reschedule: bool = False,
    ) -> bool:
        row = self.db.scalar(select(JobRow).where(JobRow.key == key))
        if row is not None and row.state == "queued" and reschedule:
            row.run_after = run_after
            self.db.flush()
            return True
        if row is not None and row.state in ("queued", "running"):
            return False
        if row is None:
            row = JobRow(id=f"job_{uuid.uuid4().hex[:24]}", key=key, created_at=run_after)
            self.db.add(row)
        row.kind, row.version, row.payload = kind, version, payload
        row.state, row.attempts, row.max_attempts = "queued", 0, max_attempts
        row.run_after, row.locked_until, row.last_error, row.finished_at = run_after, None, None, None
        row.lease_id = None
        self.db.flush()
        return True

    @staticmethod
    def _due(now: datetime) -> Any:
        return or_(
            (JobRow.state == "queued") & (JobRow.run_after <= now),
            (JobRow.state == "running") & (JobRow.locked_until < now),
        )

    def claim(self, now: datetime, lease_seconds: float, kinds: Sequence[str]) -> Job | None:
        query = (
            select(JobRow)
            .where(self._due(now), JobRow.kind.in_(list(kinds)))
            .order_by(JobRow.run_after)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        return self._lease(self.db.scalar(query), now, lease_seconds)

    def claim_id(self, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
        query = select(JobRow).where(JobRow.id == job_id, self._due(now)).with_for_update(skip_locked=True)
        return self._lease(self.db.scalar(query), now, lease_seconds)

    def due_ids(self, now: datetime, kinds: Sequence[str], limit: int) -> Sequence[str]:
        query = (
            select(JobRow.id)
            .where(self._due(now), JobRow.kind.in_(list(kinds)))
            .order_by(JobRow.run_after)
            .limit(limit)
        )
        return [str(i) for i in self.db.scalars(query)]

    def _lease(self, row: JobRow | None, now: datetime, lease_seconds: float) -> Job | None:
        if row is None:
            return None
        row.state, row.attempts = "running", row.attempts + 1
        row.locked_until = now + timedelta(seconds=lease_seconds)
        row.lease_id = uuid.uuid4().hex
        self.db.flush()
        return _job(row)

    def _set(self, job_id: str, lease: str | None, **values: Any) -> bool:
        query = update(JobRow).where(JobRow.id == job_id)
        if lease is not None:
            query = query.where(JobRow.lease_id == lease, JobRow.state == "running")
        result = self.db.execute(query.values(**values))
        return bool(getattr(result, "rowcount", 0))

    def renew(self, job_id: str, lease: str, until: datetime) -> bool:
        return self._set(job_id, lease, locked_until=until)

    def _release(self, job_id: str, lease: str | None, state: str, **values: Any) -> bool:
        """End the running job's lease and put it in ``state``."""
        return self._set(job_id, lease, state=state, locked_until=None, lease_id=None, **values)

    def finish(self, job_id: str, now: datetime, *, lease: str | None = None) -> bool:
        return self._release(job_id, lease, "done", finished_at=now)

    def retry(self, job_id: str, run_after: datetime, error: str, *, lease: str | None = None) -> bool:
        return self._release(job_id, lease, "queued", run_after=run_after, last_error=error[:2000])

    def bury(self, job_id: str, now: datetime, error: str, *, lease: str | None = None) -> bool:
        return self._release(job_id, lease, "dead", finished_at=now, last_error=error[:2000])

    def counts(self) -> dict[tuple[str, str], int]:
        rows = self.db.execute(
            select(JobRow.kind, JobRow.state, func.count()).group_by(JobRow.kind, JobRow.state)
        )
        return {(str(kind), str(state)): int(n) for kind, state, n in rows}

    def list(self, states: Sequence[str] = (), key_prefix: str = "") -> Sequence[Job]:
        query = select(JobRow).order_by(JobRow.created_at, JobRow.key)
        if key_prefix:
            query = query.where(JobRow.key.startswith(key_prefix, autoescape=True))
        if states:
            query = query.where(JobRow.state.in_(list(states)))
        return [_job(r) for r in self.db.scalars(query)]
