"""``dualsign template``: check, list and show scenario templates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dualsign.application.integrator.template_catalog import (
    list_templates,
    parse_template_yaml,
    resolve_template,
)
from dualsign.cli import shared
from dualsign.domain.errors import DualSignError

app = typer.Typer(help="Scenario templates.", no_args_is_help=True)


@app.command("validate")
def template_validate(files: list[Path]) -> None:
    """Check template files; problems name the file, the field path and the reason."""
    failed = False
    for f in files:
        try:
            t = parse_template_yaml(f.read_text(encoding="utf-8"), str(f))
        except DualSignError as exc:
            failed = True
            shared.err.print(exc.diagnostics(), markup=False, highlight=False)
        except OSError as exc:
            failed = True
            shared.err.print(f"{f}: cannot read: {exc.strerror}", markup=False)
        else:
            shared.out.print(
                f"{f}: ok  {t.key}  sha256:{t.content_hash()[:16]}  {len(t.questions)} questions",
                markup=False,
                highlight=False,
            )
    raise typer.Exit(1 if failed else 0)


@app.command("list")
def template_list() -> None:
    """Built-in templates (and every tenant's, by tenant)."""
    table = Table()
    table.add_column("key", no_wrap=True)  # keys are what people copy: never wrapped or cut
    for name in ("version", "language", "title", "hash"):
        table.add_column(name)
    with shared.service() as c:
        versions = list_templates(c.new_uow(), None)
    for v in versions:
        table.add_row(
            v.key, str(v.number), str(v.document["language"]), str(v.document["title"]), v.content_hash[:12]
        )
    shared.out.print(table)


@app.command("show")
def template_show(key: str, version: Annotated[str | None, typer.Option()] = None) -> None:
    """Print a built-in template version as YAML."""
    with shared.errors(), shared.service() as c:
        v = resolve_template(c.new_uow(), "-", key, version)
    shared.out.print(f"# {v.key} version {v.number} sha256:{v.content_hash}", markup=False, highlight=False)
    sys.stdout.write(v.source)
