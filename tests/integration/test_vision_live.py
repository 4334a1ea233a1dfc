"""The camera in a live session: identity against the ID photo, liveness, warnings — through the service.

Frames are made from public-domain photos (tests/vision_media.py) with sensor noise; blinks and an
opened mouth are painted in. These are pipeline tests of the real dlib engines, not accuracy claims.
"""

from __future__ import annotations

import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from dualsign.api.app import create_app
from dualsign.application.signer import camera as signer_vision
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import session_files, session_form, tenant_headers
from tests.vision_media import FACES, edited, frame, jpeg

HERE = Path(__file__).parent
FPS = 10


@pytest.fixture
def service(
    tmp_path: Path, clock: FixedClock, request: pytest.FixtureRequest
) -> Iterator[tuple[TestClient, Container, dict[str, str]]]:
    # these tests send a timeline of frames at once, faster than real time: every frame is analysed
    # unless a test asks for the lag after which monitoring-only frames are skipped
    lag = getattr(request, "param", "600")
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, DUALSIGN_LIVE_FRAME_LAG_S=lag)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Vision Bank")
        r = client.post(
            "/v1/templates",
            headers={**headers, "Content-Type": "application/yaml"},
            content=(HERE / "vision_template.yaml").read_bytes(),
        )
        assert r.status_code == 201, r.text
        yield client, c, headers
    c.close()


def new_session(client: TestClient, headers: dict[str, str], photo: str = "obama") -> tuple[str, str]:
    files = session_files(photo=(FACES / f"{photo}.jpg").read_bytes())
    r = client.post("/v1/sessions", headers=headers, data=session_form(template="vision-check"), files=files)
    assert r.status_code == 201, r.text
    token = r.json()["signer_url"].rsplit("/", 1)[1]
    client.post("/signer/v1/open", headers={"X-Signer-Token": token})
    client.post("/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True})
    return r.json()["id"], token


class Camera:
    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        self.t_ms = 0

    def show(self, image: np.ndarray, fps: int = FPS) -> None:
        self.ws.send_bytes(b"V" + struct.pack("<Q", self.t_ms) + jpeg(image))
        self.t_ms += 1000 // fps


def until(ws: WebSocketTestSession, kind: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["type"] != kind:
        seen.append(ws.receive_json())
    return seen


def identify(ws: WebSocketTestSession, cam: Camera, who: str) -> dict[str, Any]:
    ws.send_json({"type": "identity"})
    assert ws.receive_json()["type"] == "identity_collecting"
    for i in range(5):
        cam.show(frame(who, seed=i, dx=3 * i))
    result = until(ws, "identity_result")[-1]
    ws.receive_json()  # the new state
    return result


def test_identity_from_different_photos_of_the_same_person_passes(service: Any) -> None:
    client, _, headers = service
    sid, token = new_session(client, headers, photo="obama")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        assert ws.receive_json()["state"] == "identity"
        cam = Camera(ws)
        result = identify(ws, cam, "obama2")  # another photo, taken at another time
        assert result["passed"], result
        assert max(result["distances"]) <= result["threshold"] == 0.5
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    verified = next(e["payload"] for e in events if e["kind"] == "identity_verified")
    assert verified["good_frames"] >= 3 and len(verified["snapshot_sha256"]) == 64


@pytest.mark.parametrize(
    ("who", "reason"), [("biden", "not the person"), ("cat", "usable frames"), ("coffee", "usable frames")]
)
def test_another_person_or_no_face_does_not_verify(service: Any, who: str, reason: str) -> None:
    client, _, headers = service
    _, token = new_session(client, headers)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        result = identify(ws, Camera(ws), who)
        assert not result["passed"] and reason in result["reason"], result


def test_identity_photo_without_exactly_one_face_is_refused_at_creation(service: Any, tmp_path: Path) -> None:
    client, _, headers = service
    for photo, expected in (("cat", "no face"), ("coffee", "no face")):
        files = session_files(photo=(FACES / f"{photo}.jpg").read_bytes())
        r = client.post(
            "/v1/sessions", headers=headers, data=session_form(template="vision-check"), files=files
        )
        assert r.status_code == 422
        assert (
            r.json()["errors"][0]["field"] == "identity_photo" and expected in r.json()["errors"][0]["reason"]
        )
    two = jpeg(frame(["obama", "biden"], seed=1))
    r = client.post(
        "/v1/sessions",
        headers=headers,
        data=session_form(template="vision-check"),
        files=session_files(photo=two),
    )
    assert r.status_code == 422 and "2 faces" in r.json()["errors"][0]["reason"]
    assert client.get("/v1/sessions", headers=headers).json() == []


def perform(cam: Camera, steps: list[dict[str, Any]], person: str, *, fake: bool = False) -> None:
    """Play the challenge: blink or open the mouth in the middle of each step's window."""
    total = steps[-1]["end_s"] + 0.3
    for i in range(int(total * FPS)):
        t = i / FPS
        step = next((s for s in steps if s["start_s"] <= t < s["end_s"]), None)
        picture: Any = person
        if step and not fake:
            mid = (step["start_s"] + step["end_s"]) / 2
            if abs(t - mid) < 0.25:
                picture = edited(
                    person, eyes_closed=step["action"] == "blink", mouth_open=step["action"] == "open_mouth"
                )
        cam.show(frame(picture, seed=i))


def test_identity_then_liveness_then_questions(service: Any) -> None:
    client, _, headers = service
    sid, token = new_session(client, headers, photo="grace_hopper")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        assert identify(ws, cam, "grace_hopper")["passed"]
        ws.send_json({"type": "liveness"})
        steps = ws.receive_json()["steps"]
        assert sorted(s["action"] for s in steps) == ["blink", "open_mouth"]
        perform(cam, steps, "grace_hopper")
        result = until(ws, "liveness_result")[-1]
        assert result["passed"], result
        state = ws.receive_json()
        assert state["state"] == "questions"
    events = [e["kind"] for e in client.get(f"/v1/sessions/{sid}/events", headers=headers).json()]
    assert (
        events.index("identity_verified")
        < events.index("liveness_challenge_issued")
        < events.index("liveness_passed")
        < events.index("question_asked")
    )


def test_a_still_photo_in_front_of_the_camera_fails_liveness(service: Any) -> None:
    client, _, headers = service
    _, token = new_session(client, headers, photo="grace_hopper")
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        assert identify(ws, cam, "grace_hopper")["passed"]
        ws.send_json({"type": "liveness"})
        steps = ws.receive_json()["steps"]
        perform(cam, steps, "grace_hopper", fake=True)
        result = until(ws, "liveness_result")[-1]
        assert not result["passed"]
        assert all(not s["passed"] for s in result["steps"])
        assert ws.receive_json()["state"] == "liveness"  # one more attempt (max_attempts 2)


def test_warnings_arrive_within_two_seconds_and_are_recorded(service: Any) -> None:
    client, _, headers = service
    sid, token = new_session(client, headers)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        timeline = [
            ("obama", 3),
            (None, 3),
            ("obama", 2),
            (["obama", "biden"], 3),
            ("obama", 2),
            ("biden", 4),
        ]
        warnings: list[dict[str, Any]] = []
        onset = {}
        t = 0.0
        for who, seconds in timeline:
            key = {type(None): "no_face", list: "several_faces"}.get(
                type(who), "not_the_signer" if who == "biden" else ""
            )
            onset.setdefault(key, t)
            for i in range(int(seconds * 2)):
                cam.show(frame(who, seed=int(t * 10) + i), fps=2)
                t += 0.5
        ws.send_json({"type": "state"})
        for message in until(ws, "state"):
            if message["type"] == "warning":
                warnings.append(message)
    kinds = [w["warning"] for w in warnings]
    assert kinds == ["no_face", "several_faces", "not_the_signer"], warnings
    for w in warnings:
        assert w["after_s"] <= 2.0
        assert w["since_s"] - onset[w["warning"]] <= 0.5
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    recorded = [e["payload"] for e in events if e["kind"] == "monitoring_warning"]
    assert [r["warning"] for r in recorded] == kinds
    assert all(len(r["snapshot_sha256"]) == 64 for r in recorded)


@pytest.mark.parametrize("service", ["0"], indirect=True)
def test_an_overloaded_channel_skips_monitoring_frames_and_says_how_many(service: Any) -> None:
    """Frames arriving faster than they are analysed: monitoring-only ones that waited are skipped
    (lag 0 here), never silently: the summary counts them; every frame is either analysed or skipped."""
    client, _, headers = service
    sid, token = new_session(client, headers)
    sent = 24
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        for i in range(sent):
            cam.show(frame("obama", seed=i), fps=2)
        ws.send_json({"type": "end"})
        until(ws, "ended")
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    summary = next(e["payload"] for e in events if e["kind"] == "monitoring_summary")
    assert summary["frames_skipped"] > 0
    # each frame analysed or counted as skipped (one being analysed as the channel ends may be neither)
    assert sent - 1 <= summary["frames"] + summary["frames_skipped"] <= sent


def test_frames_after_the_session_closed_do_not_end_the_live_channel(service: Any) -> None:
    """The page signs over HTTP while its camera keeps sending; a warning raised by a frame analysed
    after the session closed is not recorded, and the channel stays up to answer ``end``."""
    client, _, headers = service
    sid, token = new_session(client, headers)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        for i in range(4):
            cam.show(frame("obama", seed=i), fps=2)
        ws.send_json({"type": "state"})
        until(ws, "state")  # the frames so far are analysed: monitoring has begun
        assert client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "r"}).is_success
        for i in range(6):  # 3 s without a face: a warning, now for a closed session
            cam.show(frame(None, seed=10 + i), fps=2)
        ws.send_json({"type": "end"})
        assert until(ws, "ended")[-1]["type"] == "ended"
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    assert not [e for e in events if e["kind"] == "monitoring_warning"]


def test_the_page_is_told_of_a_warning_while_the_database_is_still_recording_it(
    service: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Recording a warning (its snapshot, its events, a commit) waits its turn at the database; the
    signer is asked to put things right without waiting for it, and the warning is recorded all the same."""
    client, _, headers = service
    sid, token = new_session(client, headers)
    told = threading.Event()
    recorded_after_told: list[bool] = []
    record = signer_vision.record_warnings

    def slow_record(*args: Any, **kwargs: Any) -> Any:
        recorded_after_told.append(told.wait(timeout=10))  # a database that takes its time
        return record(*args, **kwargs)

    monkeypatch.setattr(signer_vision, "record_warnings", slow_record)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        for i in range(4):
            cam.show(frame("obama", seed=i), fps=2)
        for i in range(6):  # 3 s without a face
            cam.show(frame(None, seed=10 + i), fps=2)
        assert until(ws, "warning")[-1]["warning"] == "no_face"
        told.set()
        ws.send_json({"type": "state"})
        until(ws, "state")
    assert recorded_after_told == [True]
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    assert [e["payload"]["warning"] for e in events if e["kind"] == "monitoring_warning"] == ["no_face"]
