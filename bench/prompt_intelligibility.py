"""Prompt intelligibility: every prompt of the built-in templates read aloud, then heard back.

Each question prompt of the built-in zh templates (and, for comparison, the en ones) is synthesised by
the product's TTS, recognised by the bundled recogniser of its language (Whisper base for Mandarin over
its full 30 s window, Whisper tiny.en for English), and compared with the prompt's text: the character
error rate (zh, after traditional → simplified and punctuation removed) or word error rate (en). A
machine listener is not an elderly signer, but a voice it cannot follow is one a person struggles with
too, and the figure compares voices on the same text.

A voice synthesised elsewhere (a candidate neural voice in its own environment) is compared the same
way with ``--wav-dir DIR``: one WAV per prompt, named ``<template key>__<question id>.wav``.

Printed per voice and template: prompts, audio seconds, error rate; then the voice's overall rate.
Run: ``.venv/bin/python bench/prompt_intelligibility.py [--voices cmn-latn-pinyin,cmn] [--limit N]
[--wav-dir DIR --wav-voice NAME]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dualsign.application.integrator.template_catalog import parse_template_yaml  # noqa: E402
from dualsign.bootstrap.config import load_settings  # noqa: E402
from dualsign.domain.normalization import normalize  # noqa: E402
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr  # noqa: E402
from dualsign.media.audio import decode  # noqa: E402
from dualsign.scenarios import builtin_sources  # noqa: E402


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two token lists (substitutions, insertions, deletions)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def speak(text: str, voice: str, tmp: Path) -> bytes:
    wav = tmp / "prompt.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), "--stdin"], input=text.encode(), check=True
    )
    return wav.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--voices", default="cmn-latn-pinyin,cmn", help="espeak-ng Mandarin voices to compare"
    )
    parser.add_argument("--limit", type=int, default=0, help="prompts per template (0: all)")
    parser.add_argument("--english", action="store_true", help="also the en templates with en-us")
    parser.add_argument("--wav-dir", help="prompts synthesised elsewhere: <key>__<question id>.wav")
    parser.add_argument("--wav-voice", default="external", help="the name to print for --wav-dir")
    args = parser.parse_args()
    cache = load_settings().speech.model_cache
    asr = {"zh": FasterWhisperAsr(model_cache=cache, window_s=30.0, timeout_s=120.0)}
    if args.english:
        asr["en"] = FasterWhisperAsr(window_s=30.0, timeout_s=120.0)
    templates = []
    for name, text in builtin_sources():
        t = parse_template_yaml(text, name)
        family = t.language.family
        if family in asr:
            prompts = [q.prompt for q in t.questions]
            ids = [q.id for q in t.questions]
            pairs = list(zip(ids, prompts, strict=True))
            templates.append((t.key, family, pairs[: args.limit] if args.limit else pairs))
    runs = [(v, "zh") for v in args.voices.split(",") if v] + ([("en-us", "en")] if args.english else [])
    if args.wav_dir:
        runs.append((args.wav_voice, "zh"))
    print(f"recognisers: zh {asr['zh'].model_id}" + (f", en {asr['en'].model_id}" if "en" in asr else ""))
    with tempfile.TemporaryDirectory() as scratch:
        for voice, family in runs:
            errors = total = 0
            seconds = 0.0
            started = time.process_time()
            print(f"\n[{voice}] ({'character' if family == 'zh' else 'word'} error rate)")
            for key, fam, prompts in templates:
                if fam != family:
                    continue
                rates = []
                t_errors = t_total = 0
                for qid, prompt in prompts:
                    if args.wav_dir and voice == args.wav_voice:
                        audio = decode((Path(args.wav_dir) / f"{key}__{qid}.wav").read_bytes())
                    else:
                        audio = decode(speak(prompt, voice, Path(scratch)))
                    seconds += len(audio) / 16000
                    heard = asr[family].transcribe(audio, language=family).text
                    ref = list(normalize(prompt, family).tokens)
                    hyp = list(normalize(heard, family).tokens)
                    e = edit_distance(ref, hyp)
                    rates.append(e / max(1, len(ref)))
                    t_errors, t_total = t_errors + e, t_total + len(ref)
                errors, total = errors + t_errors, total + t_total
                print(
                    f"  {key:<32} {len(prompts):>2} prompts  error rate {t_errors / max(1, t_total):6.1%}"
                    f"  (median prompt {statistics.median(rates):.1%})"
                )
            unit = "characters" if family == "zh" else "words"
            print(
                f"  overall: {errors / max(1, total):.1%} over {total} {unit}, "
                f"{seconds:.0f} s of speech, recognised in {time.process_time() - started:.0f} CPU-s"
            )


if __name__ == "__main__":
    main()
