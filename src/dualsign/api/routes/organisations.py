"""The calling tenant's organisations that seal documents: register, list, read, the seal picture and
the certificates; renew the certificate, revoke the organisation (both logged on ``dualsign.audit``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import CallerKey, ContainerDep, TenantId
from dualsign.api.schemas import OrganisationIn, OrganisationOut, OrganisationRevokeIn
from dualsign.application.integrator.organisations import (
    NewOrganisation,
    Revocation,
    get_organisation,
    list_organisations,
    register_organisation,
    renew_certificate,
    revoke_organisation,
)
from dualsign.domain.errors import NotFound

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


def _by(key: CallerKey) -> str:
    return f"api_key:{key.id}"


@router.post("", status_code=status.HTTP_201_CREATED, name="create_organisation")
async def create(body: OrganisationIn, key: CallerKey, c: ContainerDep) -> OrganisationOut:
    """Register an organisation: 422 naming the field when the name, the credit code (GB 32100 check
    character) or the seal text is wrong; 409 ``organisation_exists`` for a credit code this tenant
    registered already (and has not revoked). Issues its certificate and draws its round seal."""
    req = NewOrganisation(body.name, body.credit_code, body.seal_text)
    org = await run_in_threadpool(
        register_organisation, c.new_uow(), c.organisation_services, key.tenant_id, req, _by(key)
    )
    return OrganisationOut.of(org, c.clock.now())


@router.get("", name="list_organisations")
def list_all(tenant: TenantId, c: ContainerDep) -> list[OrganisationOut]:
    now = c.clock.now()
    return [OrganisationOut.of(o, now) for o in list_organisations(c.new_uow(), tenant)]


@router.get("/{org_id}", name="get_organisation")
def get_one(org_id: str, tenant: TenantId, c: ContainerDep) -> OrganisationOut:
    """The organisation, its status (active, certificate_expired, revoked), its current certificate
    and every certificate it had."""
    return OrganisationOut.of(get_organisation(c.new_uow(), tenant, org_id), c.clock.now())


@router.post(
    "/{org_id}/certificate", status_code=status.HTTP_201_CREATED, name="renew_organisation_certificate"
)
async def renew(org_id: str, key: CallerKey, c: ContainerDep) -> OrganisationOut:
    """Issue a new key and certificate for the organisation; new seals are made with it. The old
    certificate is kept (superseded): documents sealed with it still verify. 409 ``organisation_revoked``
    for a revoked organisation; another tenant's id is 404."""
    org = await run_in_threadpool(
        renew_certificate, c.new_uow(), c.organisation_services, key.tenant_id, org_id, _by(key)
    )
    return OrganisationOut.of(org, c.clock.now())


@router.post("/{org_id}/revoke", name="revoke_organisation")
async def revoke(org_id: str, body: OrganisationRevokeIn, key: CallerKey, c: ContainerDep) -> OrganisationOut:
    """Revoke the organisation for good, with a reason (422 naming ``reason`` or ``comment``): its
    certificates still in their term go on the issuing CA's CRL (``/pki/ca.crl``) with the time and
    reason; new sessions naming it are refused (422 naming ``organisation``); an open session that
    would apply its seal fails at the signer's next step: opening the link, consent, an answer, the
    document review, at the latest the signing (``session.failed``, reason_code
    ``organisation_revoked``). Revoking it again, or renewing it, is 409 ``organisation_revoked``."""
    req = Revocation(body.reason, body.comment)
    org = await run_in_threadpool(
        revoke_organisation, c.new_uow(), c.organisation_services, key.tenant_id, org_id, req, _by(key)
    )
    return OrganisationOut.of(org, c.clock.now())


@router.get(
    "/{org_id}/seal.png",
    name="get_organisation_seal",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def seal(org_id: str, tenant: TenantId, c: ContainerDep) -> Response:
    org = get_organisation(c.new_uow(), tenant, org_id)
    return Response(c.blobs.get(org.seal_sha256), media_type="image/png")


@router.get(
    "/{org_id}/certificate.pem",
    name="get_organisation_certificate",
    response_class=Response,
    responses={200: {"content": {"application/x-pem-file": {}}}},
)
def certificate(
    org_id: str,
    tenant: TenantId,
    c: ContainerDep,
    serial: Annotated[
        str | None, Query(max_length=64, description="hex serial; default: the current one")
    ] = None,
) -> Response:
    org = get_organisation(c.new_uow(), tenant, org_id)
    if serial is None:
        return Response(org.certificate_pem, media_type="application/x-pem-file")
    found = next((x for x in org.certificates if x.serial == serial.lower()), None)
    if found is None:
        raise NotFound("certificate", serial)
    return Response(found.pem, media_type="application/x-pem-file")
