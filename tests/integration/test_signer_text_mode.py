"""The signer link in text mode: open, consent, answers with re-ask, refusal, expiry, forged tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from tests.conftest import FixedClock
from tests.integration.helpers import create, tenant_headers

NO_VISION = Path(__file__).parent / "no_vision_template.yaml"


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as c:
        yield c


@pytest.fixture
def headers(container: Container, client: TestClient) -> dict[str, str]:
    h = tenant_headers(container, "Alice")
    r = client.post(
        "/v1/templates", headers={**h, "Content-Type": "application/yaml"}, content=NO_VISION.read_bytes()
    )
    assert r.status_code == 201, r.text
    return h


def token_of(created: dict[str, str]) -> dict[str, str]:
    return {"X-Signer-Token": created["signer_url"].rsplit("/", 1)[1]}


def test_text_mode_flow_with_reask_reaches_document_review(
    client: TestClient, headers: dict[str, str]
) -> None:
    created = create(client, headers, template="text-mode-check").json()
    signer = token_of(created)
    assert client.get(created["signer_url"].replace("http://127.0.0.1:8000", "")).status_code == 200
    s = client.post("/signer/v1/open", headers=signer).json()
    assert s["state"] == "consent"
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
    assert s["state"] == "questions"
    assert s["prompt"]["question_id"] == "q1"
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "我不知道"}).json()
    assert s["last_verdict"]["verdict"] == "REJECT"
    assert s["prompt"]["attempt"] == 2
    assert "“知晓”" in s["prompt"]["reminder"]
    s = client.post("/signer/v1/repeat", headers=signer).json()
    assert s["prompt"]["attempt"] == 2  # repeating is not an attempt
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "知道"}).json()
    assert s["prompt"]["question_id"] == "q2"
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "没有"}).json()
    assert s["state"] == "document_review"
    assert s["prompt"] is None
    events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
    judged = [
        (e["payload"]["question_id"], e["payload"]["verdict"]) for e in events if e["kind"] == "answer_judged"
    ]
    assert judged == [("q1", "REJECT"), ("q1", "ACCEPT"), ("q2", "ACCEPT")]
    assert client.get(f"/v1/sessions/{created['id']}", headers=headers).json()["status"] == "document_review"


def test_refused_consent_ends_the_session(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, template="text-mode-check").json()
    signer = token_of(created)
    client.post("/signer/v1/open", headers=signer)
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": False, "reason": "不想录像"}).json()
    assert s["state"] == "refused"
    again = client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    assert again.status_code == 401
    assert "refused" in again.json()["detail"]


def test_forged_and_cross_session_tokens_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, template="text-mode-check").json()
    token = token_of(created)["X-Signer-Token"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = client.post("/signer/v1/open", headers={"X-Signer-Token": forged})
    assert r.status_code == 401
    assert r.json()["code"] == "token_invalid"
    assert client.get(f"/s/{forged}").status_code == 401
    assert client.post("/signer/v1/open").status_code == 401


def test_expired_link_is_refused_and_the_session_marked_expired(
    client: TestClient, headers: dict[str, str], clock: FixedClock
) -> None:
    created = create(client, headers, template="text-mode-check", expires_in="600").json()
    signer = token_of(created)
    clock.advance(601)
    r = client.post("/signer/v1/open", headers=signer)
    assert r.status_code == 401
    assert "expired" in r.json()["detail"]
    assert client.get(f"/v1/sessions/{created['id']}", headers=headers).json()["status"] == "expired"


def test_cancelled_session_refuses_the_signer(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, template="text-mode-check").json()
    client.post(f"/v1/sessions/{created['id']}/cancel", headers=headers, json={"reason": "wrong amount"})
    r = client.post("/signer/v1/open", headers=token_of(created))
    assert r.status_code == 200  # the page shows how it ended...
    assert (r.json()["state"], r.json()["ended_reason"]) == ("cancelled", "cancelled")
    r = client.post("/signer/v1/consent", headers=token_of(created), json={"agree": True})
    assert r.status_code == 401  # ...and nothing more can be done
    assert "cancelled" in r.json()["detail"]


def test_reopening_a_finished_link_shows_how_it_ended_not_an_error(
    client: TestClient, headers: dict[str, str]
) -> None:
    # a signer who opens the link again sees the final screen in the session's language (the page
    # needs the state, the language and the reason), not "this signing session is sealed" in English
    created = create(client, headers, template="text-mode-check").json()
    signer = token_of(created)
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    for _ in range(3):
        s = client.post("/signer/v1/answers", headers=signer, json={"text": "不知道"}).json()
    assert s["state"] == "failed"
    for path in ("/signer/v1/open", "/signer/v1/session"):
        r = client.request("POST" if path.endswith("open") else "GET", path, headers=signer)
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["state"], body["ended_reason"], body["language"]) == ("failed", "question", "zh-CN")
        assert body["sealed"] is True and body["prompt"] is None
    events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
    assert [e["kind"] for e in events].count("signer_opened") == 1  # looking is not opening again


def test_the_page_reports_what_it_played_of_each_prompt(client: TestClient, headers: dict[str, str]) -> None:
    created = create(client, headers, template="text-mode-check").json()
    signer = token_of(created)
    client.post("/signer/v1/open", headers=signer)
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
    audio = s["prompt_audio"]
    assert audio and all(a["duration_s"] > 0 for a in audio)
    report = {
        "question_id": "q1",
        "attempt": 1,
        "parts": [{"sha256": a["sha256"], "played_s": a["duration_s"], "ended": True} for a in audio],
    }
    wrong = client.post("/signer/v1/prompt/played", headers=signer, json={**report, "question_id": "q2"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "question_id"
    bad = client.post(
        "/signer/v1/prompt/played",
        headers=signer,
        json={**report, "parts": [{"sha256": "0" * 64, "played_s": 1, "ended": True}]},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "parts[0].sha256"
    ok = client.post("/signer/v1/prompt/played", headers=signer, json=report)
    assert ok.status_code == 200, ok.text
    assert ok.json()["prompt"]["question_id"] == "q1"  # a question still waits for its answer
    events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
    played = [e["payload"] for e in events if e["kind"] == "prompt_played"]
    assert len(played) == 1 and played[0]["played_in_full"] is True
    assert [p["sha256"] for p in played[0]["parts"]] == [a["sha256"] for a in audio]


def test_a_statement_is_played_before_the_next_question(client: TestClient, headers: dict[str, str]) -> None:
    doc = yaml.safe_load(NO_VISION.read_text(encoding="utf-8"))
    doc["key"] = "statement-check"
    statement = {"id": "notice", "category": "verbatim_regulatory", "prompt": "以下为风险提示，请认真听取。"}
    doc["questions"].insert(0, {**statement, "expects_answer": False})
    r = client.post(
        "/v1/templates", headers={**headers, "Content-Type": "application/yaml"}, content=yaml.safe_dump(doc)
    )
    assert r.status_code == 201, r.text
    created = create(client, headers, template="statement-check").json()
    signer = token_of(created)
    client.post("/signer/v1/open", headers=signer)
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
    assert s["prompt"]["question_id"] == "notice" and s["prompt"]["expects_answer"] is False
    (part,) = s["prompt_audio"]
    report = {"question_id": "notice", "attempt": 1}
    cut = {**report, "parts": [{"sha256": part["sha256"], "played_s": 0.4, "ended": False}]}
    s = client.post("/signer/v1/prompt/played", headers=signer, json=cut).json()
    assert s["prompt"]["question_id"] == "notice"  # not played in full: the statement stays
    full = {**report, "parts": [{"sha256": part["sha256"], "played_s": part["duration_s"], "ended": True}]}
    s = client.post("/signer/v1/prompt/played", headers=signer, json=full).json()
    assert s["prompt"]["question_id"] == "q1"
    events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
    kinds = [e["kind"] for e in events]
    assert kinds.count("prompt_played") == 2
    assert kinds.index("question_passed") > kinds.index("prompt_played")
