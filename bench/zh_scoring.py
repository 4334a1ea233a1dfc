"""Where a Mandarin answer's recognition goes, and what scoring the expected answers side by side saves.

1. Every answer of one espeak-ng voice (default ``cmn-latn-pinyin@150``, the 100 answers of
   ``answer_latency.py --lang zh --voice …``) recognised once, with the product's hints, through the
   bundled Whisper base: wall time per answer (p50 / p95) and the mean per stage: the encoder, the free
   transcript (``generate``) and the candidates' scoring (``align``, summed over its batches).
2. On one answer, the candidates of a built-in question scored by ``align``, best of ``--repeat``: one
   batch on the model's threads, the batch split in two and run side by side on the two replicas (what
   the engine does), a batch of 8, and the batch on fewer audio positions.

Run: ``.venv/bin/python bench/zh_scoring.py [--voice NAME] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from answer_latency import hints_for, pct, zh_cases  # the Mandarin corpus

from dualsign.application.perception.speech import answer_hints
from dualsign.bootstrap.config import load_settings
from dualsign.engines.asr_faster_whisper import ZH_SILENCE_PAD, FasterWhisperAsr, _padded


class Timed:
    """The CTranslate2 model with the time of its ``generate`` and ``align`` calls added up."""

    def __init__(self, model: Any, spent: dict[str, float]) -> None:
        self._model, self._spent = model, spent

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._model, name)
        if name not in ("generate", "align"):
            return found

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return found(*args, **kwargs)
            finally:
                self._spent[name] += time.perf_counter() - started

        return timed


def stages(asr: FasterWhisperAsr, voice: str) -> None:
    whisper = asr.load()
    spent: dict[str, float] = defaultdict(float)
    encode = type(whisper).encode

    def timed_encode(self: Any, features: Any) -> Any:
        started = time.perf_counter()
        try:
            return encode(self, features)
        finally:
            spent["encode"] += time.perf_counter() - started

    type(whisper).encode = timed_encode
    whisper.model = Timed(whisper.model, spent)
    cases = [c for c in zh_cases() if voice in c.name.rsplit(":", 2)[0]]
    walls: list[float] = []
    totals: dict[str, float] = defaultdict(float)
    for case in cases:
        q = case.question
        hints = answer_hints(q, "zh") if q is not None else hints_for(case.expected, case.rejections, "zh")
        spent.clear()
        started = time.perf_counter()
        asr.transcribe(np.asarray(case.audio, np.float32), language="zh", hints=hints)
        walls.append(time.perf_counter() - started)
        for stage, s in spent.items():
            totals[stage] += s
    print(f"{len(cases)} answers of {voice}, recognised one at a time with the product's hints:")
    print(
        f"  wall per answer: p50 {statistics.median(walls) * 1000:.0f} ms, p95 {pct(walls, 95) * 1000:.0f} ms"
    )
    print(
        "  mean per answer: "
        + ", ".join(
            f"{stage} {totals[stage] / len(cases) * 1000:.0f} ms" for stage in ("encode", "generate", "align")
        )
        + " (align: its batches' times added up)"
    )


def batches(asr: FasterWhisperAsr, voice: str, repeat: int) -> None:
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    whisper = asr.load()
    case = next(c for c in zh_cases() if voice in c.name and c.question is not None)
    assert case.question is not None
    audio = _padded(np.asarray(case.audio, np.float32), ZH_SILENCE_PAD)
    features = whisper.feature_extractor(audio)[..., : asr.window_frames(len(audio))]
    # replicas as the engine has them: one model, two of them, each on the configured threads
    model = ctranslate2.models.Whisper(
        str(asr.model_dir), device="cpu", compute_type="int8", intra_threads=asr.cpu_threads, inter_threads=2
    )
    encoded = np.asarray(
        model.encode(ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])))
    )
    tokenizer = Tokenizer(whisper.hf_tokenizer, True, task="transcribe", language="zh")
    candidates = answer_hints(case.question, "zh").candidates
    tokens = [tokenizer.encode(c) for c in candidates]
    start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    answer_positions = len(audio) // 320 + 25  # as the engine scores: the answer's positions and 25 more
    side = ThreadPoolExecutor(2)

    def align(seqs: list[list[int]], positions: int) -> None:
        batch = np.repeat(encoded[:, :positions, :], len(seqs), axis=0)
        model.align(ctranslate2.StorageView.from_array(batch), start, seqs, 2)

    def best(run: Any) -> float:
        run()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return min(times) * 1000

    half = len(tokens) // 2
    one = best(lambda: align(tokens, answer_positions))
    two = best(
        lambda: [
            f.result()
            for f in [
                side.submit(align, tokens[:half], answer_positions),
                side.submit(align, tokens[half:], answer_positions),
            ]
        ]
    )
    eight = best(lambda: align(tokens[:8], answer_positions))
    fewer = best(lambda: align(tokens, answer_positions * 2 // 3))
    print(
        f"\nscoring the {len(tokens)} candidates of question {case.question.id!r} on one answer "
        f"({answer_positions} positions; best of {repeat}):"
    )
    print(f"  one batch, {asr.cpu_threads} threads: {one:.0f} ms")
    print(f"  two half batches side by side on two replicas: {two:.0f} ms ({one / two:.2f}× faster)")
    print(f"  a batch of 8: {eight:.0f} ms")
    print(f"  one batch on {answer_positions * 2 // 3} positions: {fewer:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voice", default="cmn-latn-pinyin@150")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asr = FasterWhisperAsr(model_cache=load_settings().speech.model_cache, window_s=6.0)
    stages(asr, args.voice)
    batches(asr, args.voice, args.repeat)


if __name__ == "__main__":
    main()
