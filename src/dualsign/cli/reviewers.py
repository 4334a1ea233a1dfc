"""``dualsign reviewer``: reviewers of the console (质检)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from dualsign.cli import shared

app = typer.Typer(help="Reviewers of the console (质检).", no_args_is_help=True)


@app.command("add")
def reviewer_add(
    username: str,
    role: Annotated[str, typer.Option(help="admin | reviewer | auditor")] = "reviewer",
    tenant: Annotated[str | None, typer.Option(help="tenant id; none: a platform reviewer")] = None,
    password_stdin: Annotated[bool, typer.Option(help="read the password from standard input")] = False,
) -> None:
    """Add a console reviewer (the password is asked for, or read from stdin)."""
    from dualsign.application.review.console import add_reviewer

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    with shared.errors(), shared.service() as c:
        r = add_reviewer(
            c.new_uow(),
            c.clock,
            c.ids.new_id,
            c.passwords,
            tenant_id=tenant,
            username=username,
            password=password,
            role=role,
        )
    shared.out.print_json(data={"id": r.id, "username": r.username, "role": r.role, "tenant_id": r.tenant_id})
