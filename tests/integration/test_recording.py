"""The whole-session recording: numbered, hashed chunks, idempotent retries, resuming, gaps flagged,
sealing waiting for the page (or for the grace period), and the automatic QC reading all of it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers
from tests.integration.test_signing import STROKES, publish, signer_headers, to_signing

T0 = 1_795_000_000_000  # the page's clock, epoch ms


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def put(client: TestClient, signer: dict[str, str], segment: int, index: int, data: bytes, **kw: Any) -> Any:
    start = kw.pop("start", T0 + (segment * 100 + index) * 1000)
    headers = {
        **signer,
        "X-Content-SHA256": kw.pop("digest", hashlib.sha256(data).hexdigest()),
        "X-Chunk-Started-Ms": str(start),
        "X-Chunk-Ended-Ms": str(start + 1000),
    }
    return client.put(f"/signer/v1/recording/{segment}/{index}", headers=headers, content=data)


def new_session(client: TestClient, c: Container) -> tuple[dict[str, str], dict[str, str], str]:
    headers = tenant_headers(c, "Example Life Insurance")
    publish(client, headers)
    created = create(client, headers, template="signing-check", signer_name="Zhang San").json()
    return headers, signer_headers(created), created["id"]


def test_chunks_are_idempotent_checked_resumable_and_gaps_are_flagged(
    env: tuple[TestClient, Container],
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    client.post("/signer/v1/open", headers=signer)
    early = put(client, signer, 0, 0, b"webm-0")
    assert early.status_code == 409 and early.json()["code"] == "recording_closed"
    assert "consent" in early.json()["detail"]
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})

    assert put(client, signer, 0, 0, b"webm-0").status_code == 201
    assert put(client, signer, 0, 1, b"webm-1").status_code == 201
    again = put(client, signer, 0, 1, b"webm-1")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    clash = put(client, signer, 0, 1, b"other bytes")
    assert clash.status_code == 409 and clash.json()["code"] == "chunk_conflict"
    assert clash.json()["stored_sha256"] == hashlib.sha256(b"webm-1").hexdigest()
    torn = put(client, signer, 0, 2, b"webm-2 (cut", digest=hashlib.sha256(b"webm-2 (cut short)").hexdigest())
    assert torn.status_code == 422 and torn.json()["errors"][0]["field"] == "X-Content-SHA256"
    bad = put(client, signer, -1, 0, b"x")
    assert bad.status_code == 422
    # chunk 2 never arrives; chunk 3 does; after a reload the page starts segment 1 six seconds later
    assert put(client, signer, 0, 3, b"webm-3").status_code == 201
    status = client.get("/signer/v1/recording", headers=signer).json()
    assert status["segments"] == [{"segment": 0, "indexes": [0, 1, 3]}] and status["next_segment"] == 1
    assert put(client, signer, 1, 0, b"webm-1-0", start=T0 + 10_000).status_code == 201

    closed = client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 5, "1": 1}})
    assert closed.status_code == 200, closed.text
    gaps = closed.json()["gaps"]
    assert {"segment": 0, "kind": "missing_chunks", "missing_indexes": [2, 4]} in gaps
    assert {"segment": 1, "kind": "between_segments", "seconds": 6.0} in gaps
    assert closed.json()["complete"] is False
    assert [m["segment"] for m in closed.json()["media"]] == [0, 1]
    assert "not a readable recording" in closed.json()["media"][0]["error"]  # these bytes are no webm
    late = put(client, signer, 1, 1, b"webm-1-1")
    assert late.status_code == 409 and late.json()["code"] == "recording_closed"

    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    chunks = [
        e for e in events if e["kind"] == "artifact_stored" and e["payload"]["role"] == "recording_chunk"
    ]
    assert [(e["payload"]["segment"], e["payload"]["index"]) for e in chunks] == [
        (0, 0),
        (0, 1),
        (0, 3),
        (1, 0),
    ]
    assert [e["kind"] for e in events].count("recording_closed") == 1


def test_refused_consent_stores_no_recording(env: tuple[TestClient, Container]) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": False, "reason": "no"})
    refused = put(client, signer, 0, 0, b"webm-0")
    assert refused.status_code == 409 and refused.json()["code"] == "recording_closed"
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    assert not [
        e for e in events if e["kind"] == "artifact_stored" and e["payload"]["role"] == "recording_chunk"
    ]
    assert not c.blobs.exists(hashlib.sha256(b"webm-0").hexdigest())


def _signed_with_recording(client: TestClient, clock: FixedClock, signer: dict[str, str]) -> None:
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    assert put(client, signer, 0, 0, b"webm-0", start=T0).status_code == 201
    to_signing(client, clock, signer)
    s = client.post("/signer/v1/signature", headers=signer, json=STROKES)
    assert s.json()["state"] == "signed", s.text


def test_sealing_waits_for_the_page_to_close_the_recording(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    _signed_with_recording(client, clock, signer)
    assert client.get(f"/v1/sessions/{sid}", headers=headers).json()["status"] == "signed"  # waiting
    assert put(client, signer, 0, 1, b"webm-1", start=T0 + 1000).status_code == 201  # the last chunk
    closed = client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 2}})
    assert closed.json()["gaps"] == [] and closed.json()["chunks"] == 2
    # sealing waits for the closed recording to be re-checked (a job), then seals
    waiting = client.get(f"/v1/sessions/{sid}", headers=headers).json()
    assert (waiting["status"], waiting["outcome"], waiting["sealed"]) == ("signed", "completed", False)
    assert c.job_runner().run_due() >= 2
    sealed = client.get(f"/v1/sessions/{sid}", headers=headers).json()
    assert (sealed["status"], sealed["outcome"], sealed["sealed"]) == ("sealed", "completed", True)
    assert sealed["outcome_reason"] is None
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    kinds = [e["kind"] for e in events]
    assert (
        kinds.index("recording_closed")
        < kinds.index("recording_analysed")
        < kinds.index("qc_evaluated")
        < kinds.index("evidence_sealed")
    )
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    rules = {r["rule"]: r for r in qc["rules"]}
    assert rules["consent_before_recording"]["verdict"] == "PASS"
    assert rules["signed_on_camera"]["verdict"] == "PASS"
    assert rules["identity_verified"]["verdict"] == "NEEDS_REVIEW"  # this template waives identity
    assert all(r["clause"] for r in qc["rules"]) and qc["ruleset"].startswith("qc-")
    # the recorded 2 s do not cover the session (consent to signature took longer): flagged
    assert rules["recording_complete"]["verdict"] == "FAIL"
    # the recording was re-checked, but this session's answer was typed and no face was watched
    assert rules["recording_reconciled"]["detail"].startswith("nothing to re-check"), rules
    assert qc["verdict"] == "FAIL"


def test_a_page_that_never_closes_the_recording_is_sealed_after_the_grace_period(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    _signed_with_recording(client, clock, signer)
    runner = c.job_runner()
    assert runner.run_due() == 0  # nothing due before the grace period ends
    clock.advance(c.settings.recording_grace_seconds + 1)
    assert runner.run_due() >= 1
    assert client.get(f"/v1/sessions/{sid}", headers=headers).json()["status"] == "sealed"
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    closed = next(e["payload"] for e in events if e["kind"] == "recording_closed")
    assert closed["closed_by"] == "timeout" and closed["chunks"] == 1
    late = put(client, signer, 0, 1, b"webm-1")
    assert late.status_code in (401, 409)
