"""A nod answers a question whose template allows it (accessibility), through the live channel.

The face engines here are the shipped marker fakes; the landmark engine is a test double that nods on
cue (a photo cannot nod, so real-engine clips cannot show this).
"""

from __future__ import annotations

import math
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container
from dualsign.engines.base import Availability
from dualsign.engines.fake import (
    EnergyVad,
    FakeTts,
    MarkerEmbedder,
    MarkerFaceDetector,
    MarkerLandmarks,
    ScriptedAsr,
)
from dualsign.engines.registry import SpeechEngines
from dualsign.engines.vision_base import FaceBox, Landmarks, VisionEngines
from tests.conftest import FixedClock
from tests.integration.helpers import session_files, session_form, tenant_headers
from tests.vision_media import jpeg

TEMPLATE = b"""
kind: dualsign.template
version: 1
key: nod-check
title: Nod check
scenario: other
language: en-US
consent: {recording: recorded, biometric: face}
identity: {required: false}
liveness: {required: false}
questions:
  - {id: q1, category: informed_confirmation, prompt: "Do you confirm?", acceptable: ["yes"],
     answer_modes: [speech, nod]}
  - {id: q2, category: other, prompt: "Anything else?", acceptable: ["no"]}
"""


class NoddingLandmarks:
    """Canonical landmarks whose nose tip dips as far as the frame says: the frame carries its nod phase
    in a grey corner (see ``marker_face``), as a camera frame carries the head's position. The server
    handles frames after they arrive, so the phase cannot be a flag the test sets while sending."""

    name = "nodding"
    licence = "test double"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.base = MarkerLandmarks()
        self.delay_s = delay_s  # a busy server: each frame takes this long

    def is_available(self) -> Availability:
        return Availability.yes("test double")

    def landmarks(self, image: np.ndarray, box: FaceBox) -> Landmarks:
        time.sleep(self.delay_s)
        points = list(self.base.landmarks(image, box).points)
        level = float(image[:PHASE_BOX, :PHASE_BOX].mean())
        if level > 20:  # a phase of 0 is drawn as 40, 1 as 240
            phase = (level - 40) / 200
            dy = 0.12 * box.height * math.sin(math.pi * min(max(phase, 0.0), 1.0))
            points[27:36] = [(x, y + dy) for x, y in points[27:36]]
        return Landmarks(tuple(points), self.name)


PHASE_BOX = 32  # the corner of a frame that says how far into the nod it is (black: no nod)


def marker_face(seed: int = 0, phase: float | None = None) -> np.ndarray:
    image = np.full((480, 640, 3), 120, np.int16)
    image[100:360, 200:440] = (0, 255, 0)
    image[222:238, 312:328] = (180, 40, 40)
    noise = np.random.default_rng(seed).integers(-4, 5, image.shape)  # a camera never repeats a frame
    image = np.clip(image + noise, 0, 255)
    image[:PHASE_BOX, :PHASE_BOX] = 0 if phase is None else 40 + round(200 * phase)
    return image.astype(np.uint8)


@pytest.fixture(params=[0.0, 0.15], ids=["frames-in-time", "frames-lagging"])
def service(
    request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> Iterator[tuple[TestClient, Container]]:
    # lagging: the nod's frames are looked at seconds after the window's 8 s of silence arrived
    landmarks = NoddingLandmarks(request.param)
    vision = VisionEngines(MarkerFaceDetector(), MarkerFaceDetector(), landmarks, MarkerEmbedder())  # type: ignore[arg-type]
    speech = SpeechEngines(tts=FakeTts(), vad=EnergyVad(), asr=ScriptedAsr(queue=["yes", "no"]))
    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path / "d"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
            "DUALSIGN_SECRET_KEY": "n" * 40,
        }
    )
    c = build_container(settings, clock=clock, speech=speech, vision=vision)
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def test_a_nod_answers_a_question_that_allows_it(service: Any) -> None:
    client, container = service
    headers = tenant_headers(container, "Care Bank")
    client.post("/v1/templates", headers={**headers, "Content-Type": "application/yaml"}, content=TEMPLATE)
    r = client.post(
        "/v1/sessions",
        headers=headers,
        data=session_form(template="nod-check"),
        files=session_files(photo=jpeg(marker_face())),
    )
    assert r.status_code == 201, r.text
    token = r.json()["signer_url"].rsplit("/", 1)[1]
    client.post("/signer/v1/open", headers={"X-Signer-Token": token})
    client.post("/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True})
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        ws.send_json({"type": "listen"})
        assert ws.receive_json() == {"type": "listening", "nod_allowed": True}
        for i in range(30):  # 3 s at 10 fps: still, then a nod from 1.0 s to 2.0 s
            t = i / 10
            phase = (t - 1.0) if 1.0 <= t <= 2.0 else None
            ws.send_bytes(b"V" + struct.pack("<Q", i * 100) + jpeg(marker_face(i, phase)))
            if i >= 20:
                break
        # the page streams its microphone all along: were the nod missed, the window would end as
        # NO_SPEECH after 8 s of silence and the assertion below fail, instead of waiting for ever
        for _ in range(450):
            ws.send_bytes(b"A" + bytes(640))  # 20 ms of silence, 16 kHz PCM16
        verdict = ws.receive_json()
        while verdict["type"] != "verdict":
            verdict = ws.receive_json()
        assert verdict["verdict"] == "ACCEPT" and verdict["input"] == "nod"
        state = ws.receive_json()
        assert state["prompt"]["question_id"] == "q2"
        ws.send_json({"type": "listen"})
        assert ws.receive_json() == {"type": "listening", "nod_allowed": False}  # "no" cannot be nodded


def test_a_template_cannot_allow_a_nod_for_a_negative_answer() -> None:
    import yaml

    from dualsign.domain.errors import TemplateInvalid
    from dualsign.domain.templates import parse_template

    doc = yaml.safe_load(TEMPLATE)
    doc["questions"][1]["answer_modes"] = ["speech", "nod"]
    with pytest.raises(TemplateInvalid, match="a nod means yes"):
        parse_template(doc, "nod.yaml")
