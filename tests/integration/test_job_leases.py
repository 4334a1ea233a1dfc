"""A job runs once at a time: its worker renews the lease while the handler works, so a job longer
than the lease (a long recording's analysis) is not taken by a second worker; and a worker that
stalled past its lease and lost the job to another ends nothing (the new holder's outcome stands)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from dualsign.application.outbox.jobs import JobRunner, RunAgain
from dualsign.application.records import Job
from dualsign.bootstrap.container import Container
from dualsign.storage.database import SqlUnitOfWork
from dualsign.storage.tables import JobRow
from tests.conftest import FixedClock, make_container

LEASE = 3.0  # seconds of the job's clock; the keeper renews every third of it, in real seconds


def the_job(c: Container) -> Job:
    with c.new_uow() as u:
        (job,) = u.jobs.list(key_prefix="probe:")
        return job


def locked_until(c: Container) -> float:
    """When the running job's lease runs out, as stored."""
    with c.new_uow() as u:
        assert isinstance(u, SqlUnitOfWork)
        until = u.db.scalar(select(JobRow.locked_until).where(JobRow.key == "probe:1"))
        assert until is not None
        return until.timestamp()


@pytest.fixture
def container(tmp_path: Path, database_url: str, clock: FixedClock) -> Container:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with c.new_uow() as u:
        u.jobs.enqueue("probe", 1, "probe:1", {}, clock.now(), max_attempts=3)
        u.commit()
    return c


def test_a_job_longer_than_its_lease_keeps_it_and_no_second_worker_takes_it(
    container: Container, clock: FixedClock
) -> None:
    c = container
    taken_by_second: list[int] = []
    second = JobRunner(c.new_uow, clock, {"probe": lambda j: taken_by_second.append(j.attempts)})
    claimed_by_second: list[int] = []

    def long_analysis(job: Job) -> None:
        # three lease lengths pass on the job's clock while it works; after each, the lease is renewed
        for _ in range(3):
            clock.advance(LEASE)
            deadline = time.monotonic() + 15
            while locked_until(c) <= clock.now().timestamp():
                assert time.monotonic() < deadline, "the running worker did not renew its lease"
                time.sleep(0.05)
            claimed_by_second.append(second.run_due())

    runner = JobRunner(c.new_uow, clock, {"probe": long_analysis}, lease_seconds=LEASE)
    assert runner.run_due() == 1
    assert claimed_by_second == [0, 0, 0] and taken_by_second == []
    job = the_job(c)
    assert (job.state, job.attempts, job.lease) == ("done", 1, None)
    c.close()


@pytest.mark.parametrize("stale_outcome", ["done", "failed", "run again"])
def test_a_worker_that_lost_its_lease_ends_nothing_the_new_holder_decides(
    container: Container, clock: FixedClock, stale_outcome: str
) -> None:
    c = container
    seen: list[int] = []
    new_holder: list[Job] = []

    def probe(job: Job) -> RunAgain | None:
        seen.append(job.attempts)
        if job.attempts > 1:
            return None  # the second worker's run: it completes the job
        # the first worker stalls past its lease (no beat came: the lease is 60 s, the beat 20 s real)
        clock.advance(61)
        assert other.run_due() == 1  # another worker takes the job and completes it
        new_holder.append(the_job(c))
        if stale_outcome == "failed":
            raise RuntimeError("the stalled worker's engine failed")
        if stale_outcome == "run again":
            return RunAgain(clock.now(), "stalled worker wants another go")
        return None

    runner = JobRunner(c.new_uow, clock, {"probe": probe}, lease_seconds=60)
    other = JobRunner(c.new_uow, clock, {"probe": probe}, lease_seconds=60)
    assert runner.run_due() == 1
    assert seen == [1, 2] and new_holder[0].state == "done"
    job = the_job(c)
    # the stalled worker neither re-queued the finished job nor wrote its error on it
    assert (job.state, job.attempts, job.last_error) == ("done", 2, None)
    assert runner.run_due() == 0 and seen == [1, 2]
    c.close()
