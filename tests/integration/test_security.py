"""Issue #22, probed black-box as an attacker would: each item of the list against the served app.

Every probe goes through the HTTP or WebSocket API of a running app (``TestClient`` serves it in
process and re-raises any unhandled server exception, so a 500 fails the test). Client errors must be
4xx with a one-line reason, and the server log must hold no traceback for them (``no_tracebacks``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest
from asn1crypto import cms
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.review.console import add_reviewer
from dualsign.bootstrap.container import Container
from dualsign.media.audio import to_wav
from dualsign_verify.bundle import read_bundle
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import PHOTO, create, tenant_headers

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
    docs = client.get("/docs")  # Swagger UI keeps its CDN script, but is not framed either
    assert docs.status_code == 200 and docs.headers["content-security-policy"] == "frame-ancestors 'none'"
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


# 2. blob references are scoped to their owner --------------------------------------------------------
TEMPLATE = (Path(__file__).parent / "signing_template.yaml").read_text(encoding="utf-8")


def with_prompt_audio(digest: str, key: str = "signing-check") -> bytes:
    text = TEMPLATE.replace("key: signing-check", f"key: {key}")
    text = text.replace("    prompt: Are you", f"    prompt_audio: {digest}\n    prompt: Are you")
    return text.encode()


def test_a_tenant_cannot_name_or_probe_another_tenants_blob(env: tuple[TestClient, Container]) -> None:
    client, c = env
    a = {**tenant_headers(c, "Tenant A"), "Content-Type": "application/yaml"}
    b = {**tenant_headers(c, "Tenant B"), "Content-Type": "application/yaml"}
    wav = to_wav(np.zeros(16000, dtype=np.float32))
    uploaded = client.post(
        "/v1/templates/prompt-audio", headers={**a, "Content-Type": "audio/wav"}, content=wav
    )
    assert uploaded.status_code == 201, uploaded.text
    digest = uploaded.json()["sha256"]
    photo = hashlib.sha256(PHOTO).hexdigest()
    create(client, {"Authorization": a["Authorization"]})  # A's session stores the JPEG identity photo

    answers = {}
    for name, target in [("A's WAV", digest), ("A's JPEG", photo), ("nothing", "f" * 64)]:
        r = client.post("/v1/templates", headers=b, content=with_prompt_audio(target, "b-check"))
        assert r.status_code == 422, (name, r.text)
        assert r.json()["errors"][0]["field"] == "questions.0.prompt_audio"
        answers[name] = r.json()["errors"][0]["reason"].replace(target, "<digest>")
    assert len(set(answers.values())) == 1, answers  # "not yours" and "does not exist" answer alike

    own = client.post("/v1/templates", headers=a, content=with_prompt_audio(digest, "a-check"))
    assert own.status_code == 201, own.text
    session = create(client, {"Authorization": a["Authorization"]}, template="a-check").json()
    signer = signer_of(session)
    client.post("/signer/v1/open", headers=signer)
    state = client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    assert state.status_code == 200
    token = signer["X-Signer-Token"]
    assert client.get(f"/signer/v1/prompt-audio/{digest}?token={token}").content == wav


# 4. console sign-in resists guessing; 5. sign-out ends the session; 6. HTTPS off this machine --------
PASSWORD = "correct horse battery"
CHANGE = {"X-DualSign-Console": "1"}
HERE_CLIENT = ("127.0.0.1", 50000)


@pytest.fixture
def console_env(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> Iterator[tuple[Container, dict[str, str]]]:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    tenant, _ = create_tenant(c.new_uow(), c.clock, c.ids, "Console Bank")
    reviewers = {}
    for name in ("alice", "bob"):
        r = add_reviewer(
            c.new_uow(),
            c.clock,
            c.ids.new_id,
            c.passwords,
            tenant_id=tenant.id,
            username=name,
            password=PASSWORD,
            role="reviewer",
        )
        reviewers[name] = r.id
    yield c, reviewers
    c.close()


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/console/api/sign-in", headers=CHANGE, json={"username": username, "password": password}
    )


def test_guessing_a_console_password_is_throttled_and_audited(
    console_env: tuple[Container, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    c, _ = console_env
    with TestClient(create_app(c), client=HERE_CLIENT) as client:
        codes = [sign_in(client, "alice", f"guess {i}").status_code for i in range(8)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}, codes
        right = sign_in(client, "alice")
        assert right.status_code == 429  # the right password is not even tried while throttled
        assert int(right.headers["retry-after"]) > 0 and right.json()["retry_after_s"] > 0
    with TestClient(create_app(c), client=("127.0.0.2", 50000)) as elsewhere:
        assert sign_in(elsewhere, "alice").status_code == 200  # the owner from another address gets in
    with TestClient(create_app(c), client=("127.0.0.3", 50000)) as sprayer:
        codes = [sign_in(sprayer, f"user{i}", "guess").status_code for i in range(22)]
        assert codes[-1] == 429 and codes.count(401) == 20, codes  # one address, any usernames
    audit = [r.getMessage() for r in caplog.records if r.name == "dualsign.audit"]
    assert any("sign-in failed: 'alice' from 127.0.0.1" in m for m in audit)
    assert any("refused" in m and "127.0.0.1" in m for m in audit)


def test_sign_out_and_a_password_change_end_the_sign_in_on_the_server(
    console_env: tuple[Container, dict[str, str]],
) -> None:
    c, reviewers = console_env
    with TestClient(create_app(c), client=HERE_CLIENT) as client:
        assert sign_in(client, "alice").status_code == 200
        copied = dict(client.cookies)
        assert client.post("/console/api/sign-out", headers=CHANGE).status_code == 200
        client.cookies.clear()
        client.cookies.update(copied)  # the old cookie, replayed
        stale = client.get("/console/api/me")
        assert stale.status_code == 401 and "ended" in stale.json()["detail"]

        client.cookies.clear()
        assert sign_in(client, "bob").status_code == 200
        assert client.get("/console/api/me").status_code == 200
        uow = c.new_uow()
        with uow:
            uow.reviewers.set_password(reviewers["bob"], c.passwords.hash("another long password"))
            uow.commit()
        assert client.get("/console/api/me").status_code == 401


def test_the_console_signs_in_over_https_only_off_this_machine(
    console_env: tuple[Container, dict[str, str]],
) -> None:
    c, _ = console_env
    with TestClient(create_app(c), client=("203.0.113.7", 50000)) as remote:
        plain = sign_in(remote, "alice")
        assert plain.status_code == 403 and plain.json()["code"] == "https_required"
        assert "set-cookie" not in plain.headers
    with TestClient(create_app(c), base_url="https://console.example", client=("203.0.113.7", 50000)) as tls:
        signed = sign_in(tls, "alice")
        assert signed.status_code == 200 and "secure" in signed.headers["set-cookie"].lower()


def test_sign_in_failures_are_counted_across_processes_through_redis(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {"DUALSIGN_REDIS_URL": "redis://127.0.0.1:6379/0", "DUALSIGN_WORKER": "off"}
    a = make_container(tmp_path, db, FixedClock(), **env)
    b = make_container(tmp_path, db, FixedClock(), **env)
    address = f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}.{secrets.randbelow(250) + 1}"
    user = f"r{secrets.token_hex(6)}"  # fresh keys in a Redis shared with earlier runs
    add_reviewer(
        a.new_uow(),
        a.clock,
        a.ids.new_id,
        a.passwords,
        tenant_id=None,
        username=user,
        password=PASSWORD,
        role="auditor",
    )
    with (
        TestClient(create_app(a), client=(address, 1)) as one,
        TestClient(create_app(b), client=(address, 2)) as two,
    ):
        codes = [sign_in(api, user, "wrong").status_code for api in (one, two, one, two, one, two)]
        assert codes == [401] * 5 + [429], codes
    a.close()
    b.close()


# 10. the timestamp token's unsigned bytes are bound to the validated TSA certificate -----------------
def _rezip(bundle: bytes, name: str, data: bytes) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(bundle)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in src.namelist():
            z.writestr(n, data if n == name else src.read(n))
    return out.getvalue()


def _flip_carried_certificate(token: bytes) -> bytes:
    cert = cms.ContentInfo.load(token)["content"]["certificates"][0].chosen.dump()
    at = token.index(cert) + len(cert) - 1  # the last byte of its signature: it still parses
    return token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1 :]


def _other_signer_serial(token: bytes) -> bytes:
    info = cms.ContentInfo.load(token)
    sid = info["content"]["signer_infos"][0]["sid"].chosen
    sid["serial_number"] = sid["serial_number"].native + 1
    return info.dump(force=True)


@pytest.mark.parametrize("tamper", [_flip_carried_certificate, _other_signer_serial])
def test_online_verification_fails_a_token_with_changed_unsigned_bytes(
    env: tuple[TestClient, Container], tamper: Any
) -> None:
    client, c = env
    headers = tenant_headers(c, "Timestamp Bank")
    sid = create(client, headers).json()["id"]
    client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "t"})
    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
    zip_type = {"Content-Type": "application/zip"}
    assert client.post("/verify", headers=zip_type, content=bundle).json()["verdict"] == "PASSED"
    token = zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.tsr")
    changed = tamper(token)
    assert changed != token
    report = client.post("/verify", headers=zip_type, content=_rezip(bundle, "manifest.tsr", changed)).json()
    step = next(s for s in report["steps"] if s["step"] == 7)
    assert report["verdict"] == "FAILED" and step["status"] == "FAILED", report


# 8 (second half). a client gone mid chunk upload is no server error --------------------------------
def test_a_client_gone_mid_chunk_upload_leaves_no_traceback(env: tuple[TestClient, Container]) -> None:
    client, c = env
    created = create(client, tenant_headers(c, "Gone")).json()
    signer = signer_of(created)
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    headers = {**signer, "X-Content-SHA256": "a" * 64, "Content-Length": "100000"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "PUT",
        "scheme": "http",
        "path": "/signer/v1/recording/0/0",
        "raw_path": b"/signer/v1/recording/0/0",
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    incoming = [
        {"type": "http.request", "body": b"x" * 1000, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(client.app, scope, receive, send)  # raises on an unhandled exception
    assert sent[0]["status"] == 499
    assert client.get("/signer/v1/recording", headers=signer).json()["segments"] == []  # nothing kept


def test_the_console_refuses_deeply_nested_yaml_too(console_env: tuple[Container, dict[str, str]]) -> None:
    c, _ = console_env
    tenant = c.new_uow()
    with tenant:
        bank = tenant.reviewers.by_username("alice")
    assert bank is not None
    add_reviewer(
        c.new_uow(),
        c.clock,
        c.ids.new_id,
        c.passwords,
        tenant_id=bank.tenant_id,
        username="adam",
        password=PASSWORD,
        role="admin",
    )
    with TestClient(create_app(c), client=HERE_CLIENT) as client:
        assert sign_in(client, "adam").status_code == 200
        body = ("a: " + "[" * 1000 + "]" * 1000).encode()
        r = client.post("/console/api/templates", headers=CHANGE, content=body)
        assert r.status_code == 422 and "nested deeper than" in r.json()["detail"]
