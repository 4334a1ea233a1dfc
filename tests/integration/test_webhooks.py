"""Webhooks: milestones reach the integrator's receiver (a local HTTP server), signed, retried."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.outbox.callback_policy import CallbackPolicy
from dualsign.bootstrap.container import Container, resolve_host
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers


class Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_next = 0  # answer 500 to this many deliveries first


@pytest.fixture
def receiver() -> Iterator[tuple[str, Receiver]]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if state.fail_next:
                state.fail_next -= 1
                self.send_response(500)
            else:
                state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks", state
    server.shutdown()
    server.server_close()


LOOPBACK = "127.0.0.1/32"  # the test receiver: an internal address the operator allows


def test_milestones_are_delivered_signed_and_retried(
    receiver: tuple[str, Receiver], tmp_path: Path, database_url: str
) -> None:
    url, state = receiver
    clock = FixedClock()
    c: Container = make_container(tmp_path, database_url, clock, DUALSIGN_WEBHOOK_ALLOW_NETWORKS=LOOPBACK)
    state.fail_next = 1
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Hooked Bank")
        sid = create(client, headers, callback_url=url, external_ref="LOAN-7").json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "customer left"})
        runner = c.job_runner()
        runner.run_due()  # the first delivery meets a 500; the second is delivered
        log = client.get(f"/v1/sessions/{sid}/webhooks", headers=headers).json()
        assert [(d["event"], d["state"], d["attempts"]) for d in log] == [
            ("session.failed", "queued", 1),
            ("qc.failed", "done", 1),  # a cancelled session never passes the quality check
            ("session.sealed", "done", 1),
        ]
        assert "HTTP 500" in log[0]["last_error"]
        clock.advance(61)  # the retry waits for its backoff
        runner.run_due()
        log = client.get(f"/v1/sessions/{sid}/webhooks", headers=headers).json()
        assert [d["state"] for d in log] == ["done", "done", "done"]
        secret = bytes.fromhex(client.get("/v1/webhook-secret", headers=headers).json()["secret_hex"])
        other = tenant_headers(c, "Other Bank")
        assert client.get(f"/v1/sessions/{sid}/webhooks", headers=other).status_code == 404
    c.close()
    events: dict[str, dict[str, Any]] = {}
    for head, body in state.received:
        expected = hmac.new(secret, head["x-dualsign-timestamp"].encode() + b"." + body, hashlib.sha256)
        assert head["x-dualsign-signature"] == "v1=" + expected.hexdigest()
        events[head["x-dualsign-event"]] = json.loads(body)
    assert set(events) == {"session.failed", "qc.failed", "session.sealed"}
    assert events["qc.failed"]["payload"]["verdict"] == "FAIL" and events["qc.failed"]["payload"]["ruleset"]
    assert events["session.failed"]["payload"] == {"reason": "customer left", "by": "integrator"}
    assert events["session.sealed"]["external_ref"] == "LOAN-7"
    assert len(events["session.sealed"]["payload"]["manifest_sha256"]) == 64


def test_a_callback_host_resolving_to_an_internal_address_is_never_called(
    receiver: tuple[str, Receiver], tmp_path: Path
) -> None:
    url, state = receiver
    host = socket.gethostname()  # resolves through /etc/hosts to this machine: an internal address
    if all(CallbackPolicy().address_refusal(a) is None for a in resolve_host(host, 80)):
        pytest.skip(f"{host} resolves to a public address here")
    named = url.replace("127.0.0.1", host)
    c: Container = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock())
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Hooked Bank")
        sid = create(client, headers, callback_url=named).json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "customer left"})
        c.job_runner().run_due()
        log = client.get(f"/v1/sessions/{sid}/webhooks", headers=headers).json()
    c.close()
    assert log and all(d["state"] == "queued" for d in log)
    error = log[0]["last_error"]
    assert f"callback host '{host}' resolves to " in error and "is not a public address" in error, error
    assert state.received == []  # the receiver listening there was never reached


NO_VISION = Path(__file__).parent / "no_vision_template.yaml"


def test_every_failure_path_tells_the_integrator_with_a_reason_code(
    receiver: tuple[str, Receiver], tmp_path: Path
) -> None:
    # a failed question (not only cancel/refuse) is a session.failed with reason_code "question"; the
    # session reads outcome "failed" + sealed true, as a completed one reads "completed" + sealed
    url, state = receiver
    c: Container = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_WEBHOOK_ALLOW_NETWORKS=LOOPBACK,
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Hooked Bank")
        yaml_headers = {**headers, "Content-Type": "application/yaml"}
        assert (
            client.post("/v1/templates", headers=yaml_headers, content=NO_VISION.read_bytes()).status_code
            == 201
        )
        created = create(client, headers, template="text-mode-check", callback_url=url).json()
        signer = {"X-Signer-Token": created["signer_url"].rsplit("/", 1)[1]}
        client.post("/signer/v1/open", headers=signer)
        client.post("/signer/v1/consent", headers=signer, json={"agree": True})
        for _ in range(3):
            client.post("/signer/v1/answers", headers=signer, json={"text": "不知道"})
        c.job_runner().run_due()
        detail = client.get(f"/v1/sessions/{created['id']}", headers=headers).json()
        refused = create(client, headers, template="text-mode-check", callback_url=url).json()
        other = {"X-Signer-Token": refused["signer_url"].rsplit("/", 1)[1]}
        client.post("/signer/v1/open", headers=other)
        client.post("/signer/v1/consent", headers=other, json={"agree": False})
        c.job_runner().run_due()
        refused_detail = client.get(f"/v1/sessions/{refused['id']}", headers=headers).json()
    c.close()
    failed = [json.loads(b) for h, b in state.received if h["x-dualsign-event"] == "session.failed"]
    by_session = {f["session_id"]: f for f in failed}
    assert by_session[created["id"]]["reason_code"] == "question"
    assert by_session[created["id"]]["state"] == "question_failed"
    assert by_session[refused["id"]]["reason_code"] == "refused"
    assert (detail["status"], detail["outcome"], detail["outcome_reason"], detail["sealed"]) == (
        "failed",
        "failed",
        "question",
        True,
    )
    assert (refused_detail["outcome"], refused_detail["outcome_reason"]) == ("refused", "refused")
