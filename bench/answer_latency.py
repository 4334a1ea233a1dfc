"""Answer latency: end of speech → verdict, streamed at real time through the default engines.

Corpus (50 answers): espeak-ng English answers (positive, negative, doubtful; two voices, two speeds)
and the real recorded English speech of Debian's pocketsphinx-testdata (cards, go-forward, LibriVox,
digits). Each answer is streamed in 20 ms chunks at real time into the same ``AnswerCapture`` the live
channel uses (Silero VAD → endpointer → Whisper tiny.en → matcher). Two modes run side by side:

- speculative: recognition starts during the closing silence (what the product does);
- plain: recognition starts only once the end of the answer is confirmed (the baseline).

Printed per mode: latency p50/p95 from the true end of speech (last voiced sample) to the verdict, the
part spent waiting for the endpoint vs computing, decision accuracy, false ACCEPT count, CPU seconds per
answer. Run: ``.venv/bin/python bench/answer_latency.py [--limit N] [--modes speculative,plain]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dualsign.application.speech import AnswerCapture
from dualsign.domain.endpointing import EndpointConfig
from dualsign.domain.matching import Verdict, match
from dualsign.engines._audio import decode
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr
from dualsign.engines.base import SAMPLE_RATE
from dualsign.engines.vad_silero import SileroVad

DATA = Path("/usr/share/pocketsphinx/test/data")
YES = ["yes", "I understand", "I agree"]


@dataclass(frozen=True)
class Case:
    name: str
    audio: np.ndarray
    expected: list[str]
    accept: bool  # the right decision is ACCEPT


def espeak_cases() -> list[Case]:
    import subprocess
    import tempfile

    positives = [
        "Yes.",
        "Yes, I understand.",
        "I understand.",
        "Yes, I agree.",
        "I agree.",
        "Yes, I do.",
        "Yes, I understand the risks.",
        "Yes, yes.",
    ]
    negatives = [
        "No.",
        "No, I don't understand.",
        "I do not agree.",
        "Not really.",
        "Maybe.",
        "I'm not sure.",
        "I think so.",
        "Can you repeat that?",
        "No, I don't.",
        "What does that mean?",
    ]
    cases: list[Case] = []
    for voice, wpm in (("en-us", 160), ("en-gb-x-rp+f3", 130)):
        for text in positives + negatives:
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "a.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(out), text], check=True)
                audio = decode(out.read_bytes())
            cases.append(
                Case(
                    f"espeak:{voice}:{text}",
                    audio,
                    YES,
                    text in positives and text != "Yes, I understand the risks.",
                )
            )
    return cases


def raw16(path: Path) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), dtype="<i2").astype(np.float32) / 32768.0


def recorded_cases() -> list[Case]:
    lib = DATA / "librivox"
    pick = [
        ("cards/001.wav", ["ten of clubs", "10 of clubs"], True),
        ("cards/003.wav", ["seven of clubs", "7 of clubs"], True),
        ("cards/004.wav", ["five five", "5 5", "55"], True),
        ("cards/002.wav", ["queen of clubs"], False),  # "four queen of clubs": extra words
        ("cards/005.wav", YES, False),
        ("goforward.raw", ["go forward ten meters", "go forward 10 meters"], True),
        ("numbers.raw", YES, False),
        ("something.raw", YES, False),
        ("tidigits/dhd.2934z.raw", YES, False),
        (
            f"{lib.name}/sense_and_sensibility_01_austen_64kb-0880.wav",
            ["ill disposed", "ill-disposed"],
            False,
        ),  # "he was NOT an ill disposed young man"
        (
            f"{lib.name}/sense_and_sensibility_01_austen_64kb-0930.wav",
            ["amiable"],
            False,
        ),  # "might … have been"
        (f"{lib.name}/sense_and_sensibility_01_austen_64kb-0890.wav", ["selfish"], False),  # "unless …"
        (f"{lib.name}/sense_and_sensibility_01_austen_64kb-0870.wav", YES, False),
        (f"{lib.name}/sense_and_sensibility_01_austen_64kb-0920.wav", ["respectable"], False),
    ]
    cases = []
    for rel, expected, accept in pick:
        path = DATA / rel
        audio = raw16(path) if path.suffix == ".raw" else decode(path.read_bytes())
        cases.append(Case(f"recorded:{rel}", audio, expected, accept))
    return cases


def voiced_end(audio: np.ndarray) -> float:
    """Seconds to the last 10 ms frame louder than -40 dBFS: the true end of speech."""
    hop = SAMPLE_RATE // 100
    frames = audio[: len(audio) // hop * hop].reshape(-1, hop)
    loud = np.nonzero(np.sqrt((frames**2).mean(axis=1)) > 0.01)[0]
    return float((loud[-1] + 1) * hop / SAMPLE_RATE) if len(loud) else 0.0


@dataclass
class Outcome:
    latency_s: float
    wait_s: float
    compute_s: float
    verdict: str
    heard: str
    right: bool
    false_accept: bool
    cpu_s: float


def run_case(
    case: Case, vad: SileroVad, asr: FasterWhisperAsr, pool: ThreadPoolExecutor, speculative: bool
) -> Outcome:
    config = EndpointConfig() if speculative else EndpointConfig(speculate_after_ms=599)
    stream = np.concatenate(
        [np.zeros(SAMPLE_RATE // 2, np.float32), case.audio, np.zeros(SAMPLE_RATE * 2, np.float32)]
    )
    true_end = 0.5 + voiced_end(case.audio)
    cap = AnswerCapture(vad, asr, config, language="en", hints=None, executor=pool)
    step = SAMPLE_RATE // 50  # 20 ms
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    verdict_at = None
    for i in range(0, len(stream), step):
        due = t0 + i / SAMPLE_RATE
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        cap.feed(stream[i : i + step])
        if cap.result is not None:
            break
    result = cap.finish_now()
    text = result.transcript.text if result.transcript else ""
    verdict = match(text, case.expected, (), "en").verdict if text else None
    verdict_at = time.perf_counter()
    latency = verdict_at - (t0 + true_end)
    wait = min(latency, result.decided_at_ms / 1000 - true_end)  # chunking: the decision lands ≤20 ms early
    accepted = verdict is Verdict.ACCEPT
    return Outcome(
        latency,
        wait,
        latency - wait,
        verdict.value if verdict else "NO_SPEECH",
        text,
        accepted == case.accept,
        accepted and not case.accept,
        time.process_time() - cpu0,
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="run only the first N answers")
    parser.add_argument("--modes", default="speculative,plain")
    parser.add_argument("--window-s", type=float, default=15.0, help="Whisper encoder window (30 = full)")
    parser.add_argument("--show", action="store_true", help="print what was heard of every answer")
    args = parser.parse_args()
    cases = espeak_cases() + recorded_cases()
    if args.limit:
        cases = cases[: args.limit]
    vad, asr = SileroVad(), FasterWhisperAsr(window_s=args.window_s)
    asr.load()
    pool = ThreadPoolExecutor(max_workers=2)
    run_case(cases[0], vad, asr, pool, True)  # warm-up, not counted
    print(
        f"answers: {len(cases)} ({sum(c.name.startswith('espeak') for c in cases)} espeak-ng, "
        f"{sum(c.name.startswith('recorded') for c in cases)} recorded), streamed at real time (20 ms chunks)"
    )
    print(
        f"engines: Silero VAD ({vad.model_path.name if vad.model_path else '?'}), {asr.model_id}, int8, "
        f"encoder window {args.window_s:g} s"
    )
    summary = {}
    for mode in args.modes.split(","):
        outs = [run_case(c, vad, asr, pool, mode == "speculative") for c in cases]
        lat = [o.latency_s for o in outs]
        summary[mode] = pct(lat, 95)
        wrong = [
            (c.name, f"“{o.heard}” → {o.verdict}") for c, o in zip(cases, outs, strict=True) if not o.right
        ]
        print(f"\n[{mode}]")
        print(
            f"  end of speech → verdict: p50 {pct(lat, 50):.3f} s, p95 {pct(lat, 95):.3f} s, "
            f"max {max(lat):.3f} s"
        )
        print(
            f"  waiting for the endpoint: p50 {statistics.median(o.wait_s for o in outs):.3f} s; "
            f"computing after it: p50 {statistics.median(o.compute_s for o in outs):.3f} s, "
            f"p95 {pct([o.compute_s for o in outs], 95):.3f} s"
        )
        print(f"  share waiting: {sum(o.wait_s for o in outs) / sum(lat):.0%} of the total latency")
        print(
            f"  decisions right: {sum(o.right for o in outs)}/{len(outs)}; "
            f"false ACCEPT: {sum(o.false_accept for o in outs)}"
        )
        print(f"  CPU per answer: {statistics.mean(o.cpu_s for o in outs):.3f} s (process time, VAD + ASR)")
        for name, verdict in wrong:
            print(f"    not as expected: {name} → {verdict}")
        if args.show:
            for c, o in zip(cases, outs, strict=True):
                print(f"    {c.name}: “{o.heard}” → {o.verdict}")
    if "speculative" in summary and "plain" in summary:
        print(f"\np95 ratio speculative/plain: {summary['speculative'] / summary['plain']:.2f}")
    pool.shutdown()


if __name__ == "__main__":
    main()
