"""Helpers for API tests: a tenant with a key, and a valid session request."""

from __future__ import annotations

import json
from typing import Any

import yaml
from fastapi.testclient import TestClient

from dualsign.application.integrator.tenants import create_tenant
from dualsign.bootstrap.container import Container
from dualsign.demo import asset
from dualsign.domain.templates import parse_template
from dualsign.scenarios import builtin_sources

PHOTO = asset("identity-photo.jpg")
PDF = asset("policy-application.pdf")
VALID_ID = "11010519491231002X"  # the GB 11643 sample number: valid check character


def tenant_headers(c: Container, name: str) -> dict[str, str]:
    _, key = create_tenant(c.new_uow(), c.clock, c.ids, name)
    return {"Authorization": f"Bearer {key.secret}"}


def example_variables(template_key: str) -> str:
    """The variables of a built-in template as the API takes them (its examples), or "" for others."""
    for name, text in builtin_sources():
        if name == f"{template_key}.yaml":
            return json.dumps(parse_template(yaml.safe_load(text), name).example_values(), ensure_ascii=False)
    return ""


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
    if "variables" not in form:
        form["variables"] = example_variables(form["template"])
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
