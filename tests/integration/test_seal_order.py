"""The seal path in order: the recording closed (by the page, or after the grace period), re-checked by
its analysis job, which queues the seal once with its result; the seal then. Waiting is an answer, not
an error: no step commits and raises, and no job is re-queued on a timer while another works."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import Waiting, seal_session
from dualsign.application.outbox.jobs import JobRunner, RunAgain, enqueue_sealing
from dualsign.application.records import Job
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock, make_container
from tests.integration.test_recording import _signed_with_recording, new_session, put


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def jobs(c: Container) -> dict[str, Job]:
    with c.new_uow() as u:
        return {j.key: j for j in u.jobs.list()}


def kinds(client: TestClient, headers: dict[str, str], sid: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/v1/sessions/{sid}/events", headers=headers).json()]


def sealed(c: Container, sid: str) -> bool:
    with c.new_uow() as u:
        return u.seals.get(sid) is not None


def closed_recording(client: TestClient, c: Container, clock: FixedClock) -> tuple[dict[str, str], str]:
    """A signed session whose page uploaded its second chunk and closed the recording."""
    headers, signer, sid = new_session(client, c)
    _signed_with_recording(client, clock, signer)
    assert put(client, signer, 0, 1, b"webm-1").status_code == 201
    closed = client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 2}})
    assert closed.status_code == 200, closed.text
    return headers, sid


def test_the_analysis_queues_the_seal_once_and_asking_early_is_a_409_that_says_why(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    _signed_with_recording(client, clock, signer)
    grace = c.settings.recording_grace_seconds
    seal_job = jobs(c)[f"seal:{sid}"]  # queued when the session ended, moved to the end of the grace
    assert seal_job.state == "queued" and seal_job.run_after == clock.now() + dt.timedelta(seconds=grace)
    early = client.post(f"/v1/sessions/{sid}/seal", headers=headers)
    assert early.status_code == 409 and early.json()["code"] == "sealing_pending", early.text
    assert int(early.headers["retry-after"]) == grace and "upload the end of the recording" in early.text

    assert put(client, signer, 0, 1, b"webm-1").status_code == 201
    assert client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 2}}).is_success
    assert jobs(c)[f"analyse:{sid}"].state == "queued"  # the closed recording handed to its analysis
    waiting = client.post(f"/v1/sessions/{sid}/seal", headers=headers)
    assert waiting.status_code == 409 and "re-checked" in waiting.json()["detail"]
    assert "retry-after" not in waiting.headers  # it ends when the analysis does, not at a time

    runner = c.job_runner()
    first = runner.run_once()
    assert first is not None and first.kind == "analyse_recording"
    seal_job = jobs(c)[f"seal:{sid}"]  # the analysis queued the seal with its result: now
    assert seal_job.state == "queued" and seal_job.run_after == clock.now()
    second = runner.run_once()
    assert second is not None and second.kind == "seal_session" and sealed(c, sid)
    events = kinds(client, headers, sid)
    assert events.count("recording_analysed") == 1 and "sealing_failed" not in events
    assert events.index("recording_analysed") < events.index("qc_evaluated") < events.index("evidence_sealed")
    assert jobs(c)[f"seal:{sid}"].attempts == 1  # sealing ran once, after the analysis


def test_a_seal_job_that_looked_before_the_analysis_was_recorded_does_not_lose_the_seal(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    """Two workers: one runs the seal job and finds the recording not yet re-checked, just as the other
    records the analysis. The analysis cannot queue a seal job that is running, so it runs again a
    little later and queues it then."""
    client, c = env
    headers, sid = closed_recording(client, c, clock)
    clock.advance(c.settings.recording_grace_seconds + 1)  # the seal job is due again
    with c.new_uow() as u:  # another worker takes it ...
        seal_job = u.jobs.claim(clock.now(), 300, ["seal_session"])
        u.commit()
    assert seal_job is not None
    looked = seal_session(c.new_uow(), c.seal_services, sid)  # ... and looks: not re-checked yet
    assert isinstance(looked, Waiting) and looked.until is None

    runner = c.job_runner()
    ran = runner.run_once()
    assert ran is not None and ran.kind == "analyse_recording"
    analysis = jobs(c)[f"analyse:{sid}"]
    assert analysis.state == "queued" and (analysis.last_error or "").startswith("waiting: a seal job was")
    with c.new_uow() as u:  # the other worker's seal job ends as it decided: done, nothing sealed
        u.jobs.finish(seal_job.id, clock.now())
        u.commit()
    assert runner.run_due() == 0 and not sealed(c, sid)
    clock.advance(31)
    assert runner.run_due() >= 2  # the analysis queues the seal now; the seal runs
    assert sealed(c, sid) and kinds(client, headers, sid).count("recording_analysed") == 1
    assert jobs(c)[f"analyse:{sid}"].state == "done"


def test_a_seal_job_within_the_grace_period_waits_for_its_end_without_a_failure(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    """The process that ended the session died before it sealed: the outbox job runs at once, finds the
    page may still be uploading, and runs again at the end of the grace period (no failure recorded)."""
    client, c = env
    headers, signer, sid = new_session(client, c)
    _signed_with_recording(client, clock, signer)
    with c.new_uow() as u:  # as the outbox left it: due now
        enqueue_sealing(u, clock.now(), sid)
        u.commit()
    runner = c.job_runner()
    assert runner.run_due() == 1
    job = jobs(c)[f"seal:{sid}"]
    grace = dt.timedelta(seconds=c.settings.recording_grace_seconds)
    assert (job.state, job.run_after) == ("queued", clock.now() + grace)
    assert (job.last_error or "").startswith("waiting: the page may still upload")
    assert "sealing_failed" not in kinds(client, headers, sid) and not sealed(c, sid)
    clock.advance(grace.total_seconds() + 1)
    assert runner.run_due() >= 3  # closed by timeout and handed over; analysed; sealed
    events = kinds(client, headers, sid)
    assert (
        events.index("recording_closed")
        < events.index("recording_analysed")
        < events.index("evidence_sealed")
    )


def test_a_handler_that_must_wait_runs_again_then_and_it_is_no_failure(
    tmp_path: Path, clock: FixedClock
) -> None:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    seen: list[int] = []

    def probe(job: Job) -> RunAgain | None:
        seen.append(job.attempts)
        return RunAgain(clock.now() + dt.timedelta(seconds=60), "not yet") if len(seen) == 1 else None

    with c.new_uow() as u:
        u.jobs.enqueue("probe", 1, "probe:1", {}, clock.now(), max_attempts=1)
        u.commit()
    runner = JobRunner(c.new_uow, clock, {"probe": probe}, lease_seconds=30)
    assert runner.run_due() == 1
    waiting: Any = jobs(c)["probe:1"]
    assert (waiting.state, waiting.last_error) == ("queued", "waiting: not yet")  # not buried at 1 of 1
    assert runner.run_due() == 0
    clock.advance(61)
    assert runner.run_due() == 1 and jobs(c)["probe:1"].state == "done" and seen == [1, 2]
    c.close()
