"""Jobs carried by RQ on the real Redis (127.0.0.1:6379), on SQLite and the real PostgreSQL.

The job table stays the record: every job runs once however often its id is delivered, failures are
retried with backoff, ids lost by Redis are sent again, and `dualsign worker` processes with
DUALSIGN_JOB_QUEUE=rq render the reports of sessions sealed by an API process that runs no worker.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from fastapi.testclient import TestClient
from redis import Redis
from rq import Queue
from rq.registry import FinishedJobRegistry

from dualsign.api.app import create_app
from dualsign.application.outbox.jobs import JobRunner
from dualsign.application.records import Job
from dualsign.bootstrap.container import Container
from dualsign.jobs.rq import SENT_KEY, RqJobs, run_job
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers

REDIS_URL = "redis://127.0.0.1:6379/0"
DUALSIGN = Path(sys.executable).parent / "dualsign"


@pytest.fixture
def redis() -> Redis:
    r = Redis.from_url(REDIS_URL)
    try:
        r.ping()
    except Exception as exc:  # scripts/services.sh starts Redis: unreachable is a real failure
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {exc}")
    return r


@pytest.fixture
def jobs_container(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[Container]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    yield c
    c.close()


def _enqueue(c: Container, kind: str, key: str) -> str:
    with c.new_uow() as uow:
        uow.jobs.enqueue(kind, 1, key, {"key": key}, c.clock.now(), max_attempts=3)
        uow.commit()
        return next(j.id for j in uow.jobs.list(key_prefix=key))


def _states(c: Container) -> dict[str, tuple[str, int]]:
    with c.new_uow() as uow:
        return {str(j.payload["key"]): (j.state, j.attempts) for j in uow.jobs.list()}


def test_each_job_runs_once_retries_and_survives_lost_messages(
    jobs_container: Container, clock: FixedClock, redis: Redis
) -> None:
    c = jobs_container
    ran: Counter[str] = Counter()
    failures = {"flaky": 1}

    def probe(job: Job) -> None:
        key = str(job.payload["key"])
        ran[key] += 1
        if failures.get(key.split("-")[0], 0) >= ran[key]:
            raise RuntimeError("the receiving system is down")

    runner = JobRunner(c.new_uow, clock, {"probe": probe}, lease_seconds=30)
    queue = f"dualsign-test-{uuid.uuid4().hex[:12]}"
    rq_jobs = RqJobs(REDIS_URL, runner, c.new_uow, clock, queue=queue)
    ids = [_enqueue(c, "probe", f"plain-{i}") for i in range(8)] + [_enqueue(c, "probe", "flaky-0")]

    rq_jobs.work(burst=True)
    assert ran == Counter({**{f"plain-{i}": 1 for i in range(8)}, "flaky-0": 1})
    states = _states(c)
    assert all(states[f"plain-{i}"] == ("done", 1) for i in range(8))
    assert states["flaky-0"] == ("queued", 1)  # failed once: waits for its backoff, not lost

    # the same ids delivered again (a relay that did not see the first run, a redelivery): no second run
    for job_id in ids[:3]:
        assert run_job(job_id).startswith("skipped")
    assert sum(ran.values()) == 9

    clock.advance(3600)  # the backoff has passed: the relay sends the retry, which succeeds
    rq_jobs.work(burst=True)
    assert ran["flaky-0"] == 2 and _states(c)["flaky-0"] == ("done", 2)

    # Redis loses what it held (it keeps nothing on disk): the queued message and the "sent" mark
    late = _enqueue(c, "probe", "late-0")
    assert rq_jobs.relay_once() == 1
    assert rq_jobs.relay_once() == 0  # sent once while its mark lives
    redis.delete(f"rq:queue:{queue}", SENT_KEY.format(late))
    rq_jobs.work(burst=True)
    assert ran["late-0"] == 1 and _states(c)["late-0"] == ("done", 1)


def _worker(env: dict[str, str], log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(DUALSIGN), "worker", "--poll", "0.5"], env=env, stderr=log, stdout=subprocess.DEVNULL
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_worker_processes_on_rq_render_the_reports_an_api_process_left(
    tmp_path: Path, database_url_pg: str, redis: Redis
) -> None:
    queue_name = "dualsign-jobs"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUALSIGN_")},
        "DUALSIGN_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url_pg,
        "DUALSIGN_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789",
        "DUALSIGN_JOB_QUEUE": "rq",
        "DUALSIGN_REDIS_URL": REDIS_URL,
        "DUALSIGN_JOB_LEASE_SECONDS": "20",
        "DUALSIGN_LOG_FORMAT": "text",
    }
    api = make_container(
        tmp_path,
        database_url_pg,
        FixedClock(dt.datetime.now(dt.UTC)),
        DUALSIGN_WORKER="off",
        DUALSIGN_JOB_QUEUE="rq",
        DUALSIGN_REDIS_URL=REDIS_URL,
    )
    sessions = []
    with TestClient(create_app(api)) as client:
        headers = tenant_headers(api, "RQ Bank")
        for _ in range(4):
            sid = create(client, headers).json()["id"]
            assert client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "r"}).is_success
            sessions.append(sid)
    with api.new_uow() as uow:
        waiting = [j for j in uow.jobs.list(states=["queued"]) if j.kind == "render_report"]
    assert len(waiting) == 4  # sealed by the API process; the reports are left to the workers

    log_files = [(tmp_path / f"worker-{i}.log").open("wb") for i in range(2)]
    workers = [_worker(env, log) for log in log_files]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with api.new_uow() as uow:
                jobs = uow.jobs.list()
            if jobs and all(j.state == "done" for j in jobs):
                break
            time.sleep(0.5)
        pids = {str(w.pid) for w in workers}
        registry = FinishedJobRegistry(queue_name, connection=redis)
        finished = [Queue(queue_name, connection=redis).fetch_job(i) for i in registry.get_job_ids()]
        results = [str(j.return_value()) for j in finished if j is not None]
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=30)
            except subprocess.TimeoutExpired:  # a warm shutdown still waiting: what ran is checked below
                w.kill()
                w.wait(timeout=10)
        for log in log_files:
            log.close()
    logs = "\n".join((tmp_path / f"worker-{i}.log").read_text(errors="replace") for i in range(2))
    assert all(j.state == "done" and j.attempts == 1 for j in jobs), (jobs, logs)
    ran = [r for r in results if r.startswith("ran render_report")]
    assert len([r for r in ran if r.rsplit(":", 1)[1] in pids]) >= 4, (results, logs)
    with api.new_uow() as uow:
        seals = [uow.seals.get(sid) for sid in sessions]
    assert all(s is not None and s.report_blob is not None for s in seals)  # each report rendered
    reports = [api.blobs.get(s.report_blob) for s in seals if s is not None and s.report_blob]
    assert all(r.startswith(b"%PDF") for r in reports)
    api.close()
