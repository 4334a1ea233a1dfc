"""``dualsign tenant``: tenants and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dualsign.application.integrator.tenants import create_tenant, issue_api_key
from dualsign.cli import shared

app = typer.Typer(help="Tenants and their API keys.", no_args_is_help=True)


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
