"""An agent on camera with the signer, through the service: the agent at session creation (422s naming
the field, nothing stored), what the chain records, identity of both faces, liveness with two faces,
the live warnings for a missing party, a third face and an unknown one, and the introduction.

Frames are made from the public-domain photos (tests/vision_media.py): the signer is Obama (ID photo
obama.jpg, live frames obama2.jpg), the agent Biden. Pipeline tests of the real dlib engines.
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.perception.vision import SignerFace, liveness_sample, reference_embedding
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import session_files, session_form, tenant_headers
from tests.integration.test_vision_live import Camera, until
from tests.vision_media import FACES, edited, frame

HERE = Path(__file__).parent
AGENT = {"name": "Joe Biden", "number": "AG-0046-2021"}
SIGNER, SELLER = "obama2", "biden"


@pytest.fixture
def service(tmp_path: Path, clock: FixedClock) -> Iterator[tuple[TestClient, Container, dict[str, str]]]:
    c = make_container(
        tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, DUALSIGN_LIVE_FRAME_LAG_S="600"
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Branch Bank")
        for name in ("agent_template.yaml", "vision_template.yaml"):
            r = client.post(
                "/v1/templates",
                headers={**headers, "Content-Type": "application/yaml"},
                content=(HERE / name).read_bytes(),
            )
            assert r.status_code == 201, r.text
        yield client, c, headers
    c.close()


def create(
    client: TestClient,
    headers: dict[str, str],
    agent: object = AGENT,
    agent_photo: str | None = "biden",
    template: str = "agent-check",
    signer_photo: str = "obama",
) -> Any:
    form = session_form(template=template)
    if agent is not None:
        form["agent"] = agent if isinstance(agent, str) else json.dumps(agent)
    files = session_files(photo=(FACES / f"{signer_photo}.jpg").read_bytes())
    if agent_photo is not None:
        files.append(
            ("agent_photo", ("agent.jpg", (FACES / f"{agent_photo}.jpg").read_bytes(), "image/jpeg"))
        )
    return client.post("/v1/sessions", headers=headers, data=form, files=files)


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"agent": None, "agent_photo": None}, "agent", "puts the agent (agent) on camera"),
        ({"agent_photo": None}, "agent_photo", "photo (one face) is required"),
        ({"agent": {"name": "", "number": "AG-1"}}, "agent.name", "1 to 100 characters"),
        ({"agent": {"name": "Joe", "number": "12"}}, "agent.number", "4 to 40"),
        ({"agent": {"name": "Joe"}}, "agent.number", "must be a string"),
        ({"agent": "not json"}, "agent", "JSON object"),
        ({"agent": None}, "agent", "agent_photo is given without agent"),
        ({"agent_photo": "cat"}, "agent_photo", "no face"),
        ({"agent_photo": "obama2"}, "agent_photo", "same person as identity_photo"),  # the signer
        ({"template": "vision-check"}, "agent", "puts no agent on camera"),
    ],
)
def test_a_missing_or_bad_agent_is_refused_naming_the_field(
    service: Any, changes: dict[str, Any], field: str, words: str
) -> None:
    client, _, headers = service
    r = create(client, headers, **changes)
    assert r.status_code == 422, r.text
    errors = r.json()["errors"]
    assert any(e["field"] == field and words in e["reason"] for e in errors), errors
    assert client.get("/v1/sessions", headers=headers).json() == []  # nothing stored


def test_the_agent_is_recorded_in_the_chain_and_the_photo_is_an_artifact(service: Any) -> None:
    client, _, headers = service
    r = create(client, headers)
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    agent = events[0]["payload"]["agent"]
    photos = [e["payload"] for e in events if e["payload"].get("role") == "agent_photo"]
    assert agent == {"label": "agent", **AGENT, "photo_sha256": photos[0]["sha256"]}
    assert photos[0]["media_type"] == "image/jpeg"
    assert "agent_photo" in {a["role"] for a in r.json()["artifacts"]}


def test_the_sellers_name_and_number_read_aloud_are_the_registered_agents(service: Any) -> None:
    """insurance-epolicy-inperson-zh reads the seller's name and licence number: they come from the
    agent registered with the session, given once; given again, they must agree."""
    client, _, headers = service
    seller = {"name": "李四", "number": "02000144000080002020000123"}
    r = create(client, headers, agent=seller, template="insurance-epolicy-inperson-zh")
    assert r.status_code == 201, r.text
    events = client.get(f"/v1/sessions/{r.json()['id']}/events", headers=headers).json()
    values = events[0]["payload"]["variables"]
    assert values["seller_name"]["value"] == "李四"
    assert values["seller_license"]["spoken"].startswith("零二零零零一四四")
    form = session_form(template="insurance-epolicy-inperson-zh")
    other = {**json.loads(form["variables"]), "seller_name": "王五"}
    form |= {"agent": json.dumps(seller), "variables": json.dumps(other, ensure_ascii=False)}
    files = session_files(photo=(FACES / "obama.jpg").read_bytes())
    files.append(("agent_photo", ("agent.jpg", (FACES / "biden.jpg").read_bytes(), "image/jpeg")))
    refused = client.post("/v1/sessions", headers=headers, data=form, files=files)
    assert refused.status_code == 422, refused.text
    problems = {p["field"]: p["reason"] for p in refused.json()["errors"]}
    assert "taken from agent.name ('李四')" in problems["variables.seller_name"], problems


def test_a_resident_id_number_given_as_the_agents_number_is_kept_masked(service: Any) -> None:
    client, _, headers = service
    r = create(client, headers, agent={"name": "Joe", "number": "11010519491231002X"})
    events = client.get(f"/v1/sessions/{r.json()['id']}/events", headers=headers).json()
    assert events[0]["payload"]["agent"]["number"] == "1101**********002X"


def opened(client: TestClient, headers: dict[str, str], signer_photo: str = "obama") -> tuple[str, str]:
    r = create(client, headers, signer_photo=signer_photo)
    assert r.status_code == 201, r.text
    token = r.json()["signer_url"].rsplit("/", 1)[1]
    client.post("/signer/v1/open", headers={"X-Signer-Token": token})
    client.post("/signer/v1/consent", headers={"X-Signer-Token": token}, json={"agree": True})
    return r.json()["id"], token


def identify(ws: Any, cam: Camera, who: list[Any]) -> dict[str, Any]:
    ws.send_json({"type": "identity"})
    assert ws.receive_json()["type"] == "identity_collecting"
    for i in range(5):
        cam.show(frame(who, seed=i, dx=3 * i))
    result = until(ws, "identity_result")[-1]
    ws.receive_json()  # the new state
    return result


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ([SIGNER], "agent_missing"),  # the agent is not on camera
        ([SIGNER, "grace_hopper"], "not_the_agent"),  # someone else sits in the agent's place
        (["grace_hopper", SELLER], "not_the_signer"),
        ([SIGNER, SELLER, "grace_hopper"], "extra_face"),
    ],
)
def test_identity_needs_both_registered_people_and_no_one_else(
    service: Any, who: list[str], code: str
) -> None:
    client, _, headers = service
    _, token = opened(client, headers)
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        assert ws.receive_json()["state"] == "identity"
        result = identify(ws, Camera(ws), who)
    assert not result["passed"] and result["code"] == code, result


def test_both_identities_then_liveness_with_the_agent_beside_then_the_introduction(service: Any) -> None:
    client, _, headers = service
    sid, token = opened(client, headers, "grace_hopper")  # her painted blinks show at this size
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        result = identify(ws, cam, [SELLER, "grace_hopper"])  # the signer on the right this time
        assert result["passed"], result
        assert max(result["distances"]) <= result["threshold"] >= max(result["agent"]["distances"])
        ws.send_json({"type": "liveness"})
        steps = ws.receive_json()["steps"]
        # the signer's face does the actions; the agent sits still beside them
        for i, picture in enumerate(challenge_pictures(steps, "grace_hopper")):
            cam.show(frame([SELLER, picture], seed=100 + i))
        result = until(ws, "liveness_result")[-1]
        assert result["passed"], {k: result[k] for k in ("steps", "frames")}
        state = until(ws, "state")[-1]
    assert state["state"] == "questions"
    assert state["prompt"]["question_id"] == "intro"  # the agent's introduction comes first
    assert state["prompt"]["speaker"] == "agent" and state["agent_on_camera"] is True
    assert state["agent_label"] == "agent"  # the page names the agent as the template does
    said = "Good morning, I am Joe Biden, licence number AG 0046 2021, here is my card."
    signer = {"X-Signer-Token": token}
    after = client.post("/signer/v1/answers", headers=signer, json={"text": said}).json()
    assert after["prompt"]["question_id"] == "q1"
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    verified = next(e["payload"] for e in events if e["kind"] == "identity_verified")
    assert len(verified["agent"]["distances"]) == verified["good_frames"] >= 3
    intro = next(e["payload"] for e in events if e["kind"] == "answer_judged")
    assert (intro["question_id"], intro["verdict"], intro["transcript"]) == ("intro", "ACCEPT", said)
    assert intro["explanation"]["rule"] == "introduction_complete"


def challenge_pictures(steps: list[dict[str, Any]], person: str) -> list[Any]:
    """The person's pictures at 10 fps through a challenge, blinking or opening the mouth mid-step
    (as ``test_vision_live.perform`` shows them alone)."""
    pictures: list[Any] = []
    for i in range(int((steps[-1]["end_s"] + 0.3) * 10)):
        t = i / 10
        step = next((s for s in steps if s["start_s"] <= t < s["end_s"]), None)
        if step and abs(t - (step["start_s"] + step["end_s"]) / 2) < 0.25:
            blink, mouth = step["action"] == "blink", step["action"] == "open_mouth"
            pictures.append(edited(person, eyes_closed=blink, mouth_open=mouth))
        else:
            pictures.append(person)
    return pictures


def test_warnings_for_a_missing_party_a_third_face_and_an_unknown_one(service: Any) -> None:
    client, _, headers = service
    sid, token = opened(client, headers)
    timeline: list[tuple[list[str] | None, float, str]] = [
        ([SIGNER, SELLER], 3, ""),
        ([SIGNER], 3, "party_missing"),  # the agent leaves
        ([SIGNER, SELLER], 2, ""),
        ([SIGNER, SELLER, "grace_hopper"], 3, "extra_face"),
        ([SIGNER, SELLER], 2, ""),
        ([SIGNER, "grace_hopper"], 4, "unknown_face"),  # someone else in the agent's seat
        ([SIGNER, SELLER], 3, ""),
    ]
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()
        cam = Camera(ws)
        t, onset = 0.0, {}
        messages: list[dict[str, Any]] = []
        for who, seconds, kind in timeline:
            onset.setdefault(kind, t)
            for i in range(int(seconds * 2)):
                cam.show(frame(who, seed=int(t * 10) + i), fps=2)
                t += 0.5
            ws.send_json({"type": "state"})  # the segment's frames are analysed before the next one's
            messages += until(ws, "state")
        ws.send_json({"type": "end"})
        messages += until(ws, "ended")
    warnings = [m for m in messages if m["type"] == "warning"]
    assert [w["warning"] for w in warnings] == ["party_missing", "extra_face", "unknown_face"], warnings
    for w in warnings:
        assert w["after_s"] <= 2.0 and w["since_s"] - onset[w["warning"]] <= 0.5
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    summary = next(e["payload"] for e in events if e["kind"] == "monitoring_summary")
    assert summary["participants"] == ["signer", "agent"]
    assert 2.5 <= summary["missing_s"] <= 3.5 and 2.5 <= summary["several_faces_s"] <= 3.5
    assert 3.0 <= summary["mismatch_s"] <= 4.5
    assert 0.4 < summary["face_present_ratio"] < 0.65, summary["presence"]  # both known: 10 of 20 s
    assert {run[2] for run in summary["presence"]} >= {"both", "signer", "several", "other"}


def test_a_liveness_sample_is_the_signers_face_not_the_agents(service: Any) -> None:
    """With two faces on camera a liveness sample (a challenge, a nod) follows the signer's face: the
    agent blinking beside the signer is not the signer's action."""
    _, c, _ = service
    engines = c.vision
    assert engines is not None
    signer = "grace_hopper"  # her painted blinks show at this size
    face = SignerFace(engines, reference_embedding((FACES / f"{signer}.jpg").read_bytes(), engines))
    closed = edited(signer, eyes_closed=True)
    signer_blinks = liveness_sample(frame([SELLER, closed], seed=1), 0.0, engines, face)
    agent_blinks = liveness_sample(
        frame([edited(SELLER, eyes_closed=True), signer], seed=1), 0.5, engines, face
    )
    assert signer_blinks.features is not None and agent_blinks.features is not None
    # the signer's eyes: closed on the first frame, open on the second (where the agent's are closed)
    assert signer_blinks.features.eye_open < 0.8 * agent_blinks.features.eye_open


def qc_rules(client: TestClient, headers: dict[str, str], sid: str) -> dict[str, Any]:
    assert client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "test"}).is_success
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    return {r["rule"]: r for r in qc["rules"]}


def test_qc_face_presence_passes_two_known_faces_and_fails_a_third(service: Any, tmp_path: Path) -> None:
    client, _, headers = service
    for extra_s, verdict in ((0, "PASS"), (3, "FAIL")):
        sid, token = opened(client, headers)
        with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
            ws.receive_json()
            cam = Camera(ws)
            result = identify(ws, cam, [SIGNER, SELLER])
            assert result["passed"], result
            timeline = [([SIGNER, SELLER], 6.0), ([SIGNER, SELLER, "grace_hopper"], extra_s)]
            t = 0.0
            for who, seconds in timeline:
                for i in range(int(seconds * 2)):
                    cam.show(frame(who, seed=200 + int(t * 10) + i), fps=2)
                    t += 0.5
                ws.send_json({"type": "state"})
                until(ws, "state")
            ws.send_json({"type": "end"})
            until(ws, "ended")
        rules = qc_rules(client, headers, sid)
        face = rules["face_presence"]
        assert face["verdict"] == verdict and face["finding"] == "monitoring_with_agent", face
        identity = rules["identity_verified"]
        assert identity["verdict"] == "PASS" and identity["finding"] == "identity_verified_with_agent"
        if verdict == "PASS":  # the evidence report says who the agent was and who was on camera
            text = report_text(client, headers, sid, tmp_path)
            assert "Agent (agent)" in text and "Joe Biden AG-0046-2021" in text, text
            assert "The agent against their photo: largest distance" in text
            assert "On camera (monitored throughout): the signer and the agent" in text


def report_text(client: TestClient, headers: dict[str, str], sid: str, tmp_path: Path) -> str:
    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers)
    assert bundle.status_code == 200, bundle.text
    with zipfile.ZipFile(io.BytesIO(bundle.content)) as z:
        (tmp_path / "report.pdf").write_bytes(z.read("report.pdf"))
    out = subprocess.run(["pdftotext", "report.pdf", "-"], cwd=tmp_path, capture_output=True, text=True)
    return " ".join(out.stdout.split())


def test_simulate_an_in_person_template_hears_the_agent_first() -> None:
    from typer.testing import CliRunner

    from dualsign.cli.main import app

    answers = [
        "我是模拟业务人员，工号A0000001",
        *["是"] * 4,
        "确认",
        *["清楚"] * 3,
        "没有",
        "没有",
        "是",
        "是",
    ]
    result = CliRunner().invoke(
        app,
        ["simulate", "--template", "bank-loan-branch-zh", "--answers", ",".join(answers)],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("agent_intro · attempt 1") < out.index("q1 · attempt 1")
    assert "请客户经理面向镜头" in out and "agent: 我是模拟业务人员" in out
    assert "questions complete" in out
