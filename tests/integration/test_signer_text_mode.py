"""The signer link in text mode: open, consent, answers with re-ask, refusal, expiry, forged tokens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.container import Container
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
    assert r.status_code == 401
    assert "cancelled" in r.json()["detail"]
