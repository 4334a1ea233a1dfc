"""The reviewer console's API: sign-in, roles, tenant isolation, filters, what a session shows, and the
reviewer's decision as an evidence event with its QC webhook."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dualsign.api.app import create_app
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.review.console import add_reviewer, in_sample
from dualsign.bootstrap.container import Container
from dualsign.media.audio import to_wav
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create
from tests.integration.test_signing import STROKES, publish, signer_headers, to_signing

PASSWORD = "correct horse battery"
CHANGE = {"X-DualSign-Console": "1"}


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[dict[str, Any]]:
    c = make_container(
        tmp_path, database_url, clock, DUALSIGN_WORKER="off", DUALSIGN_WEBHOOK_ALLOW_NETWORKS="127.0.0.1"
    )
    with TestClient(create_app(c), client=("127.0.0.1", 50000)) as client:  # the console: this machine
        bank, key = create_tenant(c.new_uow(), c.clock, c.ids, "Example Life Insurance")
        other, _ = create_tenant(c.new_uow(), c.clock, c.ids, "Other Bank")
        for name, role, tenant in [
            ("alice", "reviewer", bank.id),
            ("audrey", "auditor", bank.id),
            ("olga", "reviewer", other.id),
            ("platform", "admin", None),
            ("adam", "admin", bank.id),
        ]:
            add_reviewer(
                c.new_uow(),
                c.clock,
                c.ids.new_id,
                c.passwords,
                tenant_id=tenant,
                username=name,
                password=PASSWORD,
                role=role,
            )
        headers = {"Authorization": f"Bearer {key.secret}"}
        publish(client, headers)
        created = create(
            client,
            headers,
            template="signing-check",
            signer_name="Zhang San",
            callback_url="http://127.0.0.1:9/h",
        ).json()
        signer = signer_headers(created)
        to_signing(client, clock, signer)
        assert client.post("/signer/v1/signature", headers=signer, json=STROKES).json()["state"] == "signed"
        yield {"client": client, "c": c, "sid": created["id"], "headers": headers, "bank": bank.id}
    c.close()


def sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/console/api/sign-in", headers=CHANGE, json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_sign_in_needs_the_right_password_and_the_console_header(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    assert client.get("/console/api/sessions").status_code == 401
    wrong = client.post(
        "/console/api/sign-in", headers=CHANGE, json={"username": "alice", "password": "nope"}
    )
    nobody = client.post(
        "/console/api/sign-in", headers=CHANGE, json={"username": "bob", "password": PASSWORD}
    )
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"] == "wrong username or password"
    no_header = client.post("/console/api/sign-in", json={"username": "alice", "password": PASSWORD})
    assert no_header.status_code == 401 and "X-DualSign-Console" in no_header.json()["detail"]
    r = client.post("/console/api/sign-in", headers=CHANGE, json={"username": "alice", "password": PASSWORD})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/console" in cookie
    assert client.get("/console/api/me").json() == {
        "username": "alice",
        "role": "reviewer",
        "tenant_id": env["bank"],
    }
    stored = env["c"].new_uow()
    with stored:
        assert stored.reviewers.by_username("alice").password_hash.startswith("$argon2id$")  # type: ignore[union-attr]
    page = client.get("/console")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]


def test_sessions_are_listed_filtered_and_shown_with_timeline_and_qc(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sid = env["sid"]
    sign_in(client, "alice")
    listed = client.get("/console/api/sessions").json()
    assert [(s["id"], s["status"], s["qc_verdict"], s["template"]) for s in listed] == [
        (sid, "sealed", "FAIL", "signing-check")  # nothing was recorded: the QC fails
    ]
    assert client.get("/console/api/sessions", params={"qc_verdict": "PASS"}).json() == []
    assert client.get("/console/api/sessions", params={"template": "other"}).json() == []
    assert len(client.get("/console/api/sessions", params={"status": "sealed", "review": "none"}).json()) == 1
    sampled = client.get("/console/api/sessions", params={"sample_percent": 50}).json()
    assert [s["id"] for s in sampled] == ([sid] if in_sample(sid, 50) else [])
    detail = client.get(f"/console/api/sessions/{sid}").json()
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds[0] == "session_created" and "answer_judged" in kinds and "qc_evaluated" in kinds
    rules = {r["rule"]: r for r in detail["qc"]["rules"]}
    assert rules["recording_complete"]["verdict"] == "FAIL" and "《" in rules["recording_complete"]["clause"]
    assert detail["session"]["sealed"] and detail["recording"] == []
    # the answer was typed, not spoken: a person should look at it
    assert detail["review_flags"] == [{"question_id": "q1", "attempts": 1, "reasons": ["typed_answer"]}]
    doc = next(
        e for e in detail["timeline"] if e["kind"] == "artifact_stored" and e["payload"]["role"] == "document"
    )
    pdf = client.get(f"/console/api/sessions/{sid}/artifacts/{doc['payload']['sha256']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(f"/console/api/sessions/{sid}/artifacts/{'0' * 64}").status_code == 404
    assert client.get(f"/console/api/sessions/{sid}/recording/0").status_code == 404


def test_other_tenants_see_nothing_and_auditors_only_read(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sid = env["sid"]
    sign_in(client, "olga")
    assert client.get("/console/api/sessions").json() == []
    assert client.get(f"/console/api/sessions/{sid}").status_code == 404
    assert (
        client.post(
            f"/console/api/sessions/{sid}/review", headers=CHANGE, json={"decision": "approve"}
        ).status_code
        == 404
    )
    sign_in(client, "audrey")
    assert len(client.get("/console/api/sessions").json()) == 1
    denied = client.post(f"/console/api/sessions/{sid}/review", headers=CHANGE, json={"decision": "approve"})
    assert denied.status_code == 403 and denied.json()["role"] == "auditor"
    sign_in(client, "platform")
    assert [s["id"] for s in client.get("/console/api/sessions").json()] == [sid]


def test_a_decision_is_an_event_in_the_chain_and_a_qc_webhook(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sid = env["sid"]
    sign_in(client, "alice")
    reason = client.post(f"/console/api/sessions/{sid}/review", headers=CHANGE, json={"decision": "reject"})
    assert reason.status_code == 422 and reason.json()["errors"][0]["field"] == "comment"
    forged = client.post(f"/console/api/sessions/{sid}/review", json={"decision": "approve", "comment": "ok"})
    assert forged.status_code == 401  # no console header: a cross-site form cannot decide
    ok = client.post(
        f"/console/api/sessions/{sid}/review",
        headers=CHANGE,
        json={"decision": "approve", "comment": "checked the video"},
    )
    assert ok.status_code == 200 and ok.json()["by"] == "alice"
    events = client.get(f"/v1/sessions/{sid}/events", headers=env["headers"]).json()
    assert events[-1]["kind"] == "review_decided"
    assert events[-1]["payload"] == {
        "decision": "approve",
        "comment": "checked the video",
        "by": "alice",
        "role": "reviewer",
    }
    assert events[-1]["prev"] == events[-2]["sha256"]
    assert client.get("/console/api/sessions", params={"review": "approve"}).json()[0]["review"] == "approve"
    hooks = client.get(f"/v1/sessions/{sid}/webhooks", headers=env["headers"]).json()
    assert [h["event"] for h in hooks][-1] == "qc.passed"
    detail = client.get(f"/console/api/sessions/{sid}").json()
    assert "qc.passed" in [w["event"] for w in detail["webhooks"]]


def test_the_cli_adds_reviewers(env: dict[str, Any], tmp_path: Path) -> None:
    from dualsign.cli.main import app

    c: Container = env["c"]
    runner = CliRunner()
    environment = {
        "DUALSIGN_DATA_DIR": str(c.settings.data_dir),
        "DATABASE_URL": c.settings.database_url,
        "DUALSIGN_SECRET_KEY": c.settings.secret_key.decode(),
    }
    r = runner.invoke(
        app,
        ["reviewer", "add", "carol", "--role", "auditor", "--password-stdin"],
        input="short\n",
        env=environment,
    )
    assert r.exit_code != 0 and "password" in r.output
    r = runner.invoke(
        app,
        ["reviewer", "add", "carol", "--role", "auditor", "--tenant", env["bank"], "--password-stdin"],
        input=PASSWORD + "\n",
        env=environment,
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["role"] == "auditor"
    sign_in(env["client"], "carol")


def tone_wav(seconds: float) -> bytes:
    t = np.arange(int(16000 * seconds)) / 16000
    return to_wav((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))


def test_an_admin_records_a_prompt_and_sessions_then_play_the_recording(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sign_in(client, "adam")
    listed = {(t["key"], t["builtin"]) for t in client.get("/console/api/templates").json()}
    assert ("signing-check", False) in listed and ("insurance-epolicy-en", True) in listed
    before = client.get("/console/api/templates/signing-check").json()
    assert before["number"] == 1 and "q1" in before["yaml"]
    assert [(q["id"], q["prompt_audio"]) for q in before["questions"]] == [("q1", None)]
    url = "/console/api/templates/signing-check/questions/q1/prompt-audio"
    wav = {**CHANGE, "Content-Type": "audio/wav"}
    unknown = client.post(url.replace("/q1/", "/q9/"), headers=wav, content=tone_wav(1.5))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "question_id"
    noise = client.post(url, headers=wav, content=b"RIFF not really audio")
    assert noise.status_code == 422 and noise.json()["errors"][0]["field"] == "body"
    builtin = client.post(url.replace("signing-check", "insurance-epolicy-en"), headers=wav, content=b"x")
    assert builtin.status_code == 409 and "built in" in builtin.json()["detail"]
    done = client.post(url, headers=wav, content=tone_wav(1.5))
    assert done.status_code == 200, done.text
    recorded = done.json()
    assert recorded["number"] == 2 and recorded["created"] and recorded["duration_s"] == 1.5
    after = client.get("/console/api/templates/signing-check").json()
    assert after["number"] == 2 and after["questions"][0]["prompt_audio"] == recorded["sha256"]
    assert client.get("/console/api/templates/signing-check", params={"version": "1"}).json()["number"] == 1
    again = client.post("/console/api/templates", headers=CHANGE, content=after["yaml"].encode())
    assert again.json() == {**again.json(), "number": 2, "created": False}  # same content: no new version
    sign_in(client, "alice")
    denied = client.post(url, headers=wav, content=tone_wav(1.5))
    assert denied.status_code == 403 and denied.json()["role"] == "reviewer"
    created = create(client, env["headers"], template="signing-check", signer_name="Li Si").json()
    signer = signer_headers(created)
    client.post("/signer/v1/open", headers=signer)
    s = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
    (part,) = s["prompt_audio"]
    assert (part["sha256"], part["duration_s"]) == (recorded["sha256"], 1.5)
    played = client.get(part["url"])
    assert played.status_code == 200 and played.content == client.app.state.container.blobs.get(
        part["sha256"]
    )


def test_a_second_decision_needs_an_override_with_a_reason_and_both_stay(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sid = env["sid"]
    sign_in(client, "alice")
    url = f"/console/api/sessions/{sid}/review"
    first = client.post(url, headers=CHANGE, json={"decision": "approve", "comment": "looked fine"})
    assert first.status_code == 200
    silent = client.post(url, headers=CHANGE, json={"decision": "reject", "comment": "face hidden at 0:42"})
    assert silent.status_code == 409, silent.text  # no silent replacement of the first decision
    assert (silent.json()["code"], silent.json()["decision"], silent.json()["by"]) == (
        "decision_exists",
        "approve",
        "alice",
    )
    blank = client.post(
        url, headers=CHANGE, json={"decision": "reject", "comment": "face hidden", "override_reason": " "}
    )
    assert blank.status_code == 422 and blank.json()["errors"][0]["field"] == "override_reason"
    second = client.post(
        url,
        headers=CHANGE,
        json={
            "decision": "reject",
            "comment": "face hidden at 0:42",
            "override_reason": "missed the hidden face",
        },
    )
    assert second.status_code == 200, second.text
    assert second.json()["overrides"] == {"decision": "approve", "by": "alice", "number": 1}
    events = client.get(f"/v1/sessions/{sid}/events", headers=env["headers"]).json()
    decided = [e["payload"] for e in events if e["kind"] == "review_decided"]
    assert [d["decision"] for d in decided] == ["approve", "reject"]
    assert decided[1]["override_reason"] == "missed the hidden face"
    detail = client.get(f"/console/api/sessions/{sid}").json()
    assert detail["session"]["review"] == "reject"  # the latest decision is the session's review
    assert [(d["decision"], d["override_reason"]) for d in detail["decisions"]] == [
        ("approve", None),
        ("reject", "missed the hidden face"),
    ]


def test_the_reviewer_downloads_the_sealed_report_the_bundle_carries(env: dict[str, Any]) -> None:
    client: TestClient = env["client"]
    sid = env["sid"]
    sign_in(client, "alice")
    assert client.get(f"/console/api/sessions/{sid}").json()["session"]["sealed"]
    report = client.get(f"/console/api/sessions/{sid}/report")
    assert report.status_code == 200 and report.headers["content-type"] == "application/pdf"
    assert f'filename="{sid}-report.pdf"' in report.headers["content-disposition"]
    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=env["headers"]).content
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        assert z.read("report.pdf") == report.content  # rendered once at sealing, the same for everyone
    unsealed = create(client, env["headers"], template="signing-check").json()["id"]
    missing = client.get(f"/console/api/sessions/{unsealed}/report")
    assert missing.status_code == 404 and "sealed evidence" in missing.json()["detail"]
    sign_in(client, "olga")  # another tenant's reviewer
    assert client.get(f"/console/api/sessions/{sid}/report").status_code == 404
