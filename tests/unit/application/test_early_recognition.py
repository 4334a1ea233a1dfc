"""When recognition of an answer starts (``AnswerCapture``): 96 ms into the closing silence when no
other answer of this process is being recognised, else at the usual 192 ms, so that the recognitions a
pause throws away never queue before answers that count. Deterministic engines: loudness is speech."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dualsign.application.perception.speech import RECOGNITIONS, AnswerCapture
from dualsign.domain.endpointing import EndpointConfig
from dualsign.engines.base import SAMPLE_RATE
from dualsign.engines.fake import EnergyVad, ScriptedAsr

PIECE = SAMPLE_RATE * 32 // 1000  # one VAD window a piece
SPEECH_MS = 640


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=1) as executor:
        yield executor


def capture(pool: ThreadPoolExecutor) -> AnswerCapture:
    return AnswerCapture(
        EnergyVad(),
        ScriptedAsr(queue=["是的"] * 4),
        EndpointConfig(),
        language="zh",
        hints=None,
        executor=pool,
    )


def silence_when_recognition_started(cap: AnswerCapture) -> int:
    """Feed speech then silence; the silence (ms) after which the answer's recognition was started."""
    tone = 0.3 * np.sin(np.arange(SAMPLE_RATE * SPEECH_MS // 1000) * 0.2).astype(np.float32)
    for start in range(0, len(tone), PIECE):
        cap.feed(tone[start : start + PIECE])
    quiet = np.zeros(PIECE, np.float32)
    for _ in range(40):
        cap.feed(quiet)
        if cap.speculation is not None:
            return cap.elapsed_ms - SPEECH_MS
    raise AssertionError("recognition never started")


def test_an_idle_recogniser_starts_96_ms_into_the_silence(pool: ThreadPoolExecutor) -> None:
    assert RECOGNITIONS.idle
    cap = capture(pool)
    assert silence_when_recognition_started(cap) == 96
    assert cap.take_new_speculation() is cap.speculation  # the live channel previews it …
    assert cap.take_new_speculation() is None  # … once, although the usual moment comes after
    result = cap.feed(np.zeros(SAMPLE_RATE, np.float32))
    assert result and cap.result is not None and cap.result.transcript is not None
    assert cap.result.transcript.text == "是的"
    assert RECOGNITIONS.idle  # finished recognitions are not counted


def test_while_another_answer_is_recognised_it_starts_at_the_usual_192_ms(pool: ThreadPoolExecutor) -> None:
    RECOGNITIONS.started()  # another signer's answer, being recognised
    try:
        cap = capture(pool)
        assert silence_when_recognition_started(cap) == 192
        assert not RECOGNITIONS.idle
    finally:
        RECOGNITIONS.finished()
    cap.feed(np.zeros(SAMPLE_RATE, np.float32))
    assert cap.result is not None and cap.result.transcript is not None
    assert RECOGNITIONS.idle
