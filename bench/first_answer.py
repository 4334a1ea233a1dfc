"""The first answers after a start: recognised cold, or after the live channel prepared the recogniser.

Models load on first use (an English-only deployment never loads Whisper base), so the first answer
after a start would also pay for loading the model, its first inference and, for Mandarin, the lists
and script converters scoring needs. The live channel now has the recogniser of the session's language
prepared in the background when the signer connects (``Container.prepare_speech``): consent and the
identity check come before the first question.

Each run is a fresh Python process with the default engines (``build_speech(speech_settings(...))``,
as ``dualsign serve`` builds them): ``cold`` recognises two answers of the corpus one after the other;
``prepared`` first calls ``prepare`` (what the live channel starts), then does the same. The two
kinds take turns. Prints the seconds each answer took to recognise (answer 1, answer 2) and the ratio
of the first answers.

Run: ``.venv/bin/python bench/first_answer.py [--lang zh|en] [--runs 3]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def child(mode: str, lang: str) -> None:
    sys.path.insert(0, str(HERE))
    import numpy as np
    from answer_latency import espeak_cases, zh_cases

    from dualsign.application.perception.speech import answer_hints, hints_for
    from dualsign.bootstrap.config import load_settings
    from dualsign.bootstrap.container import speech_settings
    from dualsign.engines.registry import build_speech

    if lang == "zh":
        cases = [c for c in zh_cases() if "cmn-latn-pinyin@150/50:" in c.name][:2]
    else:
        cases = espeak_cases()[:2]
    asr = build_speech(speech_settings(load_settings())).asr
    prepared_s = None
    if mode == "prepared":
        started = time.perf_counter()
        asr.prepare(lang)
        prepared_s = time.perf_counter() - started
    took = []
    for case in cases:
        q = case.question
        hints = answer_hints(q, lang) if q is not None else hints_for(case.expected, case.rejections, lang)
        started = time.perf_counter()
        asr.transcribe(np.asarray(case.audio, np.float32), language=lang, hints=hints)
        took.append(time.perf_counter() - started)
    print(json.dumps({"answers": took, "prepare": prepared_s}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("zh", "en"), default="zh")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("cold", "prepared"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.lang)
        return
    got: dict[str, list[dict[str, Any]]] = {"cold": [], "prepared": []}
    for _ in range(args.runs):
        for mode in ("cold", "prepared"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--lang", args.lang],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            got[mode].append(json.loads(out.strip().splitlines()[-1]))
    print(f"{args.lang}: the first two answers of a fresh process, {args.runs} runs each (taking turns)")
    firsts: dict[str, float] = {}
    for mode, runs in got.items():
        answers = [r["answers"] for r in runs]
        firsts[mode] = statistics.median(a[0] for a in answers)
        line = "; ".join(f"{a[0]:.3f} / {a[1]:.3f}" for a in answers)
        prep = [r["prepare"] for r in runs if r["prepare"] is not None]
        extra = f" (prepare took {', '.join(f'{p:.3f}' for p in prep)} s before)" if prep else ""
        print(f"  {mode:9s} answer 1 / answer 2: {line} s{extra}")
    print(
        f"  first answer, median: cold {firsts['cold']:.3f} s, prepared {firsts['prepared']:.3f} s "
        f"({firsts['cold'] / firsts['prepared']:.2f}x sooner)"
    )


if __name__ == "__main__":
    main()
