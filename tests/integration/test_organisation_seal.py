"""Organisation e-seals through the API: registering an organisation (credit code checked, certificate
issued, seal drawn), a bidding session that names it and the signer's authority, the unit seal spot
signed with the organisation's certificate, and what the evidence says about it."""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from PIL import Image
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import platform_trust
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.review.console import add_reviewer
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import read_bundle
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import PHOTO, session_form, tenant_headers
from tests.integration.test_console import PASSWORD, sign_in
from tests.integration.test_signing import STROKES, signer_headers

TEMPLATE = Path(__file__).parent / "seal_template.yaml"
BIDDER = "北京示例建设工程有限公司"
CODE = "91350100M000100Y43"  # GB 32100's own example: a valid check character


def bid_letter() -> bytes:
    """A one-page bidding letter (投标函) with the two signature spots of the standard form."""
    pdfmetrics.registerFont(TTFont("WQY", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    c.setFont("WQY", 16)
    c.drawString(250, 780, "投标函")
    c.setFont("WQY", 11)
    c.drawString(60, 720, "致：示例招标人")
    c.drawString(60, 700, "我方已仔细研究了招标文件的全部内容，愿意按招标文件的要求承担本项目。")
    c.drawString(60, 260, f"投标人：{BIDDER}（盖单位章）")
    c.drawString(60, 160, "法定代表人或其委托代理人：")
    c.showPage()
    c.save()
    return buf.getvalue()


def register(client: TestClient, headers: dict[str, str], **body: str) -> Any:
    return client.post(
        "/v1/organisations", headers=headers, json={"name": BIDDER, "credit_code": CODE, **body}
    )


def create_bid(
    client: TestClient,
    headers: dict[str, str],
    pdf: bytes,
    files: list[tuple[str, Any]] | None = None,
    **form: str,
) -> Any:
    data = session_form(template="seal-check", signer_name="王五", **form)
    upload: list[tuple[str, Any]] = [
        ("identity_photo", ("id.jpg", PHOTO, "image/jpeg")),
        ("documents", ("bid.pdf", pdf, "application/pdf")),
        *(files or []),
    ]
    return client.post("/v1/sessions", headers=headers, data=data, files=upload)


def publish(client: TestClient, headers: dict[str, str]) -> None:
    r = client.post(
        "/v1/templates",
        headers={**headers, "Content-Type": "application/yaml"},
        content=TEMPLATE.read_bytes(),
    )
    assert r.status_code == 201, r.text


def sign(client: TestClient, clock: FixedClock, signer: dict[str, str]) -> None:
    client.post("/signer/v1/open", headers=signer)
    client.post("/signer/v1/consent", headers=signer, json={"agree": True})
    s = client.post("/signer/v1/answers", headers=signer, json={"text": "yes"}).json()
    assert s["state"] == "document_review", s
    client.post("/signer/v1/documents/0/viewed", headers=signer, json={"page": 1})
    clock.advance(6)
    assert client.post("/signer/v1/documents/reviewed", headers=signer).json()["state"] == "signing"
    r = client.post("/signer/v1/signature", headers=signer, json=STROKES)
    assert r.status_code == 200 and r.json()["state"] == "signed", r.text


def test_registering_an_organisation_checks_the_credit_code_and_issues_a_certificate(
    container: Container,
) -> None:
    with TestClient(create_app(container)) as client:
        headers = tenant_headers(container, "Example Bank")
        wrong = register(client, headers, credit_code=CODE[:-1] + "4")
        assert wrong.status_code == 422
        assert [e["field"] for e in wrong.json()["errors"]] == ["credit_code"]
        assert "check character" in wrong.json()["errors"][0]["reason"]
        short = register(
            client, headers, credit_code="9135010", name="X", seal_text="合同专用章之外的很长的章名"
        )
        assert {e["field"] for e in short.json()["errors"]} == {"credit_code", "name", "seal_text"}
        assert client.get("/v1/organisations", headers=headers).json() == []  # nothing stored
        assert client.post("/v1/organisations", json={"name": BIDDER, "credit_code": CODE}).status_code == 401

        r = register(client, headers, seal_text="投标专用章")
        assert r.status_code == 201, r.text
        org = r.json()
        assert org["credit_code"] == CODE and org["seal_text"] == "投标专用章"
        cert = x509.load_pem_x509_certificate(org["certificate_pem"].encode())
        subject = cert.subject
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == BIDDER
        assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == f"NTRCN-{CODE}"
        ca = x509.load_pem_x509_certificate(client.get("/pki/ca.pem").content)
        cert.verify_directly_issued_by(ca)
        assert format(cert.serial_number, "x") == org["certificate_serial"]
        assert (container.settings.data_dir / "pki" / "orgs" / f"{org['id']}.key").stat().st_mode & 0o077 == 0

        png = client.get(org["seal_url"], headers=headers)
        assert png.headers["content-type"] == "image/png"
        seal = np.asarray(Image.open(io.BytesIO(png.content)).convert("RGBA")).astype(int)
        red = (seal[..., 3] > 0) & (seal[..., 0] > 150) & (seal[..., 1] < 60)
        assert red.sum() > 0.05 * red.size  # a red round seal, not an empty picture
        assert (
            client.get(f"/v1/organisations/{org['id']}/certificate.pem", headers=headers).text
            == org["certificate_pem"]
        )

        again = register(client, headers)
        assert again.status_code == 409 and again.json()["organisation_id"] == org["id"]
        other = tenant_headers(container, "Other Bank")
        assert client.get(f"/v1/organisations/{org['id']}", headers=other).status_code == 404
        assert register(client, other).status_code == 201  # another tenant may register the same code


def test_a_session_must_name_the_organisation_and_the_signers_authority(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        headers = tenant_headers(container, "Example Bank")
        publish(client, headers)
        org = register(client, headers).json()
        pdf = bid_letter()

        def fields(r: Any) -> list[str]:
            assert r.status_code == 422, r.text
            return [e["field"] for e in r.json()["errors"]]

        assert fields(create_bid(client, headers, pdf)) == ["organisation"]
        assert fields(create_bid(client, headers, pdf, organisation="org_nope", seal_role="法定代表人")) == [
            "organisation"
        ]
        assert fields(create_bid(client, headers, pdf, organisation=org["id"])) == ["seal_role"]
        assert fields(create_bid(client, headers, pdf, organisation=org["id"], seal_role="授权代理人")) == [
            "authorisation_ref"
        ]
        other = tenant_headers(container, "Other Bank")
        publish(client, other)
        assert fields(create_bid(client, other, pdf, organisation=org["id"], seal_role="法定代表人")) == [
            "organisation"
        ]
        builtin = client.post(
            "/v1/sessions",
            headers=headers,
            data=session_form(template="bidding-documents-zh"),
            files=[
                ("identity_photo", ("id.jpg", PHOTO, "image/jpeg")),
                ("documents", ("b.pdf", pdf, "application/pdf")),
            ],
        )
        assert fields(builtin) == ["organisation"]
        # the bidding template states the capacity in a variable too (its example: 委托代理人)
        disagreeing = client.post(
            "/v1/sessions",
            headers=headers,
            data=session_form(
                template="bidding-documents-zh", organisation=org["id"], seal_role="法定代表人"
            ),
            files=[
                ("identity_photo", ("id.jpg", PHOTO, "image/jpeg")),
                ("documents", ("b.pdf", pdf, "application/pdf")),
            ],
        )
        assert fields(disagreeing) == ["seal_role"]
        assert "委托代理人" in disagreeing.json()["errors"][0]["reason"]
        assert client.get("/v1/sessions", headers=headers).json() == []  # nothing stored
        ok = create_bid(
            client,
            headers,
            pdf,
            files=[("authorisation_document", ("power.pdf", pdf, "application/pdf"))],
            organisation=org["id"],
            seal_role="authorised_agent",
        )
        assert ok.status_code == 201, ok.text
        roles = {a["role"] for a in ok.json()["artifacts"]}
        assert {"organisation_seal", "seal_authorisation"} <= roles


@pytest.fixture
def sealed_bid(tmp_path: Path) -> dict[str, Any]:
    clock = FixedClock(datetime.now(UTC))
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Example Bidding Platform")
        publish(client, headers)
        org = register(client, headers).json()
        created = create_bid(
            client,
            headers,
            bid_letter(),
            organisation=org["id"],
            seal_role="授权代理人",
            authorisation_ref="SQWT-2026-0042",
        ).json()
        sign(client, clock, signer_headers(created))
        sid = created["id"]
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
        bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        trust = platform_trust(c.evidence_keys, c.tsa)
    c.close()
    manifest = read_bundle(bundle).manifest
    (entry,) = [a for a in manifest["artifacts"] if a["role"] == "signed_document"]
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        pdf, report = z.read(f"artifacts/{entry['sha256']}"), z.read("report.pdf")
    return {"org": org, "events": events, "bundle": bundle, "pdf": pdf, "report": report, "trust": trust,
            "sid": sid, "tmp": tmp_path}  # fmt: skip


def test_the_unit_seal_is_signed_by_the_organisation_and_the_authority_is_recorded(
    sealed_bid: dict[str, Any],
) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    events, org, sid = sealed_bid["events"], sealed_bid["org"], sealed_bid["sid"]
    created = events[0]["payload"]["organisation"]
    assert created["id"] == org["id"] and created["credit_code"] == CODE
    assert (created["seal_role"], created["authorisation_ref"]) == ("authorised_agent", "SQWT-2026-0042")
    signed = [e["payload"] for e in events if e["kind"] == "document_signed"]
    assert [s["role"] for s in signed] == ["signer", "organisation"]
    assert "CN=王五" in signed[0]["certificate_subject"]
    assert signed[1]["certificate_serial"] == org["certificate_serial"]
    assert (signed[1]["organisation_id"], signed[1]["seal_role"]) == (org["id"], "authorised_agent")

    reader = PdfFileReader(io.BytesIO(sealed_bid["pdf"]), strict=False)
    by_field = {s.field_name: s for s in reader.embedded_signatures}
    seal_sig = by_field[f"Organisation1_{sid}"]
    subject = seal_sig.signer_cert.subject.native
    assert subject["organization_name"] == BIDDER
    assert subject["organization_identifier"] == f"NTRCN-{CODE}"
    root = Path(sealed_bid["tmp"] / "data" / "pki" / "root.pem").read_bytes()
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    _, _, der = pem.unarmor(root)
    status = validate_pdf_signature(
        seal_sig, ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)], allow_fetching=False)
    )
    assert status.intact and status.valid and status.trusted
    assert "applied by 王五, authorised agent" in str(seal_sig.sig_object["/Reason"])

    report = verify(read_bundle(sealed_bid["bundle"]), sealed_bid["trust"])
    assert report.verdict is Status.PASSED, report.to_dict()
    assert f"{BIDDER} (NTRCN-{CODE})" in report.steps[8].reason


def test_both_seals_are_in_their_boxes(sealed_bid: dict[str, Any]) -> None:
    tmp: Path = sealed_bid["tmp"]
    (tmp / "signed.pdf").write_bytes(sealed_bid["pdf"])
    subprocess.run(["pdftoppm", "-r", "72", "-png", "-singlefile", "signed.pdf", "page"], cwd=tmp, check=True)
    page = np.asarray(Image.open(tmp / "page.png").convert("RGB")).astype(int)
    signer, organisation = [e["payload"] for e in sealed_bid["events"] if e["kind"] == "document_signed"]

    def red(box: list[float]) -> int:
        x1, y1, x2, y2 = (int(v) for v in box)
        crop = page[page.shape[0] - y2 : page.shape[0] - y1, x1:x2]
        return int(((crop[..., 0] > 150) & (crop[..., 1] < 90) & (crop[..., 2] < 90)).sum())

    assert red(organisation["box"]) > 150, "the round unit seal is not at 盖单位章"
    assert red(signer["box"]) > 50, "the name seal is not in the signer's box"


def test_the_evidence_report_names_the_organisation_and_the_authority(sealed_bid: dict[str, Any]) -> None:
    tmp: Path = sealed_bid["tmp"]
    (tmp / "report.pdf").write_bytes(sealed_bid["report"])
    text = subprocess.run(["pdftotext", "report.pdf", "-"], cwd=tmp, capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    assert "Organisation seal applied" in flat
    assert BIDDER in flat and CODE in flat
    assert "the signer acts as authorised agent" in flat
    assert "SQWT-2026-0042" in flat
    assert sealed_bid["org"]["certificate_serial"] in flat.replace(" ", "")


def test_the_signer_page_and_the_console_show_whose_seal_and_by_what_authority(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c), client=("127.0.0.1", 50000)) as client:
        tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, "Example Bidding Platform")
        add_reviewer(c.new_uow(), c.clock, c.ids.new_id, c.passwords, tenant_id=tenant.id,
                     username="alice", password=PASSWORD, role="reviewer")  # fmt: skip
        headers = {"Authorization": f"Bearer {key.secret}"}
        publish(client, headers)
        org = register(client, headers).json()
        power = b"%PDF-1.4 authorisation\n%%EOF\n"
        created = create_bid(
            client,
            headers,
            bid_letter(),
            files=[("authorisation_document", ("power.pdf", power, "application/pdf"))],
            organisation=org["id"],
            seal_role="authorised_agent",
        ).json()
        signer = signer_headers(created)
        shown = client.post("/signer/v1/open", headers=signer).json()["organisation"]
        assert shown == {"name": BIDDER, "credit_code": CODE, "seal_role": "authorised_agent"}
        sign(client, clock, signer)
        sign_in(client, "alice")
        detail = client.get(f"/console/api/sessions/{created['id']}").json()["session"]["organisation"]
        assert (detail["name"], detail["seal_role"], detail["authorisation_ref"]) == (
            BIDDER,
            "authorised_agent",
            None,
        )
        base = f"/console/api/sessions/{created['id']}/artifacts"
        assert client.get(f"{base}/{detail['authorisation_sha256']}").content == power
        seal = client.get(f"{base}/{detail['seal_sha256']}")
        assert (
            seal.headers["content-type"] == "image/png"
            and seal.content == client.get(org["seal_url"], headers=headers).content
        )
    c.close()


def test_the_operator_registers_an_organisation_from_the_command_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from dualsign.cli.main import app

    runner, env = CliRunner(), {"DUALSIGN_DATA_DIR": str(tmp_path), "COLUMNS": "250"}
    tenant = json.loads(runner.invoke(app, ["tenant", "create", "Example Bank"], env=env).stdout)["tenant_id"]
    wrong = runner.invoke(app, ["tenant", "organisation", tenant, BIDDER, CODE[:-1] + "4"], env=env)
    assert wrong.exit_code != 0 and "credit_code" in wrong.stderr and "check character" in wrong.stderr
    made = runner.invoke(
        app, ["tenant", "organisation", tenant, BIDDER, CODE, "--seal-text", "合同专用章"], env=env
    )
    assert made.exit_code == 0, made.output
    org = json.loads(made.stdout)
    assert (
        f"2.5.4.97=NTRCN-{CODE}" in org["certificate_subject"]
        or f"NTRCN-{CODE}" in org["certificate_subject"]
    )
    listing = runner.invoke(app, ["tenant", "organisations", tenant], env=env)
    assert org["organisation_id"] in listing.stdout and CODE in listing.stdout
    nobody = runner.invoke(app, ["tenant", "organisation", "ten_nobody", BIDDER, CODE], env=env)
    assert nobody.exit_code != 0 and "ten_nobody" in nobody.stderr
