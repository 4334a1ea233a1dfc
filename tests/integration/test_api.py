"""The integrator API end to end, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from dualsign.reports.pdf_reports import PdfReportMaker
from dualsign.signing.pades import SignatureSpec
from dualsign_verify.records import GENESIS, make_record, record_digests
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import (
    PDF,
    create,
    example_variables,
    session_files,
    session_form,
    tenant_headers,
)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as c:
        yield c


@pytest.fixture
def alice(container: Container) -> dict[str, str]:
    return tenant_headers(container, "Alice Insurance")


@pytest.fixture
def bob(container: Container) -> dict[str, str]:
    return tenant_headers(container, "Bob Bank")


def blob_files(container: Container) -> list[Path]:
    return [p for p in (container.settings.blob_dir / "sha256").rglob("*") if p.is_file()]


def test_requests_without_a_valid_key_are_refused(client: TestClient) -> None:
    r = client.get("/v1/templates")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/templates", headers={"Authorization": "Bearer dsk_nope"}).status_code == 401


def test_builtin_templates_are_listed_and_readable(client: TestClient, alice: dict[str, str]) -> None:
    keys = {t["key"]: t for t in client.get("/v1/templates", headers=alice).json()}
    assert {"insurance-epolicy-zh", "bank-loan-zh", "insurance-epolicy-en", "bidding-documents-zh"} <= set(
        keys
    )
    assert all(t["builtin"] for t in keys.values())
    detail = client.get("/v1/templates/insurance-epolicy-zh", headers=alice).json()
    assert detail["document"]["questions"][0]["id"] == "q1"
    assert detail["content_hash"] == keys["insurance-epolicy-zh"]["content_hash"]


def test_create_session_returns_a_signer_link_and_records_the_start(
    client: TestClient, alice: dict[str, str], container: Container
) -> None:
    r = create(client, alice)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "created"
    assert body["signer_url"].startswith(container.settings.public_url + "/s/")
    assert body["signer_id_masked"] == "1101**********002X"
    assert body["template_key"] == "insurance-epolicy-zh"
    assert body["template_version"] == 1
    roles = sorted(a["role"] for a in body["artifacts"])
    assert roles == ["document", "identity_photo"]
    events = client.get(f"/v1/sessions/{body['id']}/events", headers=alice).json()
    assert [e["kind"] for e in events] == ["session_created", "artifact_stored", "artifact_stored"]
    assert "11010519491231002X" not in r.text + str(events)  # the ID number itself is never echoed


def test_event_log_is_a_hash_chain(client: TestClient, alice: dict[str, str]) -> None:
    sid = create(client, alice).json()["id"]
    client.post(f"/v1/sessions/{sid}/cancel", headers=alice, json={"reason": "customer rescheduled"})
    events = client.get(f"/v1/sessions/{sid}/events", headers=alice).json()
    prev = GENESIS
    for e in events:
        record = make_record(kind=e["kind"], seq=e["seq"], time=e["time"], payload=e["payload"], prev=prev)
        assert e["prev"] == prev
        d = record_digests(record)
        assert (e["sha256"], e["sm3"]) == (d.sha256, d.sm3)
        prev = e["sha256"]
    assert [e["kind"] for e in events[-3:]] == ["session_cancelled", "qc_evaluated", "evidence_sealed"]


def test_tenants_cannot_see_or_touch_each_others_sessions(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    sid = create(client, alice).json()["id"]
    paths = client.get("/openapi.json").json()["paths"]
    routes = [  # every operation on one session the API declares: none may answer another tenant
        (method.upper(), path.replace("{session_id}", sid))
        for path, operations in paths.items()
        if "{session_id}" in path and path.startswith("/v1/")
        for method in operations
    ]
    assert len(routes) >= 10, routes
    for method, path in routes:
        body = {"reason": "not yours"} if method == "POST" else None
        r = client.request(method, path, headers=bob, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["code"] == "not_found"
    assert client.get("/v1/sessions", headers=bob).json() == []
    assert client.get(f"/v1/sessions/{sid}", headers=alice).json()["status"] == "created"


def test_tenant_templates_are_private_and_versioned(
    client: TestClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    text = Path("src/dualsign/scenarios/bank-loan-en.yaml").read_text(encoding="utf-8")
    own = text.replace("key: bank-loan-en", "key: alice-loan")
    h = {**alice, "Content-Type": "application/yaml"}
    first = client.post("/v1/templates", headers=h, content=own.encode())
    assert first.status_code == 201, first.text
    assert first.json()["number"] == 1
    again = client.post("/v1/templates", headers=h, content=own.encode())
    assert again.status_code == 200
    assert again.json()["content_hash"] == first.json()["content_hash"]
    edited = own.replace("\ntitle: ", "\ntitle: (v2) ", 1)
    assert edited != own
    second = client.post("/v1/templates", headers=h, content=edited.encode())
    assert second.json()["number"] == 2
    assert second.json()["content_hash"] != first.json()["content_hash"]
    # a session pins the version it was created with
    facts = example_variables("bank-loan-en")
    sid = create(client, alice, template="alice-loan", template_version="1", variables=facts).json()["id"]
    assert (
        client.get(f"/v1/sessions/{sid}", headers=alice).json()["template_hash"]
        == first.json()["content_hash"]
    )
    assert client.get("/v1/templates/alice-loan", headers=bob).status_code == 404
    assert create(client, bob, template="alice-loan", variables=facts).status_code == 404
    # built-in keys belong to the product
    clash = client.post("/v1/templates", headers=h, content=text.encode())
    assert clash.status_code == 409


def test_malformed_template_names_the_field(client: TestClient, alice: dict[str, str]) -> None:
    text = Path("src/dualsign/scenarios/bank-loan-en.yaml").read_text(encoding="utf-8")
    broken = text.replace("key: bank-loan-en", "key: mine").replace("max_attempts: 3", "max_attempts: 0", 1)
    h = {**alice, "Content-Type": "application/yaml"}
    v = client.post("/v1/templates/validate", headers=h, content=broken.encode()).json()
    assert v["valid"] is False
    assert any(e["field"].endswith(".max_attempts") for e in v["errors"]), v
    r = client.post("/v1/templates", headers=h, content=broken.encode())
    assert r.status_code == 422
    assert any(e["field"].endswith("max_attempts") for e in r.json()["errors"])
    bad_yaml = client.post("/v1/templates/validate", headers=h, content=b"key: [unclosed").json()
    assert bad_yaml["valid"] is False
    assert "line" in bad_yaml["errors"][0]["field"]
    wrong_type = client.post("/v1/templates", headers={**alice, "Content-Type": "image/png"}, content=b"x")
    assert wrong_type.status_code == 415


@pytest.mark.parametrize(
    ("limit", "documents", "field"),
    [
        ({"DUALSIGN_MAX_BODY_BYTES": "200000"}, (PDF + b"%" * 300_000 + b"\n%%EOF\n",), None),  # whole body
        ({"DUALSIGN_MAX_DOCUMENT_BYTES": "50000"}, (PDF, PDF + b"%" * 60_000 + b"\n%%EOF\n"), "documents[1]"),
    ],
    ids=["body", "one-document"],
)
def test_oversize_upload_gets_413_and_nothing_is_stored(
    tmp_path: Path,
    database_url: str,
    clock: FixedClock,
    limit: dict[str, str],
    documents: tuple[bytes, ...],
    field: str | None,
) -> None:
    c = make_container(tmp_path, database_url, clock, **limit)
    try:
        with TestClient(create_app(c)) as client:
            headers = tenant_headers(c, "Alice")
            r = client.post(
                "/v1/sessions", headers=headers, data=session_form(), files=session_files(pdfs=documents)
            )
            assert r.status_code == 413
            assert r.json()["code"] == "payload_too_large"
            if field:
                assert r.json()["field"] == field
            assert client.get("/v1/sessions", headers=headers).json() == []
            assert blob_files(c) == []
    finally:
        c.close()


@pytest.mark.parametrize(
    ("form", "files", "status", "field"),
    [
        ({"signer_id_number": "110105194912310021"}, {}, 422, "signer_id_number"),
        ({"signer_phone": "call me"}, {}, 422, "signer_phone"),
        ({"callback_url": "ftp://example.org/x"}, {}, 422, "callback_url"),
        ({"callback_url": "http://169.254.169.254/latest/meta-data"}, {}, 422, "callback_url"),
        ({"callback_url": "http://localhost:5432/"}, {}, 422, "callback_url"),
        ({"callback_url": "https://user:pw@bank.example/hook"}, {}, 422, "callback_url"),
        ({"expires_in": "5"}, {}, 422, "expires_in"),
        ({}, {"photo_type": "image/gif"}, 415, "identity_photo"),
        ({}, {"pdf_type": "text/plain"}, 415, "documents[0]"),
        ({}, {"photo": b"GIF89a not a jpeg"}, 422, "identity_photo"),
        ({}, {"pdfs": (b"hello, not a pdf",)}, 422, "documents[0]"),
        ({}, {"pdfs": (PDF[:-200],)}, 422, "documents[0]"),
    ],
)
def test_bad_session_input_names_the_field_and_stores_nothing(
    client: TestClient,
    alice: dict[str, str],
    container: Container,
    form: dict[str, str],
    files: dict[str, object],
    status: int,
    field: str,
) -> None:
    r = client.post("/v1/sessions", headers=alice, data=session_form(**form), files=session_files(**files))  # type: ignore[arg-type]
    assert r.status_code == status, r.text
    problem = r.json()
    fields = [e["field"] for e in problem.get("errors", [])] + [problem.get("field")]
    assert field in fields, problem
    assert client.get("/v1/sessions", headers=alice).json() == []
    assert blob_files(container) == []


def test_missing_form_field_is_named(client: TestClient, alice: dict[str, str]) -> None:
    form = session_form()
    del form["signer_name"]
    r = client.post("/v1/sessions", headers=alice, data=form, files=session_files())
    assert r.status_code == 422
    assert "signer_name" in [e["field"] for e in r.json()["errors"]]


def test_unknown_template_is_404(client: TestClient, alice: dict[str, str]) -> None:
    r = create(client, alice, template="no-such-template")
    assert r.status_code == 404
    assert r.json()["resource"] == "template"


def test_api_keys_are_shown_once_hashed_at_rest_and_revocable(
    client: TestClient, alice: dict[str, str], container: Container
) -> None:
    issued = client.post("/v1/api-keys", headers=alice, json={"label": "batch jobs"}).json()
    new = {"Authorization": f"Bearer {issued['key']}"}
    assert client.get("/v1/templates", headers=new).status_code == 200
    listed = client.get("/v1/api-keys", headers=alice).json()
    assert all("key" not in k for k in listed)
    assert len(listed) == 2
    with container.new_uow() as u:
        stored = u.api_keys.get(issued["id"])
    assert stored is not None
    secret = issued["key"].split("_", 2)[2]  # dsk_<id>_<secret>; the secret itself may hold "_"
    assert secret not in stored.secret_hash and len(stored.secret_hash) == 64
    assert client.delete(f"/v1/api-keys/{issued['id']}", headers=alice).status_code == 204
    assert client.get("/v1/templates", headers=new).status_code == 401


def test_openapi_has_stable_operation_ids(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    ops = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "create_session",
        "get_session",
        "list_session_events",
        "cancel_session",
        "list_templates",
        "publish_template",
        "validate_template",
        "create_api_key",
        "revoke_api_key",
    } <= ops
    assert client.get("/docs").status_code == 200


def _encrypted_pdf() -> bytes:
    import io

    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, encrypt="secret")
    c.drawString(72, 720, "encrypted contract")
    c.showPage()
    c.save()
    return buf.getvalue()


def _signed_pdf(container: Container) -> bytes:
    from dualsign.signing.authority import IssuingAuthority

    assert container.pki is not None
    issued = IssuingAuthority(container.pki, "http://x").event_certificate(
        "A", "0" * 32, "ses_x", container.clock.now()
    )
    reports = container.reports
    assert isinstance(reports, PdfReportMaker)
    return reports.pades.sign(PDF, issued, SignatureSpec("Earlier", None, None, "already signed"))


def test_encrypted_corrupt_and_already_signed_pdfs_are_refused_at_creation(
    client: TestClient, alice: dict[str, str], container: Container
) -> None:
    corrupt = PDF[: len(PDF) // 3] + b"\n%%EOF\n"
    cases = {
        "encrypted": _encrypted_pdf(),
        "already signed": _signed_pdf(container),
        "cannot be read as a PDF": corrupt,
    }
    for expected, document in cases.items():
        r = client.post(
            "/v1/sessions", headers=alice, data=session_form(), files=session_files(pdfs=(document,))
        )
        assert r.status_code == 422, (expected, r.text)
        error = r.json()["errors"][0]
        assert error["field"] == "documents[0]" and expected in error["reason"], error
    assert client.get("/v1/sessions", headers=alice).json() == []
    assert blob_files(container) == []


def test_a_session_keeps_the_signers_time_zone_for_its_report(
    client: TestClient, alice: dict[str, str]
) -> None:
    bad = create(client, alice, time_zone="Mars/Olympus_Mons")
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["time_zone"]
    for given, kept in (("Europe/Berlin", "Europe/Berlin"), ("", "Asia/Shanghai")):
        sid = create(client, alice, time_zone=given).json()["id"]
        events = client.get(f"/v1/sessions/{sid}/events", headers=alice).json()
        assert events[0]["kind"] == "session_created" and events[0]["payload"]["time_zone"] == kept
