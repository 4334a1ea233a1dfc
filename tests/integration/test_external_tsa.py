"""An external RFC 3161 TSA over HTTP (a real server on 127.0.0.1 with its own CA), and failing closed."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from fastapi.testclient import TestClient
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import platform_trust
from dualsign_verify.bundle import read_bundle
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers


def _cert(
    name: str,
    key: rsa.RSAPrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    ca: bool,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    b = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(issuer.subject if issuer else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


OUTAGE = threading.Event()  # set: the TSA answers 503, as during an outage


@pytest.fixture
def tsa_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _cert("Test Trusted TSA Root", ca_key, None, ca_key, True)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tsa = _cert("Test Trusted TSA", tsa_key, ca, ca_key, False)
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if OUTAGE.is_set():
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            answer = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    root = tmp_path / "tsa-root.pem"
    root.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    yield f"http://127.0.0.1:{server.server_address[1]}/tsr", root
    server.shutdown()
    server.server_close()
    OUTAGE.clear()


def test_sealing_with_an_external_tsa_verifies_as_trusted(
    tsa_server: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = tsa_server
    c = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_TSA_URL=url,
        DUALSIGN_TSA_ROOT=str(root),
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Trusting Bank")
        sid = create(client, headers).json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
        bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    report = verify(read_bundle(bundle), trust)
    assert report.verdict is Status.PASSED, report.to_dict()
    assert report.facts["tsa_mode"] == "trusted"
    assert "Test Trusted TSA" in report.steps[6].reason and "self-attested" not in report.steps[6].reason


def test_an_unreachable_tsa_fails_closed(tmp_path: Path) -> None:
    c = make_container(
        tmp_path,
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        FixedClock(),
        DUALSIGN_TSA_URL="http://127.0.0.1:9/tsr",
        DUALSIGN_TSA_ROOT=str(Path(__file__).parent / "tsa_root_placeholder.pem"),
    )
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Unlucky")
        sid = create(client, headers).json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
        events = [e["kind"] for e in client.get(f"/v1/sessions/{sid}/events", headers=headers).json()]
        assert events[-1] == "sealing_failed" and "evidence_sealed" not in events
        retry = client.post(f"/v1/sessions/{sid}/seal", headers=headers)
        assert retry.status_code == 503 and retry.json()["code"] == "sealing_failed"
        assert client.get(f"/v1/sessions/{sid}/bundle", headers=headers).status_code == 404
    c.close()


def test_sealing_that_failed_is_retried_by_a_durable_job_until_it_seals(
    tsa_server: tuple[str, Path], tmp_path: Path, database_url: str
) -> None:
    url, root = tsa_server
    clock = FixedClock()
    c = make_container(tmp_path, database_url, clock, DUALSIGN_TSA_URL=url, DUALSIGN_TSA_ROOT=str(root))
    OUTAGE.set()
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Patient Bank")
        sid = create(client, headers).json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
        runner = c.job_runner()
        assert runner.run_due() == 0  # the retry waits for its backoff
        clock.advance(31)
        assert runner.run_due() == 1  # the TSA is still down: another recorded failure, a later retry
        with c.new_uow() as u:
            (job,) = u.jobs.list()
        assert job.state == "queued" and job.attempts == 1 and "503" in (job.last_error or "")
        OUTAGE.clear()
        clock.advance(61)
        assert runner.run_due() == 2  # sealed, then the evidence report rendered
        kinds = [e["kind"] for e in client.get(f"/v1/sessions/{sid}/events", headers=headers).json()]
        assert kinds[-3:] == ["sealing_failed", "sealing_failed", "evidence_sealed"]
        with c.new_uow() as u:
            assert [(j.kind, j.state) for j in u.jobs.list()] == [
                ("seal_session", "done"),
                ("render_report", "done"),
            ]
        bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    assert verify(read_bundle(bundle), trust).verdict is Status.PASSED


def test_a_job_whose_worker_died_is_taken_again_and_one_that_keeps_failing_is_buried(
    tmp_path: Path, database_url: str
) -> None:
    from dualsign.application.outbox.jobs import JobRunner
    from dualsign.application.records import Job

    clock = FixedClock()
    c = make_container(tmp_path, database_url, clock)
    with c.new_uow() as u:
        assert u.jobs.enqueue("probe", 1, "k1", {"n": 1}, clock.now(), max_attempts=2)
        # one live job per key:
        assert not u.jobs.enqueue("probe", 1, "k1", {"n": 2}, clock.now(), max_attempts=2)
        u.commit()
    with c.new_uow() as u:  # a worker claims it, then dies without finishing
        assert u.jobs.claim(clock.now(), 60, ["probe"]) is not None
        u.commit()
    seen: list[Job] = []

    def failing(job: Job) -> None:
        seen.append(job)
        raise RuntimeError("still broken")

    runner = JobRunner(c.uow, clock, {"probe": failing}, lease_seconds=60)
    assert runner.run_due() == 0  # leased to the dead worker
    clock.advance(61)
    assert runner.run_due() == 1 and seen[0].payload == {"n": 1} and seen[0].attempts == 2
    with c.new_uow() as u:
        (job,) = u.jobs.list()
    assert job.state == "dead" and job.last_error == "RuntimeError: still broken"
    c.close()


def test_documents_signed_at_b_lta_with_an_external_tsa_verify(
    tsa_server: tuple[str, Path], tmp_path: Path
) -> None:
    from tests.integration.test_signing import STROKES, publish, signer_headers, to_signing

    url, root = tsa_server
    clock = FixedClock(dt.datetime.now(dt.UTC))
    env = {"DUALSIGN_TSA_URL": url, "DUALSIGN_TSA_ROOT": str(root), "DUALSIGN_SIGNATURE_LEVEL": "B-LTA"}
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, **env)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Trusting Insurer")
        publish(client, headers)
        created = create(client, headers, template="signing-check", signer_name="Wang Wu").json()
        to_signing(client, clock, signer_headers(created))
        done = client.post("/signer/v1/signature", headers=signer_headers(created), json=STROKES)
        assert done.json()["state"] == "signed", done.text
        bundle = client.get(f"/v1/sessions/{created['id']}/bundle", headers=headers).content
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    report = verify(read_bundle(bundle), trust)
    assert report.verdict is Status.PASSED, report.to_dict()
    assert "2 signature(s) and 2 document timestamp(s) intact and valid" in report.steps[8].reason
