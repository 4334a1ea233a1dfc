"""The live session's rules without a socket, a thread or a real clock (``application.live_session``).

Frames, engine findings and the use cases' views are made up; time on the adapter's clock is a fake
one the test moves. What the channel tells the page is what ``api/live.py`` sends.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pytest

from dualsign.application.records import SessionRecord
from dualsign.application.signer.flow import SignerView
from dualsign.application.signer.live_session import (
    BAD_MESSAGE_CLOSE,
    IDENTITY_EXTRA_FRAMES,
    MAX_CONTROL_CHARS,
    MAX_PENDING_FRAMES,
    BadMessage,
    ChallengeOver,
    Control,
    LiveSession,
    Nod,
    SampleChallenge,
    ShowState,
    UnknownControl,
    read_control,
    read_frame,
)
from dualsign.domain.liveness import ChallengeStep, FaceFeatures, Sample
from dualsign.domain.monitoring import FaceWarning, WarningKind
from dualsign.domain.session import Event
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import LivenessAction

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LAG_S = 1.0
RECORD = SessionRecord(
    "ses_1", "ten_1", "tv_1", "questions", "张三", "1101**002X", "h" * 64, "", None, None, "", AT, AT, AT
)


@dataclass
class FakeCapture:
    started: bool = False


class FakeClock:
    """The adapter's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def tick(self, seconds: float) -> float:
        self.now += seconds
        return self.now


def session(*, vision: bool = True) -> LiveSession[FakeCapture]:
    return LiveSession(vision, LAG_S)


def view(state: SessionState, *events: Event) -> SignerView:
    return SignerView(RECORD, state.value, None, [], list(events))


def face(pitch: float = 0.5) -> FaceFeatures:
    return FaceFeatures(eye_open=0.2, mouth_open=0.05, yaw=0.0, pitch=pitch)


def image() -> np.ndarray:
    return np.zeros((4, 4, 3), dtype=np.uint8)


# --- control messages ------------------------------------------------------------------------------


def test_control_messages_are_read_by_type_and_the_answer_windows_own_apply_at_once() -> None:
    assert read_control('{"type": "listen"}') is Control.LISTEN
    assert read_control('{"type": "end", "extra": 1}') is Control.END
    assert [c for c in Control if not c.waits_for_frames] == [Control.LISTEN, Control.STOP, Control.REPEAT]


def test_an_unknown_type_is_answered_and_waits_for_the_frames_before_it() -> None:
    unknown = read_control('{"type": "dance"}')
    assert isinstance(unknown, UnknownControl) and unknown.waits_for_frames
    assert unknown.error() == {"type": "error", "code": "unknown_message", "detail": "unknown type 'dance'"}
    missing = read_control("{}")
    assert isinstance(missing, UnknownControl) and missing.error()["detail"] == "unknown type None"
    assert isinstance(read_control('{"type": ["listen"]}'), UnknownControl)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "the control message is not JSON"),
        ("[1, 2]", "a control message is a JSON object, not list"),
        ('"listen"', "a control message is a JSON object, not str"),
        ("[" * 2000 + "]" * 2000, "the control message is nested too deeply"),
        ('{"type": "listen", "pad": "' + "x" * MAX_CONTROL_CHARS + '"}', "at most 4096 characters"),
    ],
)
def test_text_that_is_no_control_message_is_answered_and_closes_the_connection(text: str, why: str) -> None:
    bad = read_control(text)
    assert isinstance(bad, BadMessage) and bad.close_code == BAD_MESSAGE_CLOSE == 1007
    error = bad.error()
    assert error["type"] == "error" and error["code"] == "bad_message" and why in str(error["detail"])


# --- answer windows and nods -----------------------------------------------------------------------


def test_audio_counts_only_inside_an_answer_window() -> None:
    live = session()
    assert live.capture is None
    capture = FakeCapture()
    assert live.listen(capture, nod_allowed=False) == {"type": "listening", "nod_allowed": False}
    assert live.capture is capture
    assert live.speech_started(640) == {"type": "speech_started", "at_ms": 640}
    assert live.take_capture() is capture
    assert live.capture is None and live.take_capture() is None


def test_stop_judges_the_open_window_and_without_one_is_an_unknown_message() -> None:
    live = session()
    capture = FakeCapture()
    live.listen(capture, nod_allowed=True)
    assert live.stop() is capture
    assert not live.in_nod_window
    assert live.stop() == {"type": "error", "code": "unknown_message", "detail": "unknown type 'stop'"}


def test_a_nod_window_is_open_until_speech_starts_or_the_window_closes() -> None:
    live = session()
    capture = FakeCapture()
    live.listen(capture, nod_allowed=False)
    assert not live.in_nod_window and not live.frames_needed
    live.listen(capture, nod_allowed=True)
    assert live.in_nod_window and live.frames_needed
    capture.started = True  # the signer speaks: a nod no longer answers
    assert not live.in_nod_window
    live.listen(FakeCapture(), nod_allowed=True)
    live.repeat()
    assert not live.in_nod_window and live.capture is None


def test_a_nod_in_the_window_answers_yes_and_closes_it() -> None:
    live = session()
    live.listen(FakeCapture(), nod_allowed=True)
    still = [Sample(i / 10, face(0.5)) for i in range(8)]
    assert all(live.nod_sample(s) is None for s in still)  # a still head is no nod
    pitches = [0.5, 0.5, 0.5, 0.62, 0.63, 0.62, 0.61, 0.5, 0.5, 0.5]
    nod = None
    for i, p in enumerate(pitches):
        nod = live.nod_sample(Sample(0.8 + i / 10, face(p))) or nod
    assert nod == Nod(frames=16, amplitude=pytest.approx(0.12))  # seen as the head came back up
    assert not live.in_nod_window and live.capture is None
    assert live.nod_sample(Sample(3.0, face())) is None  # the window is closed
    verdict, state = live.nod_accepted(view(SessionState.QUESTIONS))
    assert verdict == {
        "type": "verdict",
        "verdict": "ACCEPT",
        "transcript": None,
        "input": "nod",
        "explanation": {"rule": "nod"},
    }
    assert isinstance(state, ShowState) and live.state is SessionState.QUESTIONS


def test_the_spoken_verdict_is_the_judged_answer_with_the_waits() -> None:
    judged = Event(
        EventKind.ANSWER_JUDGED,
        AT,
        {
            "question_id": "q1",
            "attempt": 2,
            "transcript": "是的",
            "verdict": "ACCEPT",
            "explanation": {"rule": "a"},
        },
    )
    asked = Event(EventKind.QUESTION_ASKED, AT, {"question_id": "q2", "attempt": 1})
    message = session().spoken_verdict(view(SessionState.QUESTIONS, judged, asked), 600, 12.5)
    assert message == {
        "type": "verdict",
        "provisional": False,
        "question_id": "q1",
        "attempt": 2,
        "transcript": "是的",
        "heard": "是的",
        "verdict": "ACCEPT",
        "explanation": {"rule": "a"},
        "endpoint_wait_ms": 600,
        "previewed_ms": None,
        "compute_ms": 12.5,
    }


# --- identity --------------------------------------------------------------------------------------


def test_identity_is_refused_outside_its_state() -> None:
    live = session()
    refusal = live.identity_refusal(view(SessionState.LIVENESS))
    assert refusal == {
        "type": "error",
        "code": "illegal_transition",
        "detail": "no identity check in state 'liveness'",
    }
    assert live.identity_refusal(view(SessionState.IDENTITY)) is None


def test_identity_collects_the_templates_minimum_and_two_more_frames_then_verifies_them_together() -> None:
    live = session()
    assert live.identity_frame(b"jpeg-0") is None  # not collecting
    assert live.collect_identity(3) == {"type": "identity_collecting", "frames": 3 + IDENTITY_EXTRA_FRAMES}
    assert live.frames_needed
    batches = [live.identity_frame(f"jpeg-{i}".encode()) for i in range(1, 7)]
    assert batches[:4] == [None] * 4
    assert batches[4] == [f"jpeg-{i}".encode() for i in range(1, 6)]
    assert batches[5] is None and not live.frames_needed  # collection is over


@pytest.mark.parametrize(
    ("state", "passed"),
    [
        (SessionState.LIVENESS, True),
        (SessionState.QUESTIONS, True),
        (SessionState.IDENTITY, False),
        (SessionState.FAILED, False),
    ],
)
def test_the_identity_result_says_whether_the_session_moved_on(state: SessionState, passed: bool) -> None:
    snapshot = Event(EventKind.ARTIFACT_STORED, AT, {"role": "face_snapshot"})
    checked = Event(EventKind.IDENTITY_ATTEMPT_FAILED, AT, {"attempt": 1, "code": "not_the_signer"})
    live = session()
    result, shown = live.identity_verified(view(state, snapshot, checked))
    assert result == {"type": "identity_result", "passed": passed, "attempt": 1, "code": "not_the_signer"}
    assert isinstance(shown, ShowState) and live.state is state


# --- liveness --------------------------------------------------------------------------------------

STEPS = [ChallengeStep(LivenessAction.BLINK, 0.0, 3.0), ChallengeStep(LivenessAction.NOD, 3.0, 6.0)]


def test_a_challenge_runs_from_its_first_frame_to_the_end_of_its_last_step() -> None:
    live = session()
    assert live.challenge_frame(1.0) is None  # no challenge
    assert live.start_challenge(STEPS) == {
        "type": "challenge",
        "steps": [
            {"action": "blink", "start_s": 0.0, "end_s": 3.0},
            {"action": "nod", "start_s": 3.0, "end_s": 6.0},
        ],
    }
    assert live.frames_needed
    with_face, without = image(), image()
    assert live.challenge_frame(10.0) == SampleChallenge(0.0)  # its clock starts at its first frame
    live.challenge_sample(Sample(0.0, face()), with_face)
    assert live.challenge_frame(15.9) == SampleChallenge(pytest.approx(5.9))
    live.challenge_sample(Sample(5.9, None), without)  # no face: not kept as the evidence frame
    over = live.challenge_frame(16.0)
    assert isinstance(over, ChallengeOver)
    assert over.steps == STEPS and [s.t for s in over.samples] == [0.0, 5.9] and over.frame is with_face
    assert live.challenge_frame(16.1) is None and not live.frames_needed


@pytest.mark.parametrize(
    ("state", "passed"),
    [(SessionState.QUESTIONS, True), (SessionState.LIVENESS, False), (SessionState.FAILED, False)],
)
def test_the_liveness_result_says_whether_the_session_moved_on(state: SessionState, passed: bool) -> None:
    judged = Event(EventKind.LIVENESS_PASSED, AT, {"mode": "action", "frames": 60})
    result, shown = session().liveness_judged(view(state, judged))
    assert result == {"type": "liveness_result", "passed": passed, "mode": "action", "frames": 60}
    assert isinstance(shown, ShowState) and shown.view.state == state.value


# --- monitoring ------------------------------------------------------------------------------------


def test_faces_are_monitored_while_recording_until_the_session_closes_under_the_connection() -> None:
    live = session()
    assert not live.monitoring  # nothing shown yet
    live.show(view(SessionState.CONSENT))
    assert not live.monitoring  # nothing is recorded before consent
    live.show(view(SessionState.QUESTIONS))
    assert live.monitoring
    live.monitoring_closed()
    assert not live.monitoring and live.state is None
    blind = session(vision=False)
    blind.show(view(SessionState.QUESTIONS))
    assert not blind.monitoring


def test_warnings_tell_the_page_when_the_condition_began_and_how_long_it_took() -> None:
    warnings = [
        FaceWarning(WarningKind.NO_FACE, 3.004, 4.512),
        FaceWarning(WarningKind.SEVERAL_FACES, 7.0, 8.0),
    ]
    assert session().warned(warnings) == [
        {"type": "warning", "warning": "no_face", "since_s": 3.0, "after_s": 1.51},
        {"type": "warning", "warning": "several_faces", "since_s": 7.0, "after_s": 1.0},
    ]


# --- frames ----------------------------------------------------------------------------------------


def test_a_frame_is_its_capture_time_and_jpeg_and_times_count_from_the_first() -> None:
    assert read_frame(b"12345678") is None  # no room for an image
    live = session()
    first = read_frame(struct.pack("<Q", 1_795_000_000_000) + b"\xff\xd8jpeg")
    assert first is not None and first.jpeg == b"\xff\xd8jpeg"
    later = read_frame(struct.pack("<Q", 1_795_000_001_500) + b"\xff\xd8")
    assert later is not None
    assert live.frame_time(first) == 0.0 and live.frame_time(later) == 1.5
    assert live.first_frame_ms == 1_795_000_000_000


def test_a_monitoring_frame_that_waited_too_long_is_skipped_when_a_newer_one_waits() -> None:
    clock, live = FakeClock(), session()
    live.queue_frame(b"f1", clock.now)
    live.queue_frame(b"f2", clock.tick(0.2))
    live.queue_frame(b"f3", clock.tick(0.2))
    assert live.next_frame(clock.tick(0.7)) == b"f2"  # f1 waited 1.1 s: skipped; f2 waited 0.9 s
    assert live.next_frame(clock.tick(2.0)) == b"f3"  # the newest is never skipped, however late
    assert live.next_frame(clock.now) is None
    assert live.frames_skipped == 1


def test_frames_a_decision_needs_are_never_skipped() -> None:
    clock, live = FakeClock(), session()
    live.collect_identity(3)
    live.queue_frame(b"id-1", clock.now)
    live.queue_frame(b"id-2", clock.tick(0.1))
    assert live.next_frame(clock.tick(30.0)) == b"id-1"
    assert live.next_frame(clock.now) == b"id-2"
    assert live.frames_skipped == 0


def test_at_most_so_many_frames_wait_and_the_rest_are_counted_when_the_connection_ends() -> None:
    clock, live = FakeClock(), session()
    live.start_challenge(STEPS)  # every frame is needed: none is skipped for lag
    for i in range(MAX_PENDING_FRAMES + 5):
        live.queue_frame(f"f{i}".encode(), clock.tick(0.1))
    assert live.frames_skipped == 5  # the oldest made room
    assert live.next_frame(clock.tick(60.0)) == b"f5"
    live.drop_frames()
    assert live.frames_skipped == 5 + MAX_PENDING_FRAMES - 1
    assert live.next_frame(clock.now) is None


def test_fixed_messages() -> None:
    assert LiveSession.bad_frame() == {
        "type": "error",
        "code": "bad_frame",
        "detail": "the frame is not an image",
    }
    assert LiveSession.ended() == {"type": "ended"}
