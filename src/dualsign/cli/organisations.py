"""``dualsign organisation``: an operator renews an organisation's certificate or revokes the
organisation, through the same use cases as ``POST /v1/organisations/{id}/certificate`` and
``POST /v1/organisations/{id}/revoke`` (logged on ``dualsign.audit``, by ``operator``). Registering and
listing stay under ``dualsign tenant organisation`` / ``organisations``."""

from __future__ import annotations

from typing import Annotated

import typer

from dualsign.application.integrator.organisations import (
    Revocation,
    certificate_status,
    find_organisation,
    renew_certificate,
    revoke_organisation,
)
from dualsign.application.records import Organisation
from dualsign.bootstrap.container import Container
from dualsign.cli import shared
from dualsign.domain.organisations import RevocationReason

app = typer.Typer(
    help="An organisation's certificate renewed, or the organisation revoked (final).", no_args_is_help=True
)
BY = "operator"
REASONS = ", ".join(r.value for r in RevocationReason)


def _shown(c: Container, org: Organisation) -> dict[str, object]:
    status = certificate_status(org, c.clock.now())
    return {
        "organisation_id": org.id,
        "tenant_id": org.tenant_id,
        "name": org.name,
        "credit_code": org.credit_code,
        "certificate_serial": org.certificate_serial,
        "certificates": [
            {"serial": x.serial, "status": status[x.serial].value, "not_after": x.not_after.isoformat()}
            for x in org.certificates
        ],
        "revoked_at": org.revoked_at.isoformat() if org.revoked_at else None,
        "revocation_reason": org.revocation_reason,
    }


@app.command("renew")
def organisation_renew(org_id: str) -> None:
    """Issue a new key and certificate for the organisation; new seals are made with it (the old one is
    kept, superseded: documents sealed with it still verify). Refused for a revoked organisation."""
    with shared.errors(), shared.service() as c:
        tenant = find_organisation(c.new_uow(), org_id).tenant_id
        org = renew_certificate(c.new_uow(), c.organisation_services, tenant, org_id, BY)
        shared.out.print_json(data=_shown(c, org))


@app.command("revoke")
def organisation_revoke(
    org_id: str,
    reason: Annotated[str, typer.Option(help=f"one of {REASONS}")],
    comment: Annotated[str | None, typer.Option(help="why, for the record (up to 500 characters)")] = None,
) -> None:
    """Revoke the organisation for good: its certificates still in their term go on the issuing CA's CRL
    with the time and reason, new sessions naming it are refused and an open session that would apply
    its seal fails at the signer's next step. Never renewed afterwards."""
    with shared.errors(), shared.service() as c:
        tenant = find_organisation(c.new_uow(), org_id).tenant_id
        org = revoke_organisation(
            c.new_uow(), c.organisation_services, tenant, org_id, Revocation(reason, comment), BY
        )
        shared.out.print_json(data=_shown(c, org))
