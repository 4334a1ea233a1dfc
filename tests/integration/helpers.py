"""Helpers for API tests: a tenant with a key, and a valid session request."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from dualsign.application.tenants import create_tenant
from dualsign.container import Container
from dualsign.demo import asset

PHOTO = asset("identity-photo.jpg")
PDF = asset("policy-application.pdf")
VALID_ID = "11010519491231002X"  # the GB 11643 sample number: valid check character


def tenant_headers(c: Container, name: str) -> dict[str, str]:
    _, key = create_tenant(c.new_uow(), c.clock, c.ids, name)
    return {"Authorization": f"Bearer {key.secret}"}


def session_form(**overrides: str) -> dict[str, str]:
    form = {
        "template": "insurance-epolicy-zh",
        "signer_name": "张三",
        "signer_id_number": VALID_ID,
        "signer_phone": "13800000000",
        "summary": "终身寿险投保，年交保费 3600 元",
        "external_ref": "POL-2026-0001",
    }
    form.update(overrides)
    return form


def session_files(
    photo: bytes = PHOTO,
    pdfs: tuple[bytes, ...] = (PDF,),
    photo_type: str = "image/jpeg",
    pdf_type: str = "application/pdf",
) -> list[tuple[str, Any]]:
    files: list[tuple[str, Any]] = [("identity_photo", ("id.jpg", photo, photo_type))]
    files += [("documents", (f"doc{i}.pdf", data, pdf_type)) for i, data in enumerate(pdfs)]
    return files


def create(client: TestClient, headers: dict[str, str], **overrides: str) -> Any:
    return client.post("/v1/sessions", headers=headers, data=session_form(**overrides), files=session_files())
