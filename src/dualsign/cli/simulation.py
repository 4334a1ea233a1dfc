"""``dualsign simulate``: a whole session in the terminal, typed, scripted or spoken."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from dualsign.application.integrator.template_catalog import (
    parse_template_yaml,
)
from dualsign.application.signer.simulation import AnswerInput, spoken_answer
from dualsign.application.signer.simulation import simulate as run_simulation
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import speech_from
from dualsign.bootstrap.system import SystemClock
from dualsign.cli import shared
from dualsign.domain.event_payloads import PromptAudioItem
from dualsign.domain.session import Event, Prompt
from dualsign.domain.states import EventKind
from dualsign.domain.templates import Template
from dualsign.scenarios import builtin_sources


def _load_template(ref: str) -> Template:
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return parse_template_yaml(path.read_text(encoding="utf-8"), str(path))
    for name, text in builtin_sources():
        if name.removesuffix(".yaml") == ref:
            return parse_template_yaml(text, f"scenarios/{name}")
    keys = ", ".join(n.removesuffix(".yaml") for n, _ in builtin_sources())
    raise typer.BadParameter(f"{ref!r} is neither a template file nor a built-in key ({keys})")


_VERDICT_STYLE = {"ACCEPT": "green", "REJECT": "red", "UNCLEAR": "yellow", "NO_SPEECH": "yellow"}


def simulate(
    template: Annotated[str, typer.Option(help="built-in key (e.g. insurance-epolicy-zh) or a YAML file")],
    answers: Annotated[
        str | None,
        typer.Option(
            help="scripted answers, in order, separated by --sep; "
            "an empty item is silence. Without it (and without --audio), answers are typed."
        ),
    ] = None,
    audio: Annotated[
        str | None,
        typer.Option(
            help="spoken answers: WAV (or any audio) files in order, separated by --sep, or a folder "
            "(files in name order); each goes through the real VAD and speech recogniser"
        ),
    ] = None,
    sep: Annotated[str, typer.Option(help="separator of --answers and --audio")] = ",",
    prompts_out: Annotated[
        Path | None, typer.Option("--prompts-out", help="write each prompt's synthesized audio here")
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(help="a template variable as NAME=VALUE (repeat); others take the template's examples"),
    ] = None,
) -> None:
    """Run a whole session in the terminal: each prompt, verdict and re-ask, then the timeline."""
    with shared.errors():
        tpl = _load_template(template)
    values: dict[str, object] = dict(tpl.example_values())
    for item in var or []:
        name, eq, value = item.partition("=")
        if not eq:
            raise typer.BadParameter(f"--var {item!r}: give NAME=VALUE")
        values[name.strip()] = value
    if answers is not None and audio is not None:
        raise typer.BadParameter("give --answers or --audio, not both")
    script: list[str] | None = answers.split(sep) if answers is not None else None
    files = _audio_files(audio, sep) if audio is not None else None
    position = 0
    settings = load_settings() if files is not None or prompts_out else None
    engines = speech_from(settings) if settings else None
    executor = ThreadPoolExecutor(max_workers=2)

    def answer_for(prompt: Prompt) -> AnswerInput:
        nonlocal position
        if script is None and files is None:
            typed = typer.prompt("  answer", default="", show_default=False)
            return AnswerInput(typed or None, {"input": "typed"})
        pool: list[Any] = script if script is not None else files or []
        if position >= len(pool):
            raise typer.Exit(_ran_out(prompt))
        item = pool[position]
        position += 1
        if script is not None:
            given = str(item).strip()
            who = prompt.speaker  # the agent answers their introduction
            shared.out.print(f"  [dim]{who}:[/dim] {given or '(silence)'}", highlight=False)
            return AnswerInput(given or None, {"input": "scripted"})
        assert engines is not None  # noqa: S101 (set whenever files are)
        spoken = spoken_answer(Path(item).read_bytes(), tpl, prompt, engines.vad, engines.asr, executor)
        heard = spoken.transcript if spoken.transcript is not None else "(no speech)"
        shared.out.print(f"  [dim]signer ({Path(item).name}):[/dim] heard “{heard}”", highlight=False)
        return spoken

    render = None
    if prompts_out is not None and engines is not None:
        prompts_out.mkdir(parents=True, exist_ok=True)
        tts = engines.tts

        def render(prompt: Prompt) -> list[PromptAudioItem]:
            text = f"{prompt.reminder} {prompt.question_text}" if prompt.reminder else prompt.question_text
            spoken = tts.synthesize(text, tpl.language.value, rate=tpl.speech.speech_rate)
            name = prompts_out / f"{prompt.question_id}-{prompt.attempt}.wav"
            name.write_bytes(spoken.wav)
            return [
                {
                    "role": "question",
                    "engine": spoken.engine,
                    "voice": spoken.voice,
                    "duration_s": spoken.duration_s,
                    "file": str(name),
                }
            ]

    shared.out.rule(f"{tpl.title} · {tpl.key} · sha256:{tpl.content_hash()[:12]}")
    with shared.errors():
        result = run_simulation(tpl, SystemClock(), answer_for, _show_event, render=render, variables=values)
    executor.shutdown(wait=False)
    shared.out.rule("timeline")
    table = Table("#", "time", "event", "detail")
    for i, e in enumerate(result.session.events, 1):
        table.add_row(str(i), e.at.strftime("%H:%M:%S.%f")[:-3], e.kind.value, _detail(e))
    shared.out.print(table)
    state = result.session.state.value if result.session.state else "?"
    if result.completed_questions:
        shared.out.print(
            f"[green]questions complete[/green] → {state}: document review and signature follow "
            "on the signer page"
        )
    else:
        shared.out.print(f"[red]session {state}[/red]")
    raise typer.Exit(0 if result.completed_questions else 1)


def _audio_files(spec: str, sep: str) -> list[Path]:
    folder = Path(spec)
    if folder.is_dir():
        found = sorted(
            p for p in folder.iterdir() if p.suffix.lower() in (".wav", ".ogg", ".webm", ".mp3", ".m4a")
        )
    else:
        found = [Path(p.strip()) for p in spec.split(sep) if p.strip()]
    missing = [str(p) for p in found if not p.is_file()]
    if missing:
        raise typer.BadParameter(f"not a file: {', '.join(missing)}", param_hint="--audio")
    return found


def _ran_out(prompt: Prompt) -> int:
    shared.err.print(
        f"the scripted answers ran out at question {prompt.question_id} (attempt {prompt.attempt})"
    )
    return 3


def _show_event(e: Event) -> None:
    p = e.payload
    if e.kind is EventKind.QUESTION_ASKED:
        tag = f"{p['question_id']} · attempt {p['attempt']}"
        shared.out.print(f"\n[bold cyan]{tag}[/bold cyan]")
        if p.get("reminder"):
            shared.out.print(f"  [magenta]reminder:[/magenta] {p['reminder']}", highlight=False)
        question = str(p["text"]).removeprefix(str(p.get("reminder") or "")).strip()
        shared.out.print(f"  [bold]prompt:[/bold] {question}", highlight=False)
    elif e.kind is EventKind.ANSWER_JUDGED:
        verdict = str(p["verdict"])
        expl = p.get("explanation") or {}
        style = _VERDICT_STYLE.get(verdict, "white")
        shared.out.print(
            f"  [{style}]{verdict}[/{style}] rule={expl.get('rule')} {expl.get('detail', '')}",
            highlight=False,
        )
    elif e.kind in (EventKind.QUESTION_FAILED, EventKind.QUESTION_FLAGGED):
        shared.out.print(f"  [red]{e.kind.value}[/red]: {p.get('reason')}", highlight=False)
    elif e.kind in (EventKind.IDENTITY_WAIVED, EventKind.LIVENESS_WAIVED):
        shared.out.print(f"[dim]{e.kind.value}: {p.get('reason')}[/dim]", highlight=False)


def _detail(e: Event) -> str:
    p = e.payload
    if e.kind is EventKind.ANSWER_JUDGED:
        return f"{p['question_id']}#{p['attempt']} “{p.get('transcript') or ''}” → {p['verdict']}"
    if "question_id" in p:
        return f"{p['question_id']}" + (f"#{p['attempt']}" if "attempt" in p else "")
    if "reason" in p:
        return str(p["reason"])
    return ""
