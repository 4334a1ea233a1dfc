"""Two API processes on one database and one blob store: a signer's live channel drops on the first and
reconnects to the second, which carries on from the stored state (the re-ask included); back on the
first, what the second stored is there too. Two processes rendering one new prompt at once both
succeed."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.records import RenderedPrompt
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container
from dualsign.engines.fake import EnergyVad, FakeTts, ScriptedAsr, silence, tone
from dualsign.engines.registry import SpeechEngines
from dualsign.storage.database import SqlUnitOfWorkFactory, make_engine, migrate
from tests.conftest import FixedClock
from tests.integration.test_live_answers import HERE, speak, start


def process(tmp_path: Path, database_url: str, heard: list[str]) -> Container:
    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path / "shared"),  # one blob store (a shared volume, or S3)
            "DATABASE_URL": database_url,
            "DUALSIGN_SECRET_KEY": "k" * 40,
            "DUALSIGN_WORKER": "off",
        }
    )
    engines = SpeechEngines(tts=FakeTts(), vad=EnergyVad(), asr=ScriptedAsr(queue=heard))
    return build_container(settings, clock=FixedClock(), speech=engines)


def test_a_live_channel_reconnects_to_another_process_and_goes_on(tmp_path: Path, database_url: str) -> None:
    a = process(tmp_path, database_url, ["嗯，我不知道"])
    b = process(tmp_path, database_url, ["知道", "没有"])
    utterance = np.concatenate([silence(0.4), tone(0.8), silence(1.0)])
    with TestClient(create_app(a)) as one, TestClient(create_app(b)) as two:
        headers, token, sid = start(one, a, HERE / "no_vision_template.yaml", "text-mode-check")
        with one.websocket_connect(f"/signer/v1/live?token={token}") as ws:
            ws.receive_json()
            verdict, state = speak(ws, utterance)
            assert verdict["verdict"] == "REJECT" and state["prompt"]["attempt"] == 2
        # the connection to the first process is gone; the page reconnects, the balancer picks the second
        with two.websocket_connect(f"/signer/v1/live?token={token}") as ws:
            first = ws.receive_json()
            assert first["type"] == "state" and first["prompt"]["question_id"] == "q1"
            assert first["prompt"]["attempt"] == 2 and "知晓" in first["prompt"]["reminder"]
            verdict, state = speak(ws, utterance)
            assert verdict["verdict"] == "ACCEPT"
            verdict, state = speak(ws, utterance)
            assert state["state"] == "document_review"
        # and back to the first process, which kept the session as it was when its channel dropped
        with one.websocket_connect(f"/signer/v1/live?token={token}") as ws:
            first = ws.receive_json()
            assert first["type"] == "state" and first["state"] == "document_review"
        events = one.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    a.close()
    b.close()
    judged = [
        (e["payload"]["transcript"], e["payload"]["verdict"]) for e in events if e["kind"] == "answer_judged"
    ]
    assert judged == [("嗯，我不知道", "REJECT"), ("知道", "ACCEPT"), ("没有", "ACCEPT")]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["prev"] == p["sha256"] for p, e in itertools.pairwise(events))


def test_two_processes_render_one_new_prompt_at_once(tmp_path: Path, database_url: str) -> None:
    """Both looked for the rendered prompt before either stored it: the second's write waits for the
    first's commit and then succeeds (it used to fail with a unique violation on PostgreSQL, which closed
    its signer's live channel)."""
    engine = make_engine(database_url)
    migrate(engine)
    factory = SqlUnitOfWorkFactory(engine)
    key, now = "c" * 64, datetime(2026, 12, 6, tzinfo=UTC)
    looked, failed = threading.Event(), []

    def second_process() -> None:
        try:
            with factory() as uow:
                assert uow.prompts.get(key) is None
                looked.set()
                uow.prompts.add(RenderedPrompt(key, "b" * 64, "espeak-ng", "en-us", 2.5, now))
                uow.commit()
        except Exception as exc:
            failed.append(exc)
            looked.set()

    with factory() as uow:
        assert uow.prompts.get(key) is None
        uow.prompts.add(RenderedPrompt(key, "a" * 64, "espeak-ng", "en-us", 2.5, now))
        other = threading.Thread(target=second_process)
        other.start()
        assert looked.wait(30)
        time.sleep(0.3)  # the second's write is waiting for this transaction (or comes after it)
        uow.commit()
    other.join(30)
    assert not other.is_alive() and failed == []
    with factory() as uow:
        stored = uow.prompts.get(key)
    engine.dispose()
    assert stored is not None and stored.sha256 == "b" * 64  # the last write's row, as a merge left it
