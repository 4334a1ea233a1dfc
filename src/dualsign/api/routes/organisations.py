"""The calling tenant's organisations that seal documents: register, list, read, the seal picture and
the certificate."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep, TenantId
from dualsign.api.schemas import OrganisationIn, OrganisationOut
from dualsign.application.integrator.organisations import (
    NewOrganisation,
    get_organisation,
    list_organisations,
    register_organisation,
)

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])


@router.post("", status_code=status.HTTP_201_CREATED, name="create_organisation")
async def create(body: OrganisationIn, tenant: TenantId, c: ContainerDep) -> OrganisationOut:
    """Register an organisation: 422 naming the field when the name, the credit code (GB 32100 check
    character) or the seal text is wrong; 409 ``organisation_exists`` for a credit code already
    registered by this tenant. Issues its certificate and draws its round seal."""
    req = NewOrganisation(body.name, body.credit_code, body.seal_text)
    org = await run_in_threadpool(register_organisation, c.new_uow(), c.organisation_services, tenant, req)
    return OrganisationOut.of(org)


@router.get("", name="list_organisations")
def list_all(tenant: TenantId, c: ContainerDep) -> list[OrganisationOut]:
    return [OrganisationOut.of(o) for o in list_organisations(c.new_uow(), tenant)]


@router.get("/{org_id}", name="get_organisation")
def get_one(org_id: str, tenant: TenantId, c: ContainerDep) -> OrganisationOut:
    return OrganisationOut.of(get_organisation(c.new_uow(), tenant, org_id))


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
def certificate(org_id: str, tenant: TenantId, c: ContainerDep) -> Response:
    org = get_organisation(c.new_uow(), tenant, org_id)
    return Response(org.certificate_pem, media_type="application/x-pem-file")
