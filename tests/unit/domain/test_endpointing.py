"""End-of-answer decisions on synthetic probability sequences (32 ms windows)."""

from __future__ import annotations

import pytest

from dualsign.domain.endpointing import FRAME_MS, Endpoint, EndpointConfig, Endpointer, Signal


def run(probs: list[float], config: EndpointConfig | None = None) -> list[Endpoint]:
    ep = Endpointer(config)
    return [e for p in probs if (e := ep.push(p)) is not None]


def frames(ms: int, p: float) -> list[float]:
    return [p] * (ms // FRAME_MS)


def test_answer_start_and_end_are_found_after_the_closing_silence() -> None:
    events = run(frames(640, 0.0) + frames(960, 0.9) + frames(1200, 0.05))
    assert [e.signal for e in events] == [
        Signal.STARTED,
        Signal.SPECULATE_EARLY,
        Signal.SPECULATE,
        Signal.ENDED,
    ]
    started, early, speculate, ended = events
    assert started.speech_start_ms == 640
    assert early.at_ms - 640 - 960 == 96  # an idle recogniser may start 96 ms into the silence
    assert speculate.at_ms - 640 - 960 == 192  # a busy one 192 ms into it
    assert early.speech_end_ms == speculate.speech_end_ms == 640 + 960
    assert ended.speech_end_ms == 640 + 960
    assert ended.at_ms - ended.speech_end_ms == 1024  # the configured 1000 ms, in whole windows


def test_the_verdict_may_be_shown_once_the_silence_is_long_enough_and_until_the_end() -> None:
    ep = Endpointer()
    for p in frames(640, 0.9) + frames(224, 0.0):
        ep.push(p)
    assert not ep.preview_due  # 224 ms of silence: a pause inside the answer, as likely as its end
    ep.push(0.0)
    assert ep.preview_due  # 256 ms
    ep.push(0.9)
    assert not ep.preview_due  # speaking again
    for p in frames(1024, 0.0):
        ep.push(p)
    assert ep.done and not ep.preview_due  # ended: the recorded verdict follows


SPOKEN_AGAIN = [Signal.SPECULATE_EARLY, Signal.SPECULATE, Signal.ENDED]  # after the second part


@pytest.mark.parametrize(
    ("pause_ms", "withdrawn"),
    [
        (320, [Signal.SPECULATE_EARLY, Signal.SPECULATE]),  # longer than the usual moment
        (128, [Signal.SPECULATE_EARLY]),  # shorter: only an early start was made, and withdrawn
    ],
)
def test_a_pause_inside_the_answer_withdraws_the_speculation(pause_ms: int, withdrawn: list[Signal]) -> None:
    events = run(frames(320, 0.9) + frames(pause_ms, 0.1) + frames(320, 0.9) + frames(1100, 0.0))
    assert [e.signal for e in events] == [Signal.STARTED, *withdrawn, Signal.RESUMED, *SPOKEN_AGAIN]
    assert events[-1].speech_end_ms == 320 + pause_ms + 320


def test_without_an_earlier_moment_only_the_usual_one_fires() -> None:
    config = EndpointConfig(early_speculate_after_ms=192)
    events = run(frames(640, 0.9) + frames(1100, 0.0), config)
    assert [e.signal for e in events] == [Signal.STARTED, Signal.SPECULATE, Signal.ENDED]


def test_clicks_shorter_than_min_speech_are_not_an_answer() -> None:
    events = run((frames(64, 0.9) + frames(320, 0.0)) * 30)
    assert [e.signal for e in events] == [Signal.NO_SPEECH]
    assert 8000 <= events[0].at_ms < 8000 + FRAME_MS


def test_silence_times_out_as_no_speech() -> None:
    events = run(frames(9000, 0.02), EndpointConfig(no_speech_timeout_ms=5000))
    assert [e.signal for e in events] == [Signal.NO_SPEECH]
    assert 5000 <= events[0].at_ms < 5000 + FRAME_MS


def test_endless_speech_is_cut_at_the_maximum_length() -> None:
    events = run(frames(20000, 0.95), EndpointConfig(max_answer_ms=3000))
    assert events[-1].signal is Signal.MAX_LENGTH
    assert events[-1].speech_end_ms is not None
    assert events[-1].speech_end_ms - (events[-1].speech_start_ms or 0) >= 3000


def test_nothing_after_the_end() -> None:
    ep = Endpointer()
    for p in frames(500, 0.9) + frames(1100, 0.0):
        ep.push(p)
    assert ep.done
    assert ep.push(0.9) is None


def test_inconsistent_configuration_is_refused() -> None:
    with pytest.raises(ValueError, match="speculate"):
        EndpointConfig(speculate_after_ms=700, end_silence_ms=600)
    with pytest.raises(ValueError, match="preview"):
        EndpointConfig(preview_after_ms=600, end_silence_ms=600)
    with pytest.raises(ValueError, match="thresholds"):
        EndpointConfig(silence_threshold=0.6, speech_threshold=0.5)
