"""The page's operation trace through the API: batches stored once each, checked strictly, limited per
link, sealed into the bundle (SHA-256 and SM3 from ingest) and read by the quality check and the report."""

from __future__ import annotations

import hashlib
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
from dualsign.application.evidence.sealing import platform_trust
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.review.console import add_reviewer
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.canonical import canonical_json
from dualsign_verify.records import sm3_hex
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.test_console import PASSWORD, sign_in
from tests.integration.test_recording import new_session
from tests.integration.test_signing import STROKES, to_signing

T0 = 1_795_000_000_000  # the page's clock, epoch ms


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


def entry(t: int, step: str, op: str, **kw: Any) -> dict[str, Any]:
    return {"t": T0 + t, "step": step, "op": op, **kw}


def put(client: TestClient, signer: dict[str, str], n: int, *entries: dict[str, Any], **kw: Any) -> Any:
    body = kw.pop("body", {"version": 1, "entries": list(entries)})
    return client.put(f"/signer/v1/trace/{n}", headers=signer, json=body)


def events_of(client: TestClient, headers: dict[str, str], sid: str) -> list[dict[str, Any]]:
    r = client.get(f"/v1/sessions/{sid}/events", headers=headers)
    events: list[dict[str, Any]] = r.json()
    return events


def test_batches_are_stored_once_each_and_bad_ones_are_refused_naming_the_field(
    env: tuple[TestClient, Container],
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    client.post("/signer/v1/open", headers=signer)
    consent = [
        entry(0, "consent", "screen_shown"),
        entry(900, "consent", "check", target="c-rec", value="on"),
    ]
    first = put(client, signer, 0, *consent)  # before consent: the consent screen is part of the trace
    assert first.status_code == 201, first.text
    assert first.json() == {
        "batch": 0,
        "sha256": hashlib.sha256(canonical_json({"version": 1, "entries": consent})).hexdigest(),
        "entries": 2,
        "duplicate": False,
    }
    # the page resends a batch whose answer it lost: acknowledged, not stored twice
    again = put(client, signer, 0, *reversed_keys(consent))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    clash = put(client, signer, 0, entry(5, "consent", "click", target="agree"))
    assert clash.status_code == 409 and clash.json()["code"] == "trace_batch_conflict"
    assert clash.json()["stored_sha256"] == first.json()["sha256"]

    typed = put(client, signer, 1, entry(1_000, "question", "click", target="my answer is yes"))
    assert typed.status_code == 422 and typed.json()["errors"][0]["field"] == "entries.0.target"
    extra = put(client, signer, 1, {**entry(1_000, "question", "click", target="agree"), "keys": "abc"})
    assert extra.status_code == 422 and extra.json()["errors"][0]["field"] == "entries.0.keys"
    assert put(client, signer, -1, *consent).json()["errors"][0]["field"] == "batch"
    huge = [entry(i, "consent", "scrolled_end") for i in range(200)]
    too_big = client.put(
        "/signer/v1/trace/1",
        headers={**signer, "Content-Type": "application/json"},
        content=json.dumps({"version": 1, "entries": huge, "pad": "x" * 70_000}),
    )
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    chunked = client.put(  # no Content-Length: read only up to the limit
        "/signer/v1/trace/1",
        headers={**signer, "Content-Type": "application/json"},
        content=iter([b'{"version": 1, "entries": [' + b" " * 40_000, b" " * 40_000, b"]}"]),
    )
    assert chunked.status_code == 413 and chunked.json()["limit"] == 64 * 1024
    text = client.put("/signer/v1/trace/1", headers={**signer, "Content-Type": "text/plain"}, content=b"{}")
    assert text.status_code == 415
    assert put(client, {"X-Signer-Token": "forged"}, 1, *consent).status_code == 401

    status = client.get("/signer/v1/trace", headers=signer).json()
    assert status == {"batches": [0], "next_batch": 1, "accepting": True}
    stored = [
        e["payload"]
        for e in events_of(client, headers, sid)
        if e["kind"] == "artifact_stored" and e["payload"]["role"] == "operation_trace"
    ]
    assert len(stored) == 1 and stored[0]["batch"] == 0 and stored[0]["entries"] == 2
    blob = c.blobs.get(stored[0]["sha256"])
    assert stored[0]["sm3"] == sm3_hex(blob) and json.loads(blob)["entries"] == consent


def reversed_keys(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(reversed(list(e.items()))) for e in entries]


def test_trace_batches_count_against_the_link_not_the_address(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off", DUALSIGN_RATE_LIMIT_CLIENT="3")
    with TestClient(create_app(c)) as client:
        _, signer, _ = new_session(client, c)
        for n in range(6):  # a branch behind one address: the page's trace is not refused there
            assert put(client, signer, n, entry(n, "consent", "scrolled_end")).status_code == 201
        codes = [client.get("/signer/v1/session", headers=signer).status_code for _ in range(4)]
        assert codes[-1] == 429
    c.close()


def signed_with_trace(
    client: TestClient, c: Container, clock: FixedClock
) -> tuple[dict[str, str], dict[str, str], str]:
    headers, signer, sid = new_session(client, c)
    client.post("/signer/v1/open", headers=signer)
    assert put(client, signer, 0, entry(0, "consent", "screen_shown")).status_code == 201
    to_signing(client, clock, signer)
    (doc,) = client.get("/signer/v1/documents", headers=signer).json()
    asked = sorted(
        {
            str(e["payload"]["question_id"])
            for e in events_of(client, headers, sid)
            if e["kind"] == "question_asked"
        }
    )
    page = {"doc": 0, "page": 1, "sha256": doc["sha256"]}
    second = [
        entry(2_000 + i, "question", "screen_shown", question=q, attempt=1) for i, q in enumerate(asked)
    ]
    second += [
        entry(10_000, "documents", "screen_shown"),
        entry(10_100, "documents", "page_shown", **page),
        entry(16_000, "documents", "page_read", **page),
        entry(17_000, "documents", "click", target="read-done"),
        entry(18_000, "signing", "screen_shown"),
        entry(19_000, "signing", "signature_stroke", value="1"),
        entry(20_000, "signing", "click", target="sign"),
    ]
    # batch 1 is lost on the way; batch 2 arrives; the page sends batch 1 again when back online
    assert put(client, signer, 2, entry(21_000, "signing", "hidden")).status_code == 201
    assert put(client, signer, 1, *second).status_code == 201
    s = client.post("/signer/v1/signature", headers=signer, json=STROKES)
    assert s.json()["state"] == "signed", s.text
    return headers, signer, sid


def test_the_trace_is_sealed_into_the_bundle_verifies_and_is_read_by_qc_and_the_report(
    env: tuple[TestClient, Container], clock: FixedClock, tmp_path: Path
) -> None:
    client, c = env
    headers, signer, sid = signed_with_trace(client, c, clock)
    detail = client.get(f"/v1/sessions/{sid}", headers=headers).json()
    assert detail["sealed"] is True, detail
    events = events_of(client, headers, sid)
    qc = next(e["payload"] for e in events if e["kind"] == "qc_evaluated")
    assert qc["ruleset"] == "qc-2026.12.5"
    rule = next(r for r in qc["rules"] if r["rule"] == "operation_trace")
    assert rule["verdict"] == "PASS", rule
    assert rule["facts"]["batches"] == 3 and rule["facts"]["documents"] == 1

    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        files = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(files["manifest.json"])
    traces = [a for a in manifest["artifacts"] if a["role"] == "operation_trace"]
    assert len(traces) == 3
    for a in traces:
        assert sm3_hex(c.blobs.get(a["sha256"])) == a["sm3"]
    trust = parse_policy(platform_trust(c.evidence_keys, c.tsa).to_json())
    report = verify(read_bundle(bundle), trust, sm3=True)
    assert report.steps[1].status is Status.PASSED and all(
        s.status is not Status.FAILED for s in report.steps
    )

    (tmp_path / "report.pdf").write_bytes(files["report.pdf"])
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout.replace("\n", " ")
    assert "Operation trace" in text and "Screens and time on each" in text
    assert "document reading" in text and "clicked “Submit signature”" in text

    # sealed: the trace is closed (the page drops the batch)
    late = put(client, signer, 3, entry(30_000, "ended", "screen_shown"))
    assert late.status_code == 409 and late.json()["code"] == "trace_closed"
    assert client.get("/signer/v1/trace", headers=signer).json()["accepting"] is False


def test_a_session_without_a_trace_or_with_a_document_never_shown_needs_a_person(
    env: tuple[TestClient, Container], clock: FixedClock
) -> None:
    client, c = env
    headers, signer, sid = new_session(client, c)
    to_signing(client, clock, signer)
    assert client.post("/signer/v1/signature", headers=signer, json=STROKES).json()["state"] == "signed"
    qc = next(e["payload"] for e in events_of(client, headers, sid) if e["kind"] == "qc_evaluated")
    rule = next(r for r in qc["rules"] if r["rule"] == "operation_trace")
    assert rule["verdict"] == "NEEDS_REVIEW" and rule["finding"] == "trace_missing"
    assert qc["verdict"] != "PASS"

    headers, signer, sid = new_session(client, c)
    client.post("/signer/v1/open", headers=signer)
    screens = [entry(0, "consent", "screen_shown"), entry(1_000, "question", "screen_shown", question="q1")]
    screens += [entry(5_000, "signing", "screen_shown")]  # the documents screen never came
    assert put(client, signer, 0, *screens).status_code == 201
    to_signing(client, clock, signer)
    assert client.post("/signer/v1/signature", headers=signer, json=STROKES).json()["state"] == "signed"
    qc = next(e["payload"] for e in events_of(client, headers, sid) if e["kind"] == "qc_evaluated")
    rule = next(r for r in qc["rules"] if r["rule"] == "operation_trace")
    assert rule["verdict"] == "NEEDS_REVIEW" and rule["finding"] == "trace_incomplete", rule
    assert "document:" in rule["detail"] and "screen:documents_before_signing" in rule["detail"]


def test_the_console_shows_the_trace_to_the_tenants_reviewers_only(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c), client=("127.0.0.1", 50000)) as client:  # the console: this machine
        _, _, sid = signed_with_trace(client, c, clock)
        with c.new_uow() as uow:
            record = uow.sessions.get(sid)
        other, _ = create_tenant(c.new_uow(), c.clock, c.ids, "Other Bank")
        assert record is not None
        for name, owner in (("alice", record.tenant_id), ("olga", other.id)):
            add_reviewer(
                c.new_uow(),
                c.clock,
                c.ids.new_id,
                c.passwords,
                tenant_id=owner,
                username=name,
                password=PASSWORD,
                role="reviewer",
            )
        sign_in(client, "alice")
        t = client.get(f"/console/api/sessions/{sid}/trace").json()
        assert t["batches"] == [0, 1, 2] and t["missing_batches"] == [] and t["error"] is None
        assert t["screens"][0]["step"] == "consent" and t["screens"][-1]["step"] == "signing"
        (doc,) = t["documents"]
        # on screen from 10.1 s until the signing screen replaced the documents at 18.0 s
        assert doc["pages"] == [{"page": 1, "seconds": 7.9, "shown": 1, "read": True}]
        assert [o["target"] for o in t["operations"] if o["op"] == "click"] == ["read-done", "sign"]
        assert (t["away"], t["away_seconds"]) == (1, 0.0)
        detail = client.get(f"/console/api/sessions/{sid}").json()
        assert not [e for e in detail["timeline"] if e["payload"].get("role") == "operation_trace"]
        sign_in(client, "olga")
        assert client.get(f"/console/api/sessions/{sid}/trace").status_code == 404
    c.close()
