"""The verdict previewed in the closing silence of a spoken answer, over the live channel.

The page sees the verdict as soon as the speculative transcript is judged (``provisional``), well
before the end of the answer is confirmed; the recorded verdict follows on the same transcript. If the
signer speaks again first, the preview is withdrawn and the whole answer is judged. Deterministic
engines: a loudness VAD and scripted transcripts (one per recognition, in order).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from dualsign.api.app import create_app
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container
from dualsign.domain.endpointing import EndpointConfig
from dualsign.engines.fake import EnergyVad, FakeTts, ScriptedAsr, silence, tone
from dualsign.engines.registry import SpeechEngines
from tests.conftest import FixedClock
from tests.integration.test_live_answers import HERE, start
from tests.speech_audio import frames

SPOKEN = tone(0.8)
END_S = EndpointConfig().end_silence_ms / 1000 + 0.1  # enough silence to confirm the end of an answer


@pytest.fixture
def scripted(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Container, ScriptedAsr]]:
    asr = ScriptedAsr()
    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path / "d"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "DUALSIGN_SECRET_KEY": "k" * 40,
        }
    )
    c = build_container(settings, clock=clock, speech=SpeechEngines(tts=FakeTts(), vad=EnergyVad(), asr=asr))
    with TestClient(create_app(c)) as client:
        yield client, c, asr
    c.close()


def send(ws: WebSocketTestSession, audio: np.ndarray) -> None:
    for chunk in frames(audio):
        ws.send_bytes(chunk)


def until(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    """Messages up to and including the first of type ``kind``."""
    got = [ws.receive_json()]
    while got[-1]["type"] != kind:
        got.append(ws.receive_json())
    return got


@contextmanager
def answering(
    scripted: tuple[TestClient, Container, ScriptedAsr], *heard: str
) -> Iterator[tuple[WebSocketTestSession, dict[str, str], str]]:
    """A session at its first question, its live channel with an answer window open, and the words in
    the (shortened) first answer said: a tone then 300 ms of silence — a preview is due, the end of the
    answer (the template's 600 ms) is not confirmed. ``heard``: the recogniser's transcripts, in order."""
    client, container, asr = scripted
    asr.queue.extend(heard)
    headers, token, sid = start(client, container, HERE / "no_vision_template.yaml", "text-mode-check")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        until(ws, "state")
        ws.send_json({"type": "listen"})
        until(ws, "listening")
        send(ws, np.concatenate([silence(0.3), SPOKEN, silence(0.3)]))
        yield ws, headers, sid


def judged(client: TestClient, headers: dict[str, str], sid: str) -> list[dict[str, Any]]:
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    return [e["payload"] for e in events if e["kind"] == "answer_judged"]


def test_the_verdict_is_shown_in_the_closing_silence_and_recorded_when_the_end_is_confirmed(
    scripted: tuple[TestClient, Container, ScriptedAsr],
) -> None:
    client, _, asr = scripted
    with answering(scripted, "知道") as (ws, headers, sid):
        shown = until(ws, "verdict")[-1]
        assert shown["provisional"] is True
        assert (shown["question_id"], shown["attempt"], shown["transcript"], shown["verdict"]) == (
            "q1",
            1,
            "知道",
            "ACCEPT",
        )
        assert judged(client, headers, sid) == []  # shown, not recorded
        send(ws, silence(END_S))
        final = until(ws, "verdict")[-1]
        state = until(ws, "state")[-1]
    assert final["provisional"] is False and (final["transcript"], final["verdict"]) == ("知道", "ACCEPT")
    assert state["prompt"]["question_id"] == "q2"
    [answer] = judged(client, headers, sid)
    assert answer["verdict"] == "ACCEPT" and "previews_withdrawn" not in answer
    # shown once 256 ms of silence make the end likely, before the template's 600 ms confirm it
    assert 256 <= answer["previewed_ms"] < answer["endpoint_wait_ms"]
    assert final["previewed_ms"] == answer["previewed_ms"]
    assert len(asr.heard) == 1  # one recognition: the recorded verdict reuses the previewed transcript
    assert "dualsign_answer_preview_seconds_count 1.0" in client.get("/metrics").text


def test_speaking_again_withdraws_the_verdict_and_the_whole_answer_is_judged(
    scripted: tuple[TestClient, Container, ScriptedAsr],
) -> None:
    client = scripted[0]
    with answering(scripted, "知道", "知道，但是我还有个问题") as (ws, headers, sid):
        assert until(ws, "verdict")[-1]["verdict"] == "ACCEPT"
        # "……但是我还有个问题": the answer goes on after the pause
        send(ws, np.concatenate([SPOKEN, silence(END_S)]))
        got = until(ws, "state")
    kinds = [m["type"] for m in got]
    assert kinds.index("verdict_withdrawn") < kinds.index("verdict")
    *again, final = [m for m in got if m["type"] == "verdict"]
    # the whole answer may be previewed in its own closing silence, before it is recorded
    assert all(m["provisional"] and m["verdict"] == "UNCLEAR" for m in again), again
    assert final["provisional"] is False
    assert (final["transcript"], final["verdict"]) == ("知道，但是我还有个问题", "UNCLEAR")
    assert (final["previewed_ms"] is None) == (not again)  # the withdrawn preview never counts as shown
    assert got[-1]["prompt"]["question_id"] == "q1" and got[-1]["prompt"]["attempt"] == 2
    [answer] = judged(client, headers, sid)
    assert answer["previews_withdrawn"] == 1 and answer.get("previewed_ms") == final["previewed_ms"]
    assert answer["speech_end_ms"] - answer["speech_start_ms"] >= 1600  # both halves, and the pause


def test_a_stop_after_the_preview_records_the_previewed_answer(
    scripted: tuple[TestClient, Container, ScriptedAsr],
) -> None:
    client, _, asr = scripted
    with answering(scripted, "知道") as (ws, headers, sid):
        assert until(ws, "verdict")[-1]["provisional"] is True
        ws.send_json({"type": "stop"})  # the signer tapped "done" during the silence
        final = until(ws, "verdict")[-1]
    assert (final["provisional"], final["verdict"], final["transcript"]) == (False, "ACCEPT", "知道")
    [answer] = judged(client, headers, sid)
    assert answer["previewed_ms"] >= 256 and len(asr.heard) == 1
