"""``dualsign match``: judge an answer (a transcript, or recorded audio through the real engines)."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Annotated, Literal

import typer
from pydantic import ValidationError

from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import speech_from
from dualsign.cli import shared
from dualsign.domain.matching import match as match_answer
from dualsign.domain.normalization import HAN, LanguageFamily
from dualsign.domain.templates import Expects, Question, QuestionCategory, answers


def _family(*texts: str) -> str:
    return "zh" if any(HAN.search(t) for t in texts) else "en"


def match(
    answer: Annotated[str | None, typer.Argument(help="the transcript to judge (or give --audio)")] = None,
    expected: Annotated[
        str, typer.Option(help="acceptable answers separated by | (extend the --expects vocabulary)")
    ] = "",
    expects: Annotated[
        str | None,
        typer.Option(
            help="affirm, deny or phrase: the polarity the question expects; affirm and deny bring their "
            "natural vocabulary (对/好的/了解… or 没有/没人/没…). Without it, only --expected counts"
        ),
    ] = None,
    rejections: Annotated[str, typer.Option(help="explicit rejections separated by |")] = "",
    lang: Annotated[str, typer.Option(help="zh, en or auto")] = "auto",
    audio: Annotated[
        list[Path] | None,
        typer.Option(help="a recorded answer (WAV, or any audio PyAV reads); repeat for several files"),
    ] = None,
) -> None:
    """Judge an answer: prints the verdict and its explanation as JSON.

    ``dualsign match --expects deny --lang zh 没人`` judges as a template question that expects "no"
    would. With --audio, each file goes through the service's own VAD, end of answer, recognition and
    scoring (the engines load once) and one JSON object is printed per file, in order.
    """
    acceptable = [p for p in expected.split("|") if p.strip()]
    rejected = [p for p in rejections.split("|") if p.strip()]
    if (answer is None) == (not audio):
        shared.err.print("give either a transcript or --audio FILE (not both)")
        raise typer.Exit(2)
    family = _family(answer or "", expected) if lang == "auto" else lang
    if family not in ("zh", "en"):
        shared.err.print("--lang must be zh, en or auto")
        raise typer.Exit(2)
    fam: LanguageFamily = "zh" if family == "zh" else "en"
    polarity: Literal["affirm", "deny", "phrase"] | None = None
    if expects is not None:
        if expects not in ("affirm", "deny", "phrase"):
            shared.err.print("--expects must be affirm, deny or phrase")
            raise typer.Exit(2)
        polarity = "affirm" if expects == "affirm" else "deny" if expects == "deny" else "phrase"
        try:
            q = Question(
                id="cli",
                category=QuestionCategory.OTHER,
                prompt="-",
                expects=Expects(polarity),
                acceptable=tuple(acceptable),
                rejections=tuple(rejected),
            )
        except ValidationError as exc:
            shared.err.print("; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()))
            raise typer.Exit(2) from None
        acceptable, rejected = (list(x) for x in answers(q, fam))
    elif not acceptable:
        shared.err.print("give --expected ANSWERS, or --expects affirm|deny for the natural vocabulary")
        raise typer.Exit(2)
    if answer is not None:
        result = match_answer(answer, acceptable, rejected, fam)
        out_line = {"answer": answer, "expects": polarity, **result.to_dict()}
        sys.stdout.write(json.dumps(out_line, ensure_ascii=False) + "\n")
        return
    _match_audio(audio or [], acceptable, rejected, fam, polarity)


def _match_audio(
    files: list[Path],
    acceptable: list[str],
    rejected: list[str],
    family: LanguageFamily,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
) -> None:
    from dualsign.application.perception.speech import judge_recording
    from dualsign.media.audio import AudioDecodeError, decode

    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        shared.err.print(f"--audio: no such file: {', '.join(missing)}")
        raise typer.Exit(2)
    engines = speech_from(load_settings())
    for name, engine in (("VAD", engines.vad), ("ASR", engines.asr)):
        status = engine.is_available()
        if not status.ok:
            shared.err.print(f"{name} {engine.name} cannot run: {status.reason}")
            raise typer.Exit(1)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="match") as pool:
        for f in files:
            try:
                samples = decode(f.read_bytes())
            except AudioDecodeError as exc:
                failed = {"file": str(f), "verdict": None, "error": f"cannot decode: {exc.reason}"}
                sys.stdout.write(json.dumps(failed, ensure_ascii=False) + "\n")
                continue
            judged = judge_recording(
                samples, acceptable, rejected, family, engines.vad, engines.asr, pool, expects=expects
            )
            c = judged.captured
            t = c.transcript
            line: dict[str, object] = {
                "file": str(f),
                "verdict": judged.verdict,
                "transcript": t.text if t else None,
                "explanation": judged.explanation,
                "speech_start_ms": c.speech_start_ms,
                "speech_end_ms": c.speech_end_ms,
                "engine": t.engine if t else None,
                "model": t.model if t else None,
                "asr_compute_s": t.compute_s if t else None,
            }
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            sys.stdout.flush()
