"""The demo tenant of the embedded run, and a fresh demo session to open in a browser."""

from __future__ import annotations

from dataclasses import dataclass

from dualsign.application.event_store import template_of
from dualsign.application.integrator.sessions import (
    CreatedSession,
    NewSession,
    SessionServices,
    Upload,
    create_session,
)
from dualsign.application.integrator.template_catalog import resolve_template
from dualsign.application.integrator.tenants import IssuedKey, create_tenant
from dualsign.application.ports import UnitOfWorkFactory
from dualsign.demo import asset

DEMO_TENANT = "demo"
DEMO_TEMPLATE = "insurance-epolicy-en"


@dataclass(frozen=True)
class Demo:
    tenant_id: str
    new_key: IssuedKey | None  # only when the tenant was created by this call
    session: CreatedSession


def ensure_demo(uow: UnitOfWorkFactory, svc: SessionServices) -> Demo:
    with uow() as u:
        tenant = next((t for t in u.tenants.list() if t.name == DEMO_TENANT), None)
    key = None
    if tenant is None:
        tenant, key = create_tenant(uow(), svc.clock, svc.ids, DEMO_TENANT)
    demo_template = template_of(resolve_template(uow(), tenant.id, DEMO_TEMPLATE, None))
    req = NewSession(
        template_key=DEMO_TEMPLATE,
        signer_name="Demo Signer",
        signer_id_number="X1234567",
        id_type="other",
        signer_phone="+86 138 0000 0000",
        identity_photo=Upload(
            "identity_photo", "identity-photo.jpg", "image/jpeg", asset("identity-photo.jpg")
        ),
        documents=[
            Upload("documents", "policy-application.pdf", "application/pdf", asset("policy-application.pdf"))
        ],
        summary="Demo: term life insurance application, annual premium 3,600.00",
        external_ref="demo",
        variables=demo_template.example_values(),  # the template's sample facts of the deal
    )
    session = create_session(uow(), svc, tenant.id, req)
    return Demo(tenant.id, key, session)
