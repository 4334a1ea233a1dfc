"""A nod answers a question whose template allows it (accessibility), through the live channel.

The face engines here are the shipped marker fakes; the landmark engine is a test double that nods on
cue (a photo cannot nod, so real-engine clips cannot show this).
"""

from __future__ import annotations

import math
import struct
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
    """Canonical landmarks whose nose tip dips while ``nodding`` is set (the test's cue)."""

    name = "nodding"
    licence = "test double"

    def __init__(self) -> None:
        self.base = MarkerLandmarks()
        self.phase: float | None = None

    def is_available(self) -> Availability:
        return Availability.yes("test double")

    def landmarks(self, image: np.ndarray, box: FaceBox) -> Landmarks:
        points = list(self.base.landmarks(image, box).points)
        if self.phase is not None:
            dy = 0.12 * box.height * math.sin(math.pi * min(self.phase, 1.0))
            points[27:36] = [(x, y + dy) for x, y in points[27:36]]
        return Landmarks(tuple(points), self.name)


def marker_face(seed: int = 0) -> np.ndarray:
    image = np.full((480, 640, 3), 120, np.int16)
    image[100:360, 200:440] = (0, 255, 0)
    image[222:238, 312:328] = (180, 40, 40)
    noise = np.random.default_rng(seed).integers(-4, 5, image.shape)  # a camera never repeats a frame
    return np.clip(image + noise, 0, 255).astype(np.uint8)


@pytest.fixture
def service(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Container, NoddingLandmarks]]:
    landmarks = NoddingLandmarks()
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
        yield client, c, landmarks
    c.close()


def test_a_nod_answers_a_question_that_allows_it(service: Any) -> None:
    client, container, landmarks = service
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
            landmarks.phase = (t - 1.0) if 1.0 <= t <= 2.0 else None
            ws.send_bytes(b"V" + struct.pack("<Q", i * 100) + jpeg(marker_face(i)))
            if i >= 20:
                break
        # the page streams its microphone all along: had the nod been missed, the window would end as
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
