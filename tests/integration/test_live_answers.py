"""Spoken answers over the live channel (WebSocket), end to end through the service.

English with the real default engines (espeak-ng prompts, Silero VAD, Whisper tiny.en); Chinese with
the shipped deterministic engines (tones, loudness VAD, scripted transcripts).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from dualsign.engines.fake import EnergyVad, FakeTts, ScriptedAsr, silence, tone
from dualsign.engines.registry import SpeechEngines
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers
from tests.speech_audio import answer, frames

HERE = Path(__file__).parent


def start(
    client: TestClient, container: Container, template: Path, key: str
) -> tuple[dict[str, str], str, str]:
    headers = tenant_headers(container, "Voice Co")
    r = client.post(
        "/v1/templates",
        headers={**headers, "Content-Type": "application/yaml"},
        content=template.read_bytes(),
    )
    assert r.status_code == 201, r.text
    created = create(client, headers, template=key).json()
    token = created["signer_url"].rsplit("/", 1)[1]
    client.post("/signer/v1/open", headers={"X-Signer-Token": token})
    state = client.post("/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True}).json()
    assert state["state"] == "questions"
    return headers, token, created["id"]


def speak(ws: WebSocketTestSession, audio: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Open an answer window, stream the audio as the page would, return (verdict, next state)."""
    ws.send_json({"type": "listen"})
    assert ws.receive_json()["type"] == "listening"
    for chunk in frames(audio):
        ws.send_bytes(chunk)
    messages: list[dict[str, Any]] = []
    while not messages or messages[-1]["type"] != "state":
        messages.append(ws.receive_json())
    verdict = next(m for m in messages if m["type"] == "verdict")
    return verdict, messages[-1]


@pytest.fixture
def english(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def test_english_spoken_answers_with_reask_through_the_real_engines(
    english: tuple[TestClient, Container],
) -> None:
    client, container = english
    headers, token, sid = start(client, container, HERE / "english_no_vision_template.yaml", "voice-check-en")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        state = ws.receive_json()
        assert state["prompt"]["question_id"] == "q1"
        audio = state["prompt_audio"]
        assert [a["role"] for a in audio] == ["question"]
        wav = client.get(audio[0]["url"])
        assert wav.status_code == 200 and wav.content[:4] == b"RIFF"

        verdict, state = speak(ws, answer("No, I don't understand."))
        assert verdict["verdict"] in ("REJECT", "UNCLEAR"), verdict
        assert state["prompt"]["question_id"] == "q1" and state["prompt"]["attempt"] == 2
        assert [a["role"] for a in state["prompt_audio"]] == ["reminder", "question"]
        assert '"yes"' in state["prompt_audio"][0]["text"]

        verdict, state = speak(ws, answer("Yes, I understand."))
        assert verdict["verdict"] == "ACCEPT", verdict
        assert state["prompt"]["question_id"] == "q2"

        verdict, state = speak(ws, answer("No.", tail=1.5))
        assert verdict["verdict"] == "ACCEPT", verdict
        assert state["state"] == "document_review"

    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    judged = [e["payload"] for e in events if e["kind"] == "answer_judged"]
    assert [j["verdict"] for j in judged][1:] == ["ACCEPT", "ACCEPT"]
    for j in judged:  # every attempt carries its audio, transcript, engine and model
        assert j["input"] == "speech" and len(j["audio_sha256"]) == 64
        assert j["engine"] == "faster-whisper" and "tiny.en" in j["model"]
        assert j["transcript"] and 0 < j["confidence"] <= 1
    stored = {
        e["payload"]["sha256"]
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "answer_audio"
    }
    assert {j["audio_sha256"] for j in judged} == stored
    asked = [e["payload"] for e in events if e["kind"] == "question_asked"]
    assert all(a["audio"] and a["audio"][-1]["engine"] == "espeak-ng" for a in asked)


def test_silence_is_no_speech_and_counts_as_an_attempt(english: tuple[TestClient, Container]) -> None:
    client, container = english
    _, token, _ = start(client, container, HERE / "english_no_vision_template.yaml", "voice-check-en")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        verdict, state = speak(ws, np.zeros(16000 * 4, dtype=np.float32))
        assert verdict["verdict"] == "NO_SPEECH" and verdict["transcript"] is None
        assert state["prompt"]["attempt"] == 2
        assert "did not hear" in state["prompt"]["reminder"]


@pytest.fixture
def chinese(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Container, ScriptedAsr]]:
    asr = ScriptedAsr(queue=["嗯，我不知道", "知道", "没有"])
    engines = SpeechEngines(tts=FakeTts(), vad=EnergyVad(), asr=asr)
    from dualsign.bootstrap.config import load_settings
    from dualsign.bootstrap.container import build_container

    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path / "d"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "DUALSIGN_SECRET_KEY": "k" * 40,
        }
    )
    c = build_container(settings, clock=clock, speech=engines)
    with TestClient(create_app(c)) as client:
        yield client, c, asr
    c.close()


def test_chinese_flow_with_the_scripted_engine(chinese: tuple[TestClient, Container, ScriptedAsr]) -> None:
    client, container, asr = chinese
    headers, token, sid = start(client, container, HERE / "no_vision_template.yaml", "text-mode-check")
    utterance = np.concatenate([silence(0.4), tone(0.8), silence(1.0)])
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        verdict, state = speak(ws, utterance)
        assert (verdict["transcript"], verdict["verdict"]) == ("嗯，我不知道", "REJECT")
        assert "请您明确回答“知晓”或“知道”" in state["prompt"]["reminder"]
        verdict, state = speak(ws, utterance)
        assert verdict["verdict"] == "ACCEPT"
        verdict, state = speak(ws, utterance)
        assert (verdict["transcript"], verdict["verdict"]) == ("没有", "ACCEPT")
        assert state["state"] == "document_review"
    # the recogniser was handed the hints with the negatives
    assert all(h is not None and "不知道" in h.phrases for _, h in asr.heard)
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    judged = [e["payload"] for e in events if e["kind"] == "answer_judged"]
    assert [(j["transcript"], j["verdict"], j["engine"]) for j in judged] == [
        ("嗯，我不知道", "REJECT", "fake-asr"),
        ("知道", "ACCEPT", "fake-asr"),
        ("没有", "ACCEPT", "fake-asr"),
    ]
    assert all(0.8 <= j["speech_end_ms"] / 1000 - j["speech_start_ms"] / 1000 <= 1.0 for j in judged)
    metrics = client.get("/metrics").text  # three verdicts timed, three recognitions
    assert 'dualsign_answer_verdict_seconds_count{input="speech"} 3.0' in metrics
    assert 'dualsign_engine_seconds_count{engine="fake-asr",task="asr"} 3.0' in metrics


def test_the_recogniser_of_the_sessions_language_is_prepared_when_the_signer_connects(
    chinese: tuple[TestClient, Container, ScriptedAsr],
) -> None:
    """The model loads while the signer consents and shows their face, not after the first answer; once
    per language and process."""
    client, container, asr = chinese
    _, token, _ = start(client, container, HERE / "no_vision_template.yaml", "text-mode-check")
    for _ in range(2):
        with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
            ws.receive_json()
            deadline = time.monotonic() + 5
            while not asr.prepared and time.monotonic() < deadline:
                time.sleep(0.01)
    assert asr.prepared == ["zh"]
    assert asr.heard == []  # preparing recognised no answer of the signer's


def test_audio_outside_a_window_is_ignored_and_bad_tokens_are_closed(
    english: tuple[TestClient, Container],
) -> None:
    client, container = english
    _, token, _ = start(client, container, HERE / "english_no_vision_template.yaml", "voice-check-en")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        ws.send_bytes(b"A" + b"\x00\x01" * 800)
        ws.send_json({"type": "state"})
        assert ws.receive_json()["prompt"]["attempt"] == 1
    with client.websocket_connect("/signer/v1/live?token=forged") as ws:
        message = ws.receive_json()
        assert message["type"] == "error" and message["code"] == "token_invalid"


def test_prompt_audio_of_another_session_is_not_served(english: tuple[TestClient, Container]) -> None:
    client, container = english
    _, token, _ = start(client, container, HERE / "english_no_vision_template.yaml", "voice-check-en")
    state = client.get("/signer/v1/session", headers={"X-Signer-Token": token}).json()
    digest = state["prompt_audio"][0]["sha256"]
    other = create(client, tenant_headers(container, "Other"), template="insurance-epolicy-en").json()
    other_token = other["signer_url"].rsplit("/", 1)[1]
    r = client.get(f"/signer/v1/prompt-audio/{digest}?token={other_token}")
    assert r.status_code == 404


def test_prerecorded_prompt_is_played_instead_of_tts_and_tts_prompts_are_cached(
    english: tuple[TestClient, Container],
) -> None:
    client, container = english
    headers = tenant_headers(container, "Recording Co")
    recording = answer("Do you understand that this product carries investment risk?", tail=0.2)
    from dualsign.media.audio import to_wav

    up = client.post(
        "/v1/templates/prompt-audio",
        headers={**headers, "Content-Type": "audio/wav"},
        content=to_wav(recording),
    )
    assert up.status_code == 201, up.text
    digest = up.json()["sha256"]
    text = (HERE / "english_no_vision_template.yaml").read_text(encoding="utf-8")
    q1 = "    prompt: Do you understand that this product carries investment risk?"
    with_audio = text.replace("key: voice-check-en", "key: voice-recorded").replace(
        q1, f"{q1}\n    prompt_audio: {digest}"
    )
    yaml_headers = {**headers, "Content-Type": "application/yaml"}
    assert client.post("/v1/templates", headers=yaml_headers, content=with_audio.encode()).status_code == 201
    unknown = with_audio.replace(digest, "0" * 64).replace("voice-recorded", "voice-unknown")
    refused = client.post("/v1/templates", headers=yaml_headers, content=unknown.encode())
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "questions.0.prompt_audio"

    played = []
    for _ in range(2):
        token = create(client, headers, template="voice-recorded").json()["signer_url"].rsplit("/", 1)[1]
        client.post("/signer/v1/open", headers={"X-Signer-Token": token})
        state = client.post(
            "/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True}
        ).json()
        assert state["prompt_audio"][0]["sha256"] == digest  # the operator's recording, not TTS
        state = client.post(
            "/signer/v1/answers", headers={"X-Signer-Token": token}, json={"text": "yes"}
        ).json()
        played.append(state["prompt_audio"][0]["sha256"])  # q2 has no recording: espeak-ng
    assert played[0] == played[1]  # synthesized once, the same bytes for every session
    bad = client.post(
        "/v1/templates/prompt-audio",
        headers={**headers, "Content-Type": "audio/wav"},
        content=b"RIFF not really",
    )
    assert bad.status_code == 422
