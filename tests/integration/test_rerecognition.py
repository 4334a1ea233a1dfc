"""Browser recordings (webm/opus, ogg/opus, mp4/aac) decoded with PyAV and every answer re-recognised."""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np
import pytest
import yaml

from dualsign.application.qc.rerecognition import rerecognize
from dualsign.domain.matching import Verdict
from dualsign.domain.recording_time import AnswerWindow
from dualsign.domain.templates import parse_template
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr
from dualsign.engines.vad_silero import SileroVad
from dualsign.media.audio import AudioDecodeError, decode
from tests.speech_audio import mux_audio, silence, speech

TEMPLATE = parse_template(
    yaml.safe_load((Path(__file__).parent / "english_no_vision_template.yaml").read_text(encoding="utf-8")),
    "t",
)


def encode(audio: np.ndarray, fmt: str, codec: str, rate: int) -> bytes:
    """What a browser's MediaRecorder produces, made with PyAV (FFmpeg)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        mux_audio(out, audio, codec, rate)
    return buf.getvalue()


def recording() -> tuple[np.ndarray, list[AnswerWindow]]:
    parts, windows, t = [], [], 0.0
    for qid, attempt, text in (
        ("q1", 1, "No, I don't understand."),
        ("q1", 2, "Yes, I understand."),
        ("q2", 1, "No."),
    ):
        prompt_gap = silence(2.0)  # the prompt being played
        spoken = speech(text)
        parts += [prompt_gap, spoken, silence(1.0)]
        start = t + len(prompt_gap) / 16000
        windows.append(AnswerWindow(qid, attempt, start - 0.2, start + len(spoken) / 16000 + 0.8))
        t += (len(prompt_gap) + len(spoken) + 16000) / 16000
    return np.concatenate(parts), windows


@pytest.mark.parametrize(
    ("fmt", "codec", "rate"), [("webm", "libopus", 48000), ("ogg", "libopus", 48000), ("mp4", "aac", 44100)]
)
def test_every_answer_window_is_re_recognised_from_a_browser_recording(
    fmt: str, codec: str, rate: int
) -> None:
    audio, windows = recording()
    data = encode(audio, fmt, codec, rate)
    decoded = decode(data)
    assert abs(len(decoded) - len(audio)) < 0.2 * 16000  # codec priming aside, the same length
    results = rerecognize(data, windows, TEMPLATE, SileroVad(), FasterWhisperAsr())
    verdicts = [r.result.verdict if r.result else None for r in results]
    assert verdicts[0] in (Verdict.REJECT, Verdict.UNCLEAR), results[0].transcript
    assert verdicts[1:] == [Verdict.ACCEPT, Verdict.ACCEPT], [r.transcript for r in results]
    assert all(r.speech_s > 0.3 for r in results)


def test_a_window_without_speech_has_no_verdict() -> None:
    audio, _ = recording()
    data = encode(audio, "webm", "libopus", 48000)
    results = rerecognize(data, [AnswerWindow("q1", 1, 0.0, 1.8)], TEMPLATE, SileroVad(), FasterWhisperAsr())
    assert results[0].transcript is None and results[0].result is None


def test_garbage_is_a_decode_error_not_a_crash() -> None:
    with pytest.raises(AudioDecodeError):
        decode(b"definitely not a media file" * 10)
