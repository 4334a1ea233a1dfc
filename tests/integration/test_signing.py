"""The signing step through the signer API: review rules, PAdES signatures bound to the evidence chain,
the institution's counter-signature, what the page shows, and interop with pdfsig."""

from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from PIL import Image

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import platform_trust
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.pdf import check_pdf, signature_reasons
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import PDF, PHOTO, create, tenant_headers

TEMPLATE = Path(__file__).parent / "signing_template.yaml"
STROKES = {  # a short scribble on a 300×100 pad
    "strokes": [[[10, 60], [40, 20], [70, 80], [100, 30], [130, 70]], [[150, 50], [200, 45], [260, 20]]],
    "width": 300,
    "height": 100,
}


def signer_headers(created: dict[str, Any]) -> dict[str, str]:
    return {"X-Signer-Token": created["signer_url"].rsplit("/", 1)[1]}


def publish(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post(
        "/v1/templates",
        headers={**headers, "Content-Type": "application/yaml"},
        content=TEMPLATE.read_bytes(),
    )
    assert r.status_code == 201, r.text


def to_signing(client: TestClient, clock: FixedClock, signer: dict[str, str]) -> None:
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "yes"}).json()
    assert s["state"] == "document_review", s
    docs = client.get("/signer/v1/documents", headers=signer).json()
    assert [d["pages"] for d in docs] == [1]
    early = client.post("/signer/v1/documents/reviewed", headers=signer)
    assert early.status_code == 409 and early.json()["code"] == "review_incomplete"
    assert early.json()["unread_documents"] == [docs[0]["sha256"]]
    pdf = client.get("/signer/v1/documents/0", headers=signer)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    client.post("/signer/v1/documents/0/viewed", headers=signer, json={"page": 1})
    too_soon = client.post("/signer/v1/documents/reviewed", headers=signer)
    assert too_soon.status_code == 409 and too_soon.json()["seconds_left"] == 5
    clock.advance(6)
    s = client.post("/signer/v1/documents/reviewed", headers=signer).json()
    assert s["state"] == "signing", s


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, Any]:
    """A session signed and sealed at the current time (so pdfsig, which checks certificates against
    the current time, sees the one-hour event certificate still valid)."""
    clock = FixedClock(datetime.now(UTC))
    c: Container = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Life Insurance")
        publish(client, headers)
        created = create(client, headers, template="signing-check", signer_name="Zhang San").json()
        signer = signer_headers(created)
        to_signing(client, clock, signer)
        bad = client.post("/signer/v1/signature", headers=signer, json={"strokes": [[[1, 1]]], "width": 300})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "strokes"
        s = client.post("/signer/v1/signature", headers=signer, json=STROKES)
        assert s.status_code == 200 and s.json()["state"] == "signed", s.text
        sid = created["id"]
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
        bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        root = client.get("/pki/root.pem").content
        crl = client.get("/pki/ca.crl")
        assert crl.headers["content-type"] == "application/pkix-crl"
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        manifest = read_bundle(bundle).manifest
        (entry,) = [a for a in manifest["artifacts"] if a["role"] == "signed_document"]
        pdf = z.read(f"artifacts/{entry['sha256']}")
    return {
        "events": events,
        "bundle": bundle,
        "pdf": pdf,
        "root": root,
        "sid": sid,
        "tmp": tmp_path,
        "trust": trust,
    }


def test_the_signer_signs_the_institution_countersigns_and_the_bundle_verifies(
    signed: dict[str, Any],
) -> None:
    kinds = [e["kind"] for e in signed["events"]]
    assert kinds[-6:] == [
        "document_signed",
        "document_signed",
        "artifact_stored",
        "signature_applied",
        "qc_evaluated",
        "evidence_sealed",
    ]
    first, second = [e for e in signed["events"] if e["kind"] == "document_signed"]
    assert (first["payload"]["role"], second["payload"]["role"]) == ("signer", "institution")
    assert "CN=Zhang San" in first["payload"]["certificate_subject"]
    assert f"OU={signed['sid']}" in first["payload"]["certificate_subject"]
    assert "Example Life Insurance" in second["payload"]["certificate_subject"]
    (doc,) = [
        e for e in signed["events"] if e["kind"] == "artifact_stored" and e["payload"]["role"] == "document"
    ]
    placed = doc["payload"]["placements"]  # resolved at creation; signing used them as they were
    assert [(p["role"], p["box"]) for p in placed] == [
        ("signer", first["payload"]["box"]),
        ("institution", second["payload"]["box"]),
    ]
    # each signature is bound to the chain head just before it, and says so inside the signed bytes
    by_seq = {e["seq"]: e for e in signed["events"]}
    assert first["payload"]["chain_head"] == by_seq[first["seq"] - 1]["sha256"]
    assert second["payload"]["chain_head"] == first["sha256"]
    reasons = signature_reasons(signed["pdf"])
    assert first["payload"]["chain_head"] in reasons[f"Signer1_{signed['sid']}"]
    assert second["payload"]["chain_head"] in reasons[f"Institution1_{signed['sid']}"]
    report = verify(read_bundle(signed["bundle"]), signed["trust"])
    assert report.verdict is Status.PASSED, report.to_dict()
    assert "doc0-signed.pdf: 2 signature(s) intact and valid" in report.steps[8].reason


def _red(img: Image.Image) -> int:
    a = np.asarray(img).astype(int)
    return int(((a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 90)).sum())


def _ink(img: Image.Image) -> int:
    a = np.asarray(img).astype(int)
    return int(((a[..., 0] < 90) & (a[..., 1] < 90) & (a[..., 2] < 140)).sum())


def test_the_marks_appear_where_the_template_places_them(signed: dict[str, Any]) -> None:
    tmp: Path = signed["tmp"]
    (tmp / "signed.pdf").write_bytes(signed["pdf"])
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", "signed.pdf", "page"], cwd=tmp, check=True)
    page = Image.open(tmp / "page.png").convert("RGB")
    signer, institution = [e["payload"] for e in signed["events"] if e["kind"] == "document_signed"]

    def counts(box: list[float]) -> tuple[int, int]:
        x1, y1, x2, y2 = box  # PDF points from the bottom left; 72 dpi: one pixel per point
        crop = page.crop((int(x1), int(page.height - y2), int(x2), int(page.height - y1)))
        return _red(crop), _ink(crop)

    red, ink = counts(signer["box"])
    assert ink > 50, "the handwritten mark is not in the signer's box"
    assert red > 50, "the signer's name seal is not in the signer's box"
    red, _ = counts(institution["box"])
    assert red > 150, "the institution's seal is not in its box"
    outside = page.crop((0, 0, page.width, int(page.height - max(signer["box"][3], institution["box"][3]))))
    assert _red(outside) == 0  # nothing red anywhere above the signature boxes


def _nss(tmp: Path, root: bytes) -> Path:
    db = tmp / "nss"
    db.mkdir()
    (tmp / "root.pem").write_bytes(root)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-d",
            f"sql:{db}",
            "-n",
            "DualSign root",
            "-t",
            "CT,C,C",
            "-i",
            str(tmp / "root.pem"),
        ],
        check=True,
    )
    return db


def _pdfsig(db: Path, path: Path) -> str:
    return subprocess.run(["pdfsig", "-nssdir", str(db), str(path)], capture_output=True, text=True).stdout


def _overlay(pdf: bytes) -> bytes:
    """A red 'PAID' stamped on the page as an incremental update after all signatures."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    font = generic.DictionaryObject(
        {
            generic.NameObject("/Type"): generic.NameObject("/Font"),
            generic.NameObject("/Subtype"): generic.NameObject("/Type1"),
            generic.NameObject("/BaseFont"): generic.NameObject("/Helvetica-Bold"),
        }
    )
    fonts = generic.DictionaryObject({generic.NameObject("/FPaid"): writer.add_object(font)})
    resources = generic.DictionaryObject({generic.NameObject("/Font"): fonts})
    stamp = generic.StreamObject(stream_data=b"q 1 0 0 rg BT /FPaid 72 Tf 150 400 Td (PAID) Tj ET Q")
    writer.add_stream_to_page(0, writer.add_object(stamp), resources=resources)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdfsig_trusts_the_signatures_and_our_checks_catch_what_it_does_not(signed: dict[str, Any]) -> None:
    from cryptography import x509

    tmp: Path = signed["tmp"]
    db = _nss(tmp, signed["root"])
    good = tmp / "good.pdf"
    good.write_bytes(signed["pdf"])
    report = _pdfsig(db, good)
    assert report.count("Signature is Valid.") == 2, report
    assert report.count("Certificate is Trusted.") == 2, report
    root = x509.load_pem_x509_certificate(signed["root"])
    assert check_pdf("good", signed["pdf"], root).ok

    data = bytearray(signed["pdf"])
    at = data.index(b"signs after")  # the signer's /Reason: inside every signed range
    data[at] ^= 0x20
    flipped = check_pdf("flipped", bytes(data), root)
    assert not flipped.ok and "changed" in flipped.reason

    stamped = _overlay(signed["pdf"])
    (tmp / "stamped.pdf").write_bytes(stamped)
    # pdfsig alone still calls every signature valid: each one covers its own revision
    assert _pdfsig(db, tmp / "stamped.pdf").count("Signature is Valid.") == 2
    caught = check_pdf("stamped", stamped, root)
    assert not caught.ok and "changed after signing" in caught.reason, caught


def _sign_demo(tmp_path: Path, **env: str) -> tuple[bytes, Container]:
    """Sign the demo application through the API with the given settings; returns the signed PDF."""
    clock = FixedClock(datetime.now(UTC))
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, **env)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Life Insurance")
        publish(client, headers)
        created = create(client, headers, template="signing-check", signer_name="李四").json()
        signer = signer_headers(created)
        to_signing(client, clock, signer)
        assert client.post("/signer/v1/signature", headers=signer, json=STROKES).json()["state"] == "signed"
        events = client.get(f"/v1/sessions/{created['id']}/events", headers=headers).json()
        (done,) = [e for e in events if e["kind"] == "signature_applied"]
        pdf = c.blobs.get(done["payload"]["documents"][0])
    return pdf, c


def test_b_lta_embeds_validation_data_and_a_document_timestamp(tmp_path: Path) -> None:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    pdf, c = _sign_demo(tmp_path, DUALSIGN_SIGNATURE_LEVEL="B-LTA")
    assert c.pki is not None
    root = c.pki.root_cert
    trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = reader.root["/DSS"]
    assert len(dss["/CRLs"]) >= 2 and len(dss["/Certs"]) >= 3  # both CAs' CRLs; root, CA, TSA, signers
    stamps = reader.embedded_timestamp_signatures
    assert len(stamps) == 2  # one document timestamp after each signature
    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    status = validate_pdf_timestamp(stamps[-1], ValidationContext(trust_roots=[trust], allow_fetching=False))
    assert status.valid and status.trusted
    assert status.modification_level.name in ("NONE", "LTA_UPDATES")  # at most the TSA's own DSS entries
    assert check_pdf("lta", pdf, root).ok  # the signatures, with validation data appended after them


def test_rsa_platform_keys_sign_documents(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dualsign.cli.main import app

    env = {
        "DUALSIGN_DATA_DIR": str(tmp_path / "data"),
        "DUALSIGN_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789",
    }
    runner = CliRunner()
    first = runner.invoke(app, ["keys", "init", "--algorithm", "rsa"], env=env)
    assert first.exit_code == 0 and "created" in first.stdout and "(rsa)" in first.stdout, first.output
    again = runner.invoke(app, ["keys", "init", "--algorithm", "ec"], env=env)
    assert "already present" in again.stdout and "(rsa)" in again.stdout  # never replaced
    pdf, c = _sign_demo(tmp_path)
    assert c.pki is not None and c.pki.algorithm == "rsa"
    root = c.pki.root_cert
    c.close()
    assert check_pdf("rsa", pdf, root).ok
    from pyhanko.pdf_utils.reader import PdfFileReader

    (signer_sig, _) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signer_sig.signer_cert.public_key.algorithm == "rsa"


def test_a_document_page_is_a_picture_as_wide_as_the_screen_asks(tmp_path: Path) -> None:
    """Phones without a PDF viewer get each page as PNG at the width they ask for; a width, page or
    document out of range is refused with the field named."""
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock())
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Life Insurance")
        publish(client, headers)
        signer = signer_headers(create(client, headers, template="signing-check").json())
        client.post("/signer/v1/open", headers=signer)
        page = client.get("/signer/v1/documents/0/pages/1?width=600", headers=signer)
        assert page.status_code == 200 and page.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(page.content)).width == 600
        too_wide = client.get("/signer/v1/documents/0/pages/1?width=5000", headers=signer)
        assert too_wide.status_code == 422 and too_wide.json()["errors"][0]["field"] == "width"
        no_page = client.get("/signer/v1/documents/0/pages/2", headers=signer)
        assert no_page.status_code == 422 and no_page.json()["errors"][0]["field"] == "page"
        assert client.get("/signer/v1/documents/1/pages/1", headers=signer).status_code == 404
    c.close()


def test_a_template_field_that_cannot_be_placed_is_refused_at_creation(
    tmp_path: Path, container: Container
) -> None:
    yaml = (
        TEMPLATE.read_text()
        .replace("key: signing-check", "key: bad-anchor")
        .replace('anchor: "Insurer (seal):"', 'anchor: "Guarantor (seal):"')
    )
    with TestClient(create_app(container)) as client:
        headers = tenant_headers(container, "Careful Bank")
        r = client.post(
            "/v1/templates", headers={**headers, "Content-Type": "application/yaml"}, content=yaml
        )
        assert r.status_code == 201, r.text
        refused = create(client, headers, template="bad-anchor")
        assert refused.status_code == 422
        (problem,) = refused.json()["errors"]
        assert problem["field"] == "documents[0]"
        assert "'Guarantor (seal):' is not in the document" in problem["reason"]
        assert "institution" in problem["reason"]


def test_signers_in_order_each_sign_the_document_the_one_before_signed(tmp_path: Path) -> None:

    clock = FixedClock(datetime.now(UTC))
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    head = TEMPLATE.read_text().replace("key: signing-check", "key: co-signer").split("    fields:")[0]
    second_template = head + "    fields:\n      - role: signer\n        box: [72, 250, 160, 64]\n"
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Bank")
        publish(client, headers)
        r = client.post(
            "/v1/templates", headers={**headers, "Content-Type": "application/yaml"}, content=second_template
        )
        assert r.status_code == 201, r.text
        first = create(client, headers, template="signing-check", signer_name="Borrower One").json()
        to_signing(client, clock, signer_headers(first))
        client.post("/signer/v1/signature", headers=signer_headers(first), json=STROKES)
        form = {
            "template": "co-signer",
            "signer_name": "Borrower Two",
            "signer_id_number": "X1234567",
            "id_type": "other",
            "signer_phone": "13900000000",
            "continues_session": first["id"],
        }
        photo = [("identity_photo", ("id.jpg", PHOTO, "image/jpeg"))]
        extra = ("documents", ("x.pdf", PDF, "application/pdf"))
        mixed = client.post("/v1/sessions", headers=headers, data=form, files=[*photo, extra])
        assert mixed.status_code == 422 and mixed.json()["errors"][0]["field"] == "documents"
        second = client.post("/v1/sessions", headers=headers, data=form, files=photo)
        assert second.status_code == 201, second.text
        to_signing(client, clock, signer_headers(second.json()))
        done = client.post("/signer/v1/signature", headers=signer_headers(second.json()), json=STROKES)
        assert done.json()["state"] == "signed"
        events = client.get(f"/v1/sessions/{second.json()['id']}/events", headers=headers).json()
        (applied,) = [e for e in events if e["kind"] == "signature_applied"]
        pdf = c.blobs.get(applied["payload"]["documents"][0])
        bundle = client.get(f"/v1/sessions/{second.json()['id']}/bundle", headers=headers).content
        other = tenant_headers(c, "Someone Else")
        stranger = client.post("/v1/sessions", headers=other, data=form, files=photo)
        assert stranger.status_code == 422 and stranger.json()["errors"][0]["field"] == "continues_session"
    assert c.pki is not None
    root = c.pki.root_cert
    trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    from pyhanko.pdf_utils.reader import PdfFileReader

    names = [s.field_name for s in PdfFileReader(io.BytesIO(pdf)).embedded_signatures]
    assert [n.split("_")[0] for n in names] == ["Signer1", "Institution1", "Signer1"]
    assert names[0].endswith(first["id"]) and names[2].endswith(second.json()["id"])
    assert check_pdf("both", pdf, root).ok
    assert verify(read_bundle(bundle), trust).verdict is Status.PASSED
