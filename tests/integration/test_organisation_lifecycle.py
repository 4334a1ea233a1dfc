"""An organisation's certificate renewed and the organisation revoked through the API and the command
line (SQLite and PostgreSQL): new seals use the new certificate while documents sealed with the old one
still verify offline; after a revocation new sessions are refused naming ``organisation``, an open
session fails with the reason on record (nothing signed) at the signer's next step — opening the link,
consent, an answer, the document review — or at the latest at signing, the CRL lists it, and it is never
renewed; ``dualsign keys revoke`` refuses an organisation's certificate."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import platform_trust
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.trust import TrustPolicy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import tenant_headers
from tests.integration.test_organisation_seal import BIDDER, CODE, bid_letter, create_bid, publish, register
from tests.integration.test_signing import STROKES, signer_headers
from tests.integration.test_webhooks import LOOPBACK, Receiver
from tests.integration.test_webhooks import receiver as receiver  # the fixture

PROBLEM = "application/problem+json"


HOOKS = {"DUALSIGN_WEBHOOK_ALLOW_NETWORKS": LOOPBACK}  # the test's webhook receiver is on this machine


@contextmanager
def platform(
    tmp_path: Path, database_url: str, **env: str
) -> Iterator[tuple[TestClient, Container, FixedClock, dict[str, str], dict[str, Any]]]:
    """The service on its own database, the bidding template published and the bidder registered: the
    client, the container, the clock, the tenant's headers and the organisation."""
    clock = FixedClock(datetime.now(UTC))
    c = make_container(tmp_path, database_url, clock, **env)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Bidding Platform")
        publish(client, headers)
        yield client, c, clock, headers, register(client, headers).json()


def _der_sha256(pem: str) -> str:
    cert = x509.load_pem_x509_certificate(pem.encode())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _to_signing(client: TestClient, clock: FixedClock, signer: dict[str, str]) -> None:
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    assert client.post("/signer/v1/answers", headers=signer, json={"text": "yes"}).json()["state"] == (
        "document_review"
    )
    client.post("/signer/v1/documents/0/viewed", headers=signer, json={"page": 1})
    clock.advance(6)
    assert client.post("/signer/v1/documents/reviewed", headers=signer).json()["state"] == "signing"


def _bid(client: TestClient, headers: dict[str, str], org_id: str, **form: str) -> dict[str, Any]:
    r = create_bid(client, headers, bid_letter(), organisation=org_id, seal_role="法定代表人", **form)
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    return created


def _signed(client: TestClient, clock: FixedClock, created: dict[str, Any]) -> None:
    signer = signer_headers(created)
    _to_signing(client, clock, signer)
    r = client.post("/signer/v1/signature", headers=signer, json=STROKES)
    assert r.status_code == 200 and r.json()["state"] == "signed", r.text


def _seal_serial(client: TestClient, headers: dict[str, str], sid: str) -> tuple[str, str]:
    """The certificate serial the session's events record for the organisation seal, and the serial of
    the certificate inside the signed PDF's seal signature."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    (seal,) = [
        e["payload"]
        for e in events
        if e["kind"] == "document_signed" and e["payload"]["role"] == "organisation"
    ]
    bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
    (entry,) = [a for a in read_bundle(bundle).manifest["artifacts"] if a["role"] == "signed_document"]
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        pdf = z.read(f"artifacts/{entry['sha256']}")
    sigs = {s.field_name: s for s in PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures}
    in_pdf = format(sigs[f"Organisation1_{sid}"].signer_cert.serial_number, "x")
    return str(seal["certificate_serial"]), in_pdf


def _verifies(bundle: bytes, trust: TrustPolicy) -> None:
    report = verify(read_bundle(bundle), trust)
    assert report.verdict is Status.PASSED, report.to_dict()


def test_a_renewed_organisation_seals_with_its_new_certificate_and_old_seals_still_verify(
    tmp_path: Path, database_url: str
) -> None:
    with platform(tmp_path, database_url) as (client, c, clock, headers, org):
        first = org["certificate"]
        assert org["status"] == "active" and [x["status"] for x in org["certificates"]] == ["current"]
        assert first["serial"] == org["certificate_serial"] and first["sha256"] == _der_sha256(
            org["certificate_pem"]
        )
        assert datetime.fromisoformat(first["not_after"]) - datetime.fromisoformat(
            first["not_before"]
        ) >= timedelta(days=3 * 365)

        before = _bid(client, headers, org["id"])
        _signed(client, clock, before)  # sealed with the first certificate
        pending = _bid(client, headers, org["id"])  # created now, signed after the renewal

        clock.advance(120)
        other = tenant_headers(c, "Other Bank")
        assert client.post(f"/v1/organisations/{org['id']}/certificate", headers=other).status_code == 404
        r = client.post(f"/v1/organisations/{org['id']}/certificate", headers=headers)
        assert r.status_code == 201, r.text
        renewed = r.json()
        new = renewed["certificate"]
        assert new["serial"] != first["serial"] and renewed["certificate_serial"] == new["serial"]
        assert [(x["serial"], x["status"]) for x in renewed["certificates"]] == [
            (first["serial"], "superseded"),
            (new["serial"], "current"),
        ]
        assert datetime.fromisoformat(renewed["certificates"][0]["superseded_at"]) == clock.now()
        assert new["sha256"] == _der_sha256(renewed["certificate_pem"]) != first["sha256"]
        assert renewed["status"] == "active" and renewed["revocation"] is None
        assert client.get(f"/v1/organisations/{org['id']}", headers=headers).json() == renewed

        base = f"/v1/organisations/{org['id']}/certificate.pem"
        assert client.get(base, headers=headers).text == renewed["certificate_pem"]
        assert client.get(f"{base}?serial={first['serial']}", headers=headers).text == org["certificate_pem"]
        assert client.get(f"{base}?serial=ffff", headers=headers).status_code == 404
        new_cert = x509.load_pem_x509_certificate(renewed["certificate_pem"].encode())
        new_cert.verify_directly_issued_by(x509.load_pem_x509_certificate(client.get("/pki/ca.pem").content))
        assert new_cert.subject.rfc4514_string() == first["subject"]  # the same organisation, a new key

        after = _bid(client, headers, org["id"])
        _signed(client, clock, after)
        _signed(client, clock, pending)
        assert _seal_serial(client, headers, before["id"]) == (first["serial"], first["serial"])
        assert _seal_serial(client, headers, after["id"]) == (new["serial"], new["serial"])
        assert _seal_serial(client, headers, pending["id"]) == (new["serial"], new["serial"])
        bundles = [client.get(f"/v1/sessions/{s['id']}/bundle", headers=headers).content
                   for s in (before, after, pending)]  # fmt: skip
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    # offline: the bundle carries the certificate chain; the trust policy only the platform's roots
    for bundle in bundles:
        _verifies(bundle, trust)
    # the report of the session created before the renewal names the certificate its seal was made with
    with zipfile.ZipFile(io.BytesIO(bundles[2])) as z:
        (tmp_path / "report.pdf").write_bytes(z.read("report.pdf"))
    text = subprocess.run(
        ["pdftotext", "report.pdf", "-"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    flat = "".join(text.split())
    assert new["serial"] in flat and first["serial"] not in flat


def test_a_revoked_organisation_is_refused_at_creation_and_an_open_session_fails_at_signing(
    tmp_path: Path, database_url: str, receiver: tuple[str, Receiver], caplog: pytest.LogCaptureFixture
) -> None:
    url, state = receiver
    with platform(tmp_path, database_url, **HOOKS) as (client, c, clock, headers, org):
        sealed_before = _bid(client, headers, org["id"])
        _signed(client, clock, sealed_before)
        open_one = _bid(client, headers, org["id"], callback_url=url)
        signer = signer_headers(open_one)
        _to_signing(client, clock, signer)
        revoke = f"/v1/organisations/{org['id']}/revoke"

        wrong = client.post(revoke, headers=headers, json={"reason": "stolen"})
        assert wrong.status_code == 422 and wrong.headers["content-type"] == PROBLEM
        assert [e["field"] for e in wrong.json()["errors"]] == ["reason"]
        assert "key_compromise" in wrong.json()["errors"][0]["reason"]
        long = client.post(revoke, headers=headers, json={"reason": "key_compromise", "comment": "x" * 600})
        assert [e["field"] for e in long.json()["errors"]] == ["comment"]
        assert (
            client.post(
                revoke, headers=tenant_headers(c, "Other Bank"), json={"reason": "key_compromise"}
            ).status_code
            == 404
        )
        assert client.get(f"/v1/organisations/{org['id']}", headers=headers).json()["status"] == "active"

        clock.advance(60)
        caplog.set_level(logging.INFO, logger="dualsign.audit")
        r = client.post(
            revoke, headers=headers, json={"reason": "key_compromise", "comment": "USB key lost, SEC-1"}
        )
        assert r.status_code == 200, r.text
        revoked = r.json()
        assert revoked["status"] == "revoked" and [x["status"] for x in revoked["certificates"]] == [
            "revoked"
        ]
        revocation = revoked["revocation"]
        assert datetime.fromisoformat(revocation["revoked_at"]) == clock.now()
        assert (revocation["reason"], revocation["comment"]) == ("key_compromise", "USB key lost, SEC-1")
        assert revocation["by"].startswith("api_key:")
        logged = [r for r in caplog.records if r.name == "dualsign.audit" and org["id"] in r.getMessage()]
        assert logged and "revoked" in logged[-1].getMessage() and "key_compromise" in logged[-1].getMessage()

        # the issuing CA's CRL (named in the certificate) lists it, with the time and the reason
        crl = x509.load_der_x509_crl(client.get("/pki/ca.crl").content)
        entry = crl.get_revoked_certificate_by_serial_number(int(org["certificate_serial"], 16))
        assert entry is not None and entry.revocation_date_utc == clock.now().replace(microsecond=0)
        assert (
            entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
            is x509.ReasonFlags.key_compromise
        )

        sessions_before = len(client.get("/v1/sessions", headers=headers).json())
        refused = create_bid(client, headers, bid_letter(), organisation=org["id"], seal_role="法定代表人")
        assert refused.status_code == 422 and refused.headers["content-type"] == PROBLEM
        (problem,) = refused.json()["errors"]
        assert problem["field"] == "organisation"
        assert "revoked" in problem["reason"] and "key_compromise" in problem["reason"]
        assert len(client.get("/v1/sessions", headers=headers).json()) == sessions_before  # nothing stored

        for again in (
            client.post(revoke, headers=headers, json={"reason": "cessation_of_operation"}),
            client.post(f"/v1/organisations/{org['id']}/certificate", headers=headers),
        ):
            assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
            body = again.json()
            assert (body["code"], body["field"], body["organisation_id"]) == (
                "organisation_revoked",
                "organisation",
                org["id"],
            )
            assert body["revocation_reason"] == "key_compromise"  # the first revocation stands
        assert client.get(f"/v1/organisations/{org['id']}", headers=headers).json() == revoked

        # the open session fails closed when the signer signs: recorded, nothing signed, no other seal
        signed = client.post("/signer/v1/signature", headers=signer, json=STROKES)
        assert signed.status_code == 200, signed.text
        assert (signed.json()["state"], signed.json()["ended_reason"]) == ("failed", "organisation_revoked")
        sid = open_one["id"]
        detail = client.get(f"/v1/sessions/{sid}", headers=headers).json()
        assert (detail["outcome"], detail["outcome_reason"], detail["sealed"]) == (
            "failed",
            "organisation_revoked",
            True,
        )
        assert not {"signed_document", "signature_mark"} & {a["role"] for a in detail["artifacts"]}
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
        assert "document_signed" not in {e["kind"] for e in events}
        (failed,) = [e["payload"] for e in events if e["kind"] == "session_failed"]
        assert failed["code"] == "organisation_revoked" and "revoked" in failed["reason"]
        c.job_runner().run_due()
        hooks = [json.loads(b) for h, b in state.received if h["x-dualsign-event"] == "session.failed"]
        assert [(h["session_id"], h["reason_code"]) for h in hooks] == [(sid, "organisation_revoked")]

        bundle_before = client.get(f"/v1/sessions/{sealed_before['id']}/bundle", headers=headers).content
        failed_bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        trust = platform_trust(c.evidence_keys, c.tsa)

        again = register(client, headers)  # the organisation may be registered again: a new key
        assert again.status_code == 201, again.text
        assert again.json()["id"] != org["id"] and again.json()["status"] == "active"
        assert again.json()["certificate_serial"] != org["certificate_serial"]
        assert again.json()["name"] == BIDDER and again.json()["credit_code"] == CODE
    c.close()
    # sealed before the revocation: still verifies; the failed session's evidence is sealed and verifies
    _verifies(bundle_before, trust)
    _verifies(failed_bundle, trust)


def test_an_expired_certificate_refuses_new_sessions_until_the_organisation_is_renewed(
    tmp_path: Path, database_url: str
) -> None:
    with platform(tmp_path, database_url, DUALSIGN_WORKER="off") as (client, c, clock, headers, org):
        clock.at = datetime.fromisoformat(org["certificate"]["not_after"]) + timedelta(days=1)
        shown = client.get(f"/v1/organisations/{org['id']}", headers=headers).json()
        assert (shown["status"], shown["certificate"]["status"]) == ("certificate_expired", "expired")
        refused = create_bid(client, headers, bid_letter(), organisation=org["id"], seal_role="法定代表人")
        assert refused.status_code == 422
        (problem,) = refused.json()["errors"]
        assert problem["field"] == "organisation" and "expired" in problem["reason"]
        assert f"POST /v1/organisations/{org['id']}/certificate" in problem["reason"]

        renewed = client.post(f"/v1/organisations/{org['id']}/certificate", headers=headers).json()
        assert renewed["status"] == "active"
        assert [x["status"] for x in renewed["certificates"]] == ["expired", "current"]
        _bid(client, headers, org["id"])  # accepted again
    c.close()


def test_a_revocation_waits_for_a_signing_that_read_the_organisation(
    tmp_path: Path, database_url_pg: str
) -> None:
    # PostgreSQL: a signing holds the organisation under a shared lock until it commits, so a revocation
    # made meanwhile comes after the seal (never a seal made under a certificate already revoked); two
    # signings for one organisation do not wait for each other
    import threading

    from dualsign.application.integrator.organisations import Revocation, revoke_organisation, seal_standing

    with platform(tmp_path, database_url_pg, DUALSIGN_WORKER="off") as (_, c, clock, _headers, org):
        with c.new_uow() as uow:
            record = uow.organisations.get(org["id"])
        assert record is not None
        signing, other = c.new_uow(), c.new_uow()
        done = threading.Event()

        def revoke() -> None:
            revoke_organisation(
                c.new_uow(), c.organisation_services, record.tenant_id, org["id"],
                Revocation("key_compromise"), "api_key:test",
            )  # fmt: skip
            done.set()

        with signing:
            assert seal_standing(signing, org["id"], clock.now()).block is None
            with other:  # a second signing reads it too, without waiting
                assert seal_standing(other, org["id"], clock.now()).block is None
            worker = threading.Thread(target=revoke)
            worker.start()
            assert not done.wait(1.0), "the revocation did not wait for the signing"
            signing.commit()
        worker.join(10)
        assert done.is_set()
        with c.new_uow() as after:
            standing = seal_standing(after, org["id"], clock.now())
        assert standing.block is not None and standing.block.final
    c.close()


# --- an open session learns of the revocation at the signer's next step, not after the recording ------


def _revoke(client: TestClient, headers: dict[str, str], org_id: str) -> None:
    r = client.post(f"/v1/organisations/{org_id}/revoke", headers=headers, json={"reason": "key_compromise"})
    assert r.status_code == 200, r.text


def _shown_revoked(shown: dict[str, Any]) -> None:
    """What the signer page is told: failed, with a reason it has words for in the session's language."""
    assert (shown["state"], shown["ended_reason"]) == ("failed", "organisation_revoked"), shown
    messages = json.loads((Path(__file__).parents[2] / "src/dualsign/web/messages.json").read_text("utf-8"))
    lang = "en" if shown["language"].startswith("en") else "zh-CN"
    assert messages[lang]["reason_organisation_revoked"]


def _failed_on_record(client: TestClient, headers: dict[str, str], sid: str, where: str) -> list[str]:
    """The session failed with the code on record, its evidence sealed, nothing signed; its event kinds."""
    detail = client.get(f"/v1/sessions/{sid}", headers=headers).json()
    assert (detail["outcome"], detail["outcome_reason"], detail["sealed"]) == (
        "failed",
        "organisation_revoked",
        True,
    )
    events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    (failed,) = [e["payload"] for e in events if e["kind"] == "session_failed"]
    assert failed["code"] == "organisation_revoked" and "revoked" in failed["reason"]
    assert where in failed["reason"] and "nothing was signed" in failed["reason"]
    kinds = [e["kind"] for e in events]
    assert "document_signed" not in kinds and "signature_applied" not in kinds
    return kinds


def _nothing_more(client: TestClient, headers: dict[str, str], signer: dict[str, str], sid: str) -> None:
    """Every later step is refused and records nothing; the page still shows how the session ended."""
    count = len(client.get(f"/v1/sessions/{sid}/events", headers=headers).json())
    for path, body in (
        ("/signer/v1/consent", {"agree": True}),
        ("/signer/v1/answers", {"text": "yes"}),
        ("/signer/v1/documents/0/viewed", {"page": 1}),
        ("/signer/v1/signature", STROKES),
    ):
        assert client.post(path, headers=signer, json=body).status_code == 401, path
    _shown_revoked(client.get("/signer/v1/session", headers=signer).json())
    _shown_revoked(client.post("/signer/v1/open", headers=signer).json())  # opened again: shown, no event
    assert len(client.get(f"/v1/sessions/{sid}/events", headers=headers).json()) == count


def test_a_session_whose_organisation_was_revoked_fails_when_the_signer_opens_the_link(
    tmp_path: Path, database_url: str, receiver: tuple[str, Receiver]
) -> None:
    url, state = receiver
    with platform(tmp_path, database_url, **HOOKS) as (client, c, clock, headers, org):
        created = _bid(client, headers, org["id"], callback_url=url)
        signer, sid = signer_headers(created), created["id"]
        # before the link is opened, the session is only looked at: nothing is recorded
        assert client.get("/signer/v1/session", headers=signer).json()["state"] == "created"
        clock.advance(60)
        _revoke(client, headers, org["id"])
        assert client.get("/signer/v1/session", headers=signer).json()["state"] == "created"

        opened = client.post("/signer/v1/open", headers=signer)
        assert opened.status_code == 200, opened.text
        _shown_revoked(opened.json())
        assert opened.json()["prompt"] is None and opened.json()["language"] == "en-US"
        kinds = _failed_on_record(client, headers, sid, "when the signer opened the link")
        assert kinds[-4:] == ["signer_opened", "session_failed", "qc_evaluated", "evidence_sealed"], kinds
        _nothing_more(client, headers, signer, sid)
        c.job_runner().run_due()
        hooks = [json.loads(b) for h, b in state.received if h["x-dualsign-event"] == "session.failed"]
        assert [(h["session_id"], h["reason_code"]) for h in hooks] == [(sid, "organisation_revoked")]
    c.close()


@pytest.mark.parametrize("step", ["consent", "questions", "document_review"])
def test_a_revocation_during_a_session_fails_it_at_the_signers_next_step(
    tmp_path: Path, database_url: str, step: str
) -> None:
    with platform(tmp_path, database_url, DUALSIGN_WORKER="off") as (client, c, clock, headers, org):
        created = _bid(client, headers, org["id"])
        signer, sid = signer_headers(created), created["id"]
        assert client.post("/signer/v1/open", headers=signer).json()["state"] == "consent"
        if step != "consent":
            shown = client.post("/signer/v1/consent", headers=signer, json={"agree": True}).json()
            assert shown["state"] == "questions" and shown["prompt"] is not None
        if step == "document_review":
            shown = client.post("/signer/v1/answers", headers=signer, json={"text": "yes"}).json()
            assert shown["state"] == "document_review"
        clock.advance(30)
        _revoke(client, headers, org["id"])
        before = len(client.get(f"/v1/sessions/{sid}/events", headers=headers).json())

        # the signer's next step: consenting, answering, reading a page of the document
        path, body = {
            "consent": ("/signer/v1/consent", {"agree": True}),
            "questions": ("/signer/v1/answers", {"text": "yes"}),
            "document_review": ("/signer/v1/documents/0/viewed", {"page": 1}),
        }[step]
        r = client.post(path, headers=signer, json=body)
        assert r.status_code == 200, r.text
        _shown_revoked(r.json())
        kinds = _failed_on_record(client, headers, sid, f"at the {step} step")
        # the step was not taken: the failure, then what follows any ending (QC, the seal)
        assert kinds[before:] == ["session_failed", "qc_evaluated", "evidence_sealed"], kinds
        _nothing_more(client, headers, signer, sid)
    c.close()


def test_the_operator_renews_and_revokes_an_organisation_from_the_command_line(
    tmp_path: Path, database_url: str
) -> None:
    # the same use cases as the API; `dualsign keys revoke` refuses an organisation's certificate (the
    # CRL alone would leave the organisation active and its sessions failing unrecorded at the seal)
    from typer.testing import CliRunner

    from dualsign.cli.main import app

    runner = CliRunner()
    env = {"DUALSIGN_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "COLUMNS": "250"}
    tenant = json.loads(runner.invoke(app, ["tenant", "create", "Example Bank"], env=env).stdout)["tenant_id"]
    made = runner.invoke(app, ["tenant", "organisation", tenant, BIDDER, CODE], env=env)
    assert made.exit_code == 0, made.output
    org_id = json.loads(made.stdout)["organisation_id"]

    nobody = runner.invoke(app, ["organisation", "renew", "org_nobody"], env=env)
    assert nobody.exit_code == 2 and "org_nobody" in nobody.stderr
    renewed = runner.invoke(app, ["organisation", "renew", org_id], env=env)
    assert renewed.exit_code == 0, renewed.output
    shown = json.loads(renewed.stdout)
    first, current = (x["serial"] for x in shown["certificates"])
    assert shown["certificate_serial"] == current and [x["status"] for x in shown["certificates"]] == [
        "superseded",
        "current",
    ]

    for serial in (current, first, current.upper()):  # any certificate of it, however it is written
        refused = runner.invoke(app, ["keys", "revoke", serial], env=env)
        assert refused.exit_code == 2, refused.output
        said = " ".join(refused.stderr.split())
        assert org_id in said and f"dualsign organisation revoke {org_id} --reason" in said
        assert f"POST /v1/organisations/{org_id}/revoke" in said
    ca_crl = tmp_path / "pki" / "ca.crl"
    listed = x509.load_der_x509_crl(ca_crl.read_bytes()) if ca_crl.exists() else None
    assert listed is None or listed.get_revoked_certificate_by_serial_number(int(current, 16)) is None

    wrong = runner.invoke(app, ["organisation", "revoke", org_id, "--reason", "stolen"], env=env)
    assert wrong.exit_code == 2 and "reason" in wrong.stderr and "key_compromise" in wrong.stderr
    revoked = runner.invoke(
        app,
        ["organisations", "revoke", org_id, "--reason", "key_compromise", "--comment", "USB key lost"],
        env=env,
    )
    assert revoked.exit_code == 0, revoked.output
    after = json.loads(revoked.stdout)
    assert after["revocation_reason"] == "key_compromise" and after["revoked_at"]
    assert [x["status"] for x in after["certificates"]] == ["revoked", "revoked"]
    crl = x509.load_der_x509_crl(ca_crl.read_bytes())
    for serial in (first, current):
        assert crl.get_revoked_certificate_by_serial_number(int(serial, 16)) is not None

    for again in (
        ["organisation", "renew", org_id],
        ["organisation", "revoke", org_id, "--reason", "unspecified"],
    ):
        refused = runner.invoke(app, again, env=env)
        assert refused.exit_code == 2 and "revoked" in refused.stderr, refused.output
    listed_again = runner.invoke(app, ["keys", "revoke", current], env=env)
    assert listed_again.exit_code == 2 and "the CRL lists it already" in " ".join(listed_again.stderr.split())
    listing = runner.invoke(app, ["tenant", "organisations", tenant], env=env)
    assert "key_compromise" in listing.stdout
    other = runner.invoke(app, ["keys", "revoke", "abc123"], env=env)  # not an organisation's: listed
    assert other.exit_code == 0 and "revoked abc123" in other.stdout, other.output
