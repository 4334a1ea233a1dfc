"""Issue #22, probed black-box as an attacker would: each item of the list against the served app.

Every probe goes through the HTTP or WebSocket API of a running app (``TestClient`` serves it in
process and re-raises any unhandled server exception, so a 500 fails the test). Client errors must be
4xx with a one-line reason, and the server log must hold no traceback for them (``no_tracebacks``).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers

T0 = 1_795_000_000_000


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[TestClient, Container]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        yield client, c
    c.close()


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Client errors leave no traceback in the server log."""
    caplog.set_level(logging.INFO)
    yield
    traced = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert not traced, [r.getMessage() for r in traced]


def signer_of(created: dict[str, Any]) -> dict[str, str]:
    return {"X-Signer-Token": created["signer_url"].rsplit("/", 1)[1]}


def put_chunk(client: TestClient, signer: dict[str, str], segment: int, index: int, data: bytes) -> Any:
    headers = {
        **signer,
        "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
        "X-Chunk-Started-Ms": str(T0),
        "X-Chunk-Ended-Ms": str(T0 + 1000),
    }
    return client.put(f"/signer/v1/recording/{segment}/{index}", headers=headers, content=data)


def kinds(client: TestClient, headers: dict[str, str], sid: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/v1/sessions/{sid}/events", headers=headers).json()]


# 1. nothing is appended to a sealed session, by any route ------------------------------------------
@pytest.mark.parametrize("consented", [False, True])
def test_a_sealed_session_takes_no_chunk_and_its_bundle_still_verifies(
    env: tuple[TestClient, Container], consented: bool
) -> None:
    client, c = env
    headers = tenant_headers(c, "Sealed Insurance")
    created = create(client, headers).json()
    sid, signer = created["id"], signer_of(created)
    if consented:
        client.post("/signer/v1/open", headers=signer)
        assert client.post("/signer/v1/consent", headers=signer, json={"agree": True}).status_code == 200
    assert client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "t"}).status_code == 200
    assert kinds(client, headers, sid)[-1] == "evidence_sealed"

    late = put_chunk(client, signer, 0, 0, b"webm after the seal")
    assert late.status_code == 409 and late.json()["code"] == "recording_closed"
    assert "sealed" in late.json()["detail"]
    finish = client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 1}})
    assert finish.status_code == 409
    assert client.get("/signer/v1/recording", headers=signer).json()["accepting"] is False
    assert kinds(client, headers, sid)[-1] == "evidence_sealed"  # the chain is final

    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers)
    report = verify(read_bundle(bundle.content))
    assert not [s for s in report.steps if s.status is Status.FAILED], report


# 3. deeply nested YAML is refused before parsing -----------------------------------------------------
@pytest.mark.parametrize("depth", [500, 1000, 50_000])
def test_deeply_nested_yaml_is_a_422_naming_the_problem(
    env: tuple[TestClient, Container], depth: int
) -> None:
    client, c = env
    headers = {**tenant_headers(c, "Nested"), "Content-Type": "application/yaml"}
    body = ("a: " + "[" * depth + "]" * depth).encode()
    checked = client.post("/v1/templates/validate", headers=headers, content=body)
    assert checked.status_code == 200 and checked.json()["valid"] is False  # validate answers, never 5xx
    assert "nested deeper than" in checked.json()["errors"][0]["reason"]
    r = client.post("/v1/templates", headers=headers, content=body)
    assert r.status_code == 422 and "nested deeper than" in r.json()["detail"]


# 7. security headers on HTML pages and files --------------------------------------------------------
def test_pages_and_files_carry_security_headers(env: tuple[TestClient, Container]) -> None:
    client, _ = env
    for path in ("/verify", "/console"):
        r = client.get(path)
        assert r.status_code == 200
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in r.text  # the CSP allows no inline script
    for path in ("/static/verify.js", "/static/console.js", "/pki/root.pem", "/healthz"):
        assert client.get(path).headers["x-content-type-options"] == "nosniff", path


# 8. the live channel answers bad messages and closes properly ----------------------------------------
@pytest.mark.parametrize(
    "text", ["not json", "[1, 2]", '"a string"', "[" * 3000 + "]" * 3000, '{"a":' * 1500 + "1" + "}" * 1500]
)
def test_live_channel_answers_a_bad_message_and_closes_with_1007(
    env: tuple[TestClient, Container], text: str
) -> None:
    from starlette.websockets import WebSocketDisconnect

    client, c = env
    created = create(client, tenant_headers(c, "Live")).json()
    token = signer_of(created)["X-Signer-Token"]
    with client.websocket_connect(f"/signer/v1/live?token={token}") as ws:
        ws.receive_json()  # the state
        ws.send_text(text)
        error = ws.receive_json()
        assert error["type"] == "error" and error["code"] == "bad_message" and error["detail"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1007


# 9. a chunked multipart body over the limit is 413 ---------------------------------------------------
def test_a_chunked_multipart_body_over_the_limit_is_413(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off", DUALSIGN_MAX_BODY_BYTES="65536")
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Chunked")

        def body() -> Iterator[bytes]:
            yield b'--XyZ\r\nContent-Disposition: form-data; name="identity_photo"; filename="a.jpg"\r\n'
            yield b"Content-Type: image/jpeg\r\n\r\n"
            for _ in range(40):
                yield b"\xff" * 4096
            yield b"\r\n--XyZ--\r\n"

        r = client.post(
            "/v1/sessions",
            headers={**headers, "Content-Type": "multipart/form-data; boundary=XyZ"},
            content=body(),
        )
        assert "content-length" not in r.request.headers
        assert r.status_code == 413 and r.json()["code"] == "payload_too_large"
    c.close()
