"""The recording re-checked after the session (a durable job) before QC and sealing: every spoken answer
heard again in the uploaded recording, with the real Silero VAD and Whisper; a recording that says
otherwise than the live audio fails QC; a failing engine is retried, and on the last attempt its failure
is recorded (the session is sealed with a failing check, never left waiting or passed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock, make_container
from tests.integration.test_live_answers import HERE, speak, start
from tests.integration.test_rerecognition import encode
from tests.speech_audio import answer, silence, speech


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def sealed(c: Container, sid: str) -> bool:
    with c.new_uow() as uow:
        return uow.seals.get(sid) is not None


def ms(clock: FixedClock) -> int:
    return round(clock.now().timestamp() * 1000)


def answered_session(
    client: TestClient, c: Container, clock: FixedClock, recorded_q2: str, *, damaged: bool = False
) -> tuple[dict[str, str], str]:
    """q1 and q2 answered live ("Yes, I understand.", "No.": both accepted), 3 s apart; the page's
    recording, started 1 s before the first question, has ``recorded_q2`` where the second answer was."""
    headers, token, sid = start(client, c, HERE / "english_no_vision_template.yaml", "voice-check-en")
    asked = ms(clock)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        clock.advance(3)
        verdict, _ = speak(ws, answer("Yes, I understand."))
        assert verdict["verdict"] == "ACCEPT", verdict
        clock.advance(3)
        verdict, state = speak(ws, answer("No.", tail=1.5))
        assert verdict["verdict"] == "ACCEPT" and state["state"] == "document_review", verdict
    clock.advance(2)
    # the recording's time is the session's + 1 s: q1 answered in 1 to 4.5 s, q2 in 4 to 7.5 s
    recorded = np.concatenate([silence(1.5), speech("Yes, I understand.")])
    recorded = np.concatenate([recorded, silence(5.0 - len(recorded) / 16000), speech(recorded_q2)])
    recorded = np.concatenate([recorded, silence(9.0 - len(recorded) / 16000)])
    data = encode(recorded, "webm", "libopus", 48000)
    if damaged:  # what a broken recorder might upload: the header and then noise
        data = data[:64] + bytes(range(256)) * 40
    chunk = {
        "X-Signer-Token": token,
        "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
        "X-Chunk-Started-Ms": str(asked - 1000),
        "X-Chunk-Ended-Ms": str(ms(clock)),
    }
    assert client.put("/signer/v1/recording/0/0", headers=chunk, content=data).status_code == 201
    closed = client.post(
        "/signer/v1/recording/finish", headers={"X-Signer-Token": token}, json={"segments": {"0": 1}}
    )
    assert closed.status_code == 200, closed.text
    cancelled = client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "test"})
    assert cancelled.status_code == 200, cancelled.text
    return headers, sid


def outcome(client: TestClient, headers: dict[str, str], sid: str) -> tuple[dict[str, Any], dict[str, Any]]:
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    kinds = [e["kind"] for e in events]
    assert kinds.index("recording_analysed") < kinds.index("qc_evaluated") < kinds.index("evidence_sealed")
    analysed = next(e["payload"] for e in events if e["kind"] == "recording_analysed")
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    return analysed, {r["rule"]: r for r in qc["rules"]}["recording_reconciled"]


def test_every_answer_is_heard_again_in_the_recording_before_sealing(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, sid = answered_session(client, c, clock, "No.")
    assert client.get(f"/v1/sessions/{sid}", headers=headers).json()["status"] == "cancelled"
    runner = c.job_runner()
    assert runner.run_due() >= 2  # the seal waits for the analysis job, which queues the seal again
    assert sealed(c, sid)
    analysed, rule = outcome(client, headers, sid)
    assert [(a["question_id"], a["live"], a["recording"]) for a in analysed["answers"]] == [
        ("q1", "ACCEPT", "ACCEPT"),
        ("q2", "ACCEPT", "ACCEPT"),
    ], analysed["answers"]
    q1, q2 = analysed["answers"]
    assert "understand" in q1["transcript"].lower() and q2["transcript"].lower().startswith("no")
    assert q1["window_s"] == [1.0, 4.5] and q2["window_s"] == [4.0, 7.5]
    assert analysed["errors"] == [] and analysed["faces"] is None  # this template processes no face data
    assert rule["verdict"] == "PASS", rule
    metrics = client.get("/metrics").text  # the analysis is timed with the engines
    assert 'dualsign_engine_seconds_count{engine="post-hoc",task="analyse_recording"} 1.0' in metrics


def test_a_recording_that_contradicts_the_live_answer_fails_qc(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, sid = answered_session(client, c, clock, "Yes.")  # the live stream said "No."
    c.job_runner().run_due()
    analysed, rule = outcome(client, headers, sid)
    assert [a["recording"] for a in analysed["answers"]] == ["ACCEPT", "REJECT"], analysed
    assert rule["verdict"] == "FAIL" and "the recording says no: q2#1" in rule["detail"], rule


def test_a_recording_that_cannot_be_decoded_fails_qc(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, sid = answered_session(client, c, clock, "No.", damaged=True)
    c.job_runner().run_due()
    analysed, rule = outcome(client, headers, sid)
    assert analysed["answers"] == [] and "segment 0: the audio cannot be decoded" in analysed["errors"][0]
    assert rule["verdict"] == "FAIL" and "cannot be decoded" in rule["detail"], rule


def test_a_failing_engine_is_retried_and_its_last_failure_is_recorded(
    env: tuple[TestClient, Container], clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, c = env
    headers, sid = answered_session(client, c, clock, "No.")

    def broken(*_a: Any, **_k: Any) -> Any:
        raise MemoryError("the recogniser ran out of memory")

    monkeypatch.setattr("dualsign.application.qc.post_hoc.rerecognize", broken)
    runner = c.job_runner()
    runner.run_due()
    assert not sealed(c, sid)  # not sealed without its check
    for _ in range(2):  # the job's backoff, then its last attempt
        clock.advance(3600)
        runner.run_due()
    assert sealed(c, sid)
    analysed, rule = outcome(client, headers, sid)
    assert analysed["errors"] == ["analysis failed: MemoryError: the recogniser ran out of memory"]
    assert rule["verdict"] == "FAIL" and "ran out of memory" in rule["detail"]


def test_with_post_hoc_analysis_off_the_session_is_sealed_without_and_qc_asks_for_a_person(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off", DUALSIGN_POST_HOC="false")
    with TestClient(create_app(c)) as client:
        headers, sid = answered_session(client, c, clock, "No.")
        c.job_runner().run_due()
        assert sealed(c, sid)
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
        assert "recording_analysed" not in [e["kind"] for e in events]
        qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
        rule = {r["rule"]: r for r in qc["rules"]}["recording_reconciled"]
        assert rule["verdict"] == "NEEDS_REVIEW" and "not re-checked" in rule["detail"]
    c.close()


def test_a_post_hoc_setting_that_is_not_true_or_false_is_refused(tmp_path: Path) -> None:
    from dualsign.bootstrap.config import load_settings

    with pytest.raises(SystemExit, match="DUALSIGN_POST_HOC must be true or false, got 'yes'"):
        load_settings({"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_POST_HOC": "yes"})


def test_a_time_zone_that_is_not_an_iana_name_is_refused(tmp_path: Path) -> None:
    from dualsign.bootstrap.config import load_settings

    with pytest.raises(SystemExit, match=r"DUALSIGN_TIME_ZONE must be an IANA time zone .* got 'CST'"):
        load_settings({"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_TIME_ZONE": "CST"})
    assert load_settings({"DUALSIGN_DATA_DIR": str(tmp_path)}).time_zone == "Asia/Shanghai"
