"""``dualsign tenant``: tenants, their API keys and their organisations (e-seals)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dualsign.application.integrator.organisations import (
    NewOrganisation,
    list_organisations,
    register_organisation,
)
from dualsign.application.integrator.tenants import create_tenant, get_tenant, issue_api_key
from dualsign.cli import shared
from dualsign.domain.errors import NotFound

app = typer.Typer(help="Tenants, their API keys and their organisations (e-seals).", no_args_is_help=True)


@app.command("create")
def tenant_create(name: str) -> None:
    """Create a tenant; prints its first API key once."""
    with shared.errors(), shared.service() as c:
        tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, name)
    shared.out.print_json(data={"tenant_id": tenant.id, "name": tenant.name, "api_key": key.secret})


@app.command("key")
def tenant_key(tenant_id: str, label: Annotated[str, typer.Option()] = "cli") -> None:
    """Issue another API key for a tenant; printed once."""
    with shared.errors(), shared.service() as c:
        key = issue_api_key(c.new_uow(), c.clock, tenant_id, label)
    shared.out.print_json(data={"tenant_id": tenant_id, "key_id": key.key_id, "api_key": key.secret})


@app.command("list")
def tenant_list() -> None:
    with shared.service() as c, c.new_uow() as u:
        rows = list(u.tenants.list())
    table = Table("id", "name", "created")
    for t in rows:
        table.add_row(t.id, t.name, t.created_at.isoformat(timespec="seconds"))
    shared.out.print(table)


@app.command("organisation")
def tenant_organisation(
    tenant_id: str,
    name: str,
    credit_code: Annotated[str, typer.Argument(help="统一社会信用代码 (18 characters, GB 32100)")],
    seal_text: Annotated[str | None, typer.Option(help="the seal's horizontal text, e.g. 合同专用章")] = None,
) -> None:
    """Register an organisation of a tenant: its certificate is issued and its round seal drawn."""
    with shared.errors(), shared.service() as c:
        if get_tenant(c.new_uow(), tenant_id) is None:
            raise NotFound("tenant", tenant_id)
        org = register_organisation(
            c.new_uow(),
            c.organisation_services,
            tenant_id,
            NewOrganisation(name, credit_code, seal_text),
            by="operator",
        )
    shared.out.print_json(
        data={
            "organisation_id": org.id,
            "name": org.name,
            "credit_code": org.credit_code,
            "certificate_subject": org.certificate_subject,
            "seal_sha256": org.seal_sha256,
        }
    )


@app.command("organisations")
def tenant_organisations(tenant_id: str) -> None:
    """A tenant's organisations."""
    with shared.service() as c:
        rows = list_organisations(c.new_uow(), tenant_id)
    table = Table("id", "name", "credit code", "seal text", "certificate serial", "revoked")
    for o in rows:
        revoked = f"{o.revoked_at:%Y-%m-%d %H:%M} ({o.revocation_reason})" if o.revoked_at else ""
        table.add_row(o.id, o.name, o.credit_code, o.seal_text or "", o.certificate_serial, revoked)
    shared.out.print(table)
