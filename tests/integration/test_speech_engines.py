"""The real default speech engines on real audio: espeak-ng, Silero VAD, Whisper tiny.en."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from faster_whisper.vad import get_vad_model

from dualsign.application.perception.speech import AnswerCapture, CapturedAnswer, answer_hints
from dualsign.domain.endpointing import EndpointConfig
from dualsign.domain.matching import Verdict, match
from dualsign.domain.templates import Question
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr, bundled_model_dir
from dualsign.engines.asr_sherpa_onnx import SherpaOnnxAsr
from dualsign.engines.asr_vosk import VoskAsr
from dualsign.engines.base import VAD_FRAME, Audio, EngineUnavailable
from dualsign.engines.vad_silero import SileroVad
from dualsign.runtime import JOB_NICE, lower_thread_priority
from tests.speech_audio import answer, noise, silence, speech

ASR = FasterWhisperAsr()
VAD = SileroVad()
POOL = ThreadPoolExecutor(max_workers=2)
YES_QUESTION = Question(
    id="q1",
    category="risk_disclosure",
    prompt="Do you understand the risks?",
    acceptable=("yes", "I understand"),
    rejections=("no",),
)


def capture(
    audio: Audio,
    question: Question = YES_QUESTION,
    language: str = "en",
    config: EndpointConfig | None = None,
) -> CapturedAnswer:
    cap = AnswerCapture(
        VAD,
        ASR,
        config or EndpointConfig(),
        language=language,
        hints=answer_hints(question, language),
        executor=POOL,
    )
    step = 1600
    for i in range(0, len(audio), step):
        cap.feed(audio[i : i + step])
        if cap.result is not None:
            return cap.result
    return cap.finish_now()


def verdict_of(
    result: CapturedAnswer, question: Question = YES_QUESTION, family: str = "en"
) -> Verdict | None:
    if result.transcript is None:
        return None
    return match(result.transcript.text, question.acceptable, question.rejections, family).verdict  # type: ignore[arg-type]


def test_default_engines_are_available_from_registry_packages_only() -> None:
    assert ASR.is_available().ok, ASR.is_available().reason
    assert bundled_model_dir() is not None
    assert VAD.is_available().ok


@pytest.mark.parametrize("text", ["Yes.", "Yes, I understand.", "Yes I do understand", "I understand."])
def test_spoken_positive_english_answers_are_accepted(text: str) -> None:
    result = capture(answer(text))
    assert result.outcome == "speech"
    assert verdict_of(result) is Verdict.ACCEPT, result.transcript


@pytest.mark.parametrize(
    "text",
    [
        "No.",
        "No, I don't understand.",
        "I do not understand.",
        "Maybe.",
        "I am not sure.",
        "Can you repeat the question?",
    ],
)
def test_spoken_negative_or_doubtful_answers_are_never_accepted(text: str) -> None:
    result = capture(answer(text))
    assert result.outcome == "speech"
    assert verdict_of(result) in (Verdict.REJECT, Verdict.UNCLEAR), result.transcript


@pytest.mark.parametrize(
    "audio", [silence(4.0), noise(4.0, 0.01), noise(4.0, 0.05)], ids=["silence", "quiet-noise", "loud-noise"]
)
def test_silence_and_noise_are_no_speech_not_a_hallucinated_answer(audio: Audio) -> None:
    result = capture(audio, config=EndpointConfig(no_speech_timeout_ms=3000))
    assert result.outcome == "no_speech"
    assert result.transcript is None


def test_mandarin_through_english_only_model_is_never_accepted() -> None:
    question = Question(
        id="q1", category="risk_disclosure", prompt="您是否知晓？", acceptable=("知晓", "知道")
    )
    for text in ("知道", "我知道", "知晓"):
        result = capture(answer(text, "zh-CN"), question, language="zh")
        assert verdict_of(result, question, "zh") is not Verdict.ACCEPT, result.transcript
        assert (
            result.transcript is None or result.transcript.language == "en"
        )  # the model can only do English


BIASED_ASR = FasterWhisperAsr(use_hints=True)


@pytest.mark.parametrize("text", ["No, I don't understand.", "No.", "I do not agree.", "Not really."])
def test_biasing_as_the_product_builds_it_cannot_turn_a_negative_into_accept(text: str) -> None:
    """The hints always hold the negatives too. (Measured once with one-sided hints — only the
    acceptable answers — tiny.en heard "I do not agree" as "I agree": that is why hints are never
    one-sided, and why biasing is off by default for Whisper.)"""
    negative = speech(text)
    question = Question(id="q", category="other", prompt="?", acceptable=("yes", "I understand", "I agree"))
    hints = answer_hints(question, "en")
    assert {"no", "not", "I do not understand", "not I agree"} <= set(hints.phrases)
    for engine in (BIASED_ASR, ASR):
        t = engine.transcribe(negative, language="en", hints=hints)
        verdict = match(t.text, list(question.acceptable), ["no"], "en").verdict
        assert verdict is not Verdict.ACCEPT, t.text


def test_biasing_is_off_by_default_because_it_costs_correct_accepts() -> None:
    """Measured: hotwords with the negatives turned 'Yes, I do understand' into a negative."""
    positive = speech("Yes, I do understand.")
    assert "don't" not in ASR.transcribe(positive, language="en", hints=answer_hints(YES_QUESTION, "en")).text


def test_hints_always_carry_the_negative_answers() -> None:
    hints = answer_hints(Question(id="q", category="other", prompt="?", acceptable=("知道",)), "zh")
    assert "知道" in hints.phrases
    assert {"不知道", "没有", "不是"} <= set(hints.phrases)


def test_recognition_result_is_a_frozen_record_with_engine_and_model() -> None:
    t = ASR.transcribe(speech("Yes, I agree."), language="en")
    assert t.engine == "faster-whisper" and "tiny.en" in t.model
    assert 0.0 < t.confidence <= 1.0 and t.compute_s > 0
    assert "agree" in t.text.lower()


def test_real_recorded_speech_is_recognised() -> None:
    """pocketsphinx-testdata: 'go forward ten meters', recorded by a person (raw 16 kHz 16-bit)."""
    raw = Path("/usr/share/pocketsphinx/test/data/goforward.raw").read_bytes()
    audio = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    q = Question(id="q", category="other", prompt="?", acceptable=("go forward",))
    result = capture(np.concatenate([audio, silence(1.0)]), q)
    assert result.transcript is not None and "forward" in result.transcript.text.lower()


def test_streaming_silero_scores_equal_faster_whisper_batch_scores() -> None:
    audio = answer("Yes, I understand.")
    audio = audio[: len(audio) // VAD_FRAME * VAD_FRAME]
    batch = get_vad_model()(audio).reshape(-1)
    stream = VAD.stream()
    probs: list[float] = []
    for i in range(0, len(audio), 1000):  # uneven chunks, as the network delivers them
        probs += stream.feed(audio[i : i + 1000])
    assert np.allclose(np.array(probs), batch, atol=1e-5)


def test_espeak_mandarin_voice_reads_characters_as_mandarin() -> None:
    def phonemes(voice: str, text: str) -> str:
        return subprocess.run(
            ["espeak-ng", "-q", "-x", "-v", voice, text], capture_output=True, text=True, check=True
        ).stdout

    assert "(en)" in phonemes("cmn", "我知道")  # Debian's cmn voice switches to English on 道
    assert "(en)" not in phonemes("cmn-latn-pinyin", "我知道，请回答知晓或者知道")


def test_explicit_model_directory_loads_through_the_same_path() -> None:
    """A deployed (e.g. multilingual) faster-whisper folder is loaded from DUALSIGN_ASR_MODEL_DIR."""
    folder = bundled_model_dir()
    assert folder is not None
    engine = FasterWhisperAsr(folder)
    assert engine.is_available().ok
    engine.load()
    assert engine.languages == frozenset({"en"})  # tiny.en reports itself English-only
    assert FasterWhisperAsr(Path("/nonexistent")).is_available().ok is False


def test_mandarin_engines_say_what_is_missing_and_refuse_broken_models(tmp_path: Path) -> None:
    assert "DUALSIGN_ASR_MODEL_DIR" in SherpaOnnxAsr(None).is_available().reason
    assert "DUALSIGN_ASR_MODEL_DIR" in VoskAsr(None).is_available().reason
    (tmp_path / "sv").mkdir()
    assert "tokens.txt" in SherpaOnnxAsr(tmp_path / "sv").is_available().reason
    (tmp_path / "sv" / "model.int8.onnx").write_bytes(b"not an onnx model")
    (tmp_path / "sv" / "tokens.txt").write_text("<blk> 0\n", encoding="utf-8")
    broken = SherpaOnnxAsr(tmp_path / "sv")
    assert broken.is_available().ok
    with pytest.raises(EngineUnavailable, match="cannot load"):
        broken.load()
    for sub in ("am", "conf"):
        (tmp_path / "vk" / sub).mkdir(parents=True)
    with pytest.raises(EngineUnavailable, match="cannot load"):
        VoskAsr(tmp_path / "vk").load()


def _thread_nices() -> dict[int, int]:
    nices = {}
    for task in Path("/proc/self/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            nices[int(task.name)] = os.getpriority(os.PRIO_PROCESS, int(task.name))
    return nices


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_model_first_used_by_the_job_worker_still_recognises_answers_at_full_priority() -> None:
    """After a restart the job worker (+10) may re-check a recording before any signer answers: the
    recogniser's threads it starts then must not leave every later answer at +10."""
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    before = set(_thread_nices())
    asr = FasterWhisperAsr()  # not loaded yet
    audio = speech("Yes.")
    with ThreadPoolExecutor(1, initializer=lambda: lower_thread_priority(JOB_NICE)) as job:
        assert "yes" in job.submit(asr.transcribe, audio, language="en").result(60).text.lower()
    assert "yes" in asr.transcribe(audio, language="en").text.lower()
    started = {tid: nice for tid, nice in _thread_nices().items() if tid not in before}
    assert started, "the engine started no thread of its own"
    assert set(started.values()) == {base}, started
