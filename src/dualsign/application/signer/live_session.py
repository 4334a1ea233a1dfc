"""The live session of one signer connection, without sockets, threads or clocks.

``api/live.py`` is the socket: it receives the page's messages, runs the use cases and the engines off
the event loop, and sends what this class says to send. ``LiveSession`` holds the connection's rules
and state and never waits: it is told what arrived (control messages, camera frames with their capture
times, what the engines found in a frame, the views the use cases returned) and, where it matters, the
time on the adapter's monotonic clock; it answers with the messages for the page and what to do next.

What it decides:

- Control messages (``read_control``): ``listen``, ``stop`` and ``repeat`` apply at once; any other
  first lets the frames sent before it be handled, so that it applies in the page's order. Text that
  is not a JSON object of at most ``MAX_CONTROL_CHARS`` is answered and the connection closed (1007);
  an unknown type is answered and the connection stays (so is ``stop`` with no answer window open).
- An answer window, opened by ``listen`` with the capture that hears it. While no speech has started in
  a window whose question allows a nod, frames are sampled for one (``domain.liveness.nods``). The
  verdict of the answer heard so far is previewed (``provisional``) as soon as the capture's
  speculative transcript is ready in the closing silence, withdrawn if the signer speaks again, and
  recorded (the final ``verdict``) when the end of the answer is confirmed.
- Identity, only in the identity state: the template's minimum of good frames and
  ``IDENTITY_EXTRA_FRAMES`` more are collected, then verified together.
- A liveness challenge: its clock starts at the first frame after it was issued; every frame before the
  last step's end is sampled (the last one with a face is kept as evidence); the first frame after it
  closes the challenge.
- Face monitoring: in the recording states only, and no more once the session closed under the
  connection (it was signed over HTTP, cancelled or expired).
- Frames are handled one at a time. A frame a decision needs (identity, a challenge, a nod window)
  always waits its turn; a frame that only feeds monitoring is skipped, and counted, when it has waited
  longer than the lag and a newer one waits; at most ``MAX_PENDING_FRAMES`` wait.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Generic, Protocol, TypeVar

from dualsign.application.signer.flow import AnswerPreview, SignerView
from dualsign.domain.liveness import ChallengeStep, Sample, nods
from dualsign.domain.matching import heard_text
from dualsign.domain.monitoring import FaceWarning
from dualsign.domain.states import RECORDING_STATES, EventKind, SessionState
from dualsign.engines.vision_base import Image

IDENTITY_EXTRA_FRAMES = 2  # frames collected beyond the template's minimum of good ones
MAX_PENDING_FRAMES = 150  # 15 s of a challenge at 10 fps: beyond, the oldest is skipped
MAX_CONTROL_CHARS = 4096  # a control message is a few fields: anything longer is not one
BAD_MESSAGE_CLOSE = 1007  # WebSocket close code: data inconsistent with its type

# the events that decide an identity check or a liveness challenge (their payload goes to the page)
IDENTITY_RESULTS = frozenset(
    {EventKind.IDENTITY_VERIFIED, EventKind.IDENTITY_ATTEMPT_FAILED, EventKind.IDENTITY_FAILED}
)
LIVENESS_RESULTS = frozenset(
    {EventKind.LIVENESS_PASSED, EventKind.LIVENESS_ATTEMPT_FAILED, EventKind.LIVENESS_FAILED}
)

Message = dict[str, object]  # a JSON message for the page


@dataclass(frozen=True)
class ShowState:
    """Send the page the session's state as ``view`` has it (``api.schemas.signer_state``)."""

    view: SignerView


Output = Message | ShowState


# --- control messages ------------------------------------------------------------------------------


class Control(StrEnum):
    LISTEN = "listen"  # open an answer window
    STOP = "stop"  # the answer is over: judge what was heard
    REPEAT = "repeat"  # play the question again
    STATE = "state"  # send the state
    IDENTITY = "identity"  # collect frames for the identity check
    LIVENESS = "liveness"  # issue a liveness challenge
    END = "end"  # the page is done: record the monitoring figures, then ``ended``

    @property
    def waits_for_frames(self) -> bool:
        """Applied after the frames the page sent before it (the answer window's own ones at once)."""
        return self not in (Control.LISTEN, Control.STOP, Control.REPEAT)


@dataclass(frozen=True)
class UnknownControl:
    """A JSON object of a type this channel does not know: answered, and the connection stays."""

    kind: object
    waits_for_frames: ClassVar[bool] = True

    def error(self) -> Message:
        return {"type": "error", "code": "unknown_message", "detail": f"unknown type {self.kind!r}"}


@dataclass(frozen=True)
class BadMessage:
    """Text that is not a control message at all: answered, then the connection is closed."""

    detail: str
    close_code: ClassVar[int] = BAD_MESSAGE_CLOSE

    def error(self) -> Message:
        return {"type": "error", "code": "bad_message", "detail": self.detail}


def read_control(text: str) -> Control | UnknownControl | BadMessage:
    """A control message, an unknown one, or why the text is not one (one line for the page)."""
    if len(text) > MAX_CONTROL_CHARS:
        return BadMessage(f"a control message is at most {MAX_CONTROL_CHARS} characters")
    try:
        control = json.loads(text)
    except RecursionError:
        return BadMessage("the control message is nested too deeply")
    except ValueError as exc:
        return BadMessage(f"the control message is not JSON: {exc}")
    if not isinstance(control, dict):
        return BadMessage(f"a control message is a JSON object, not {type(control).__name__}")
    kind = control.get("type")
    if isinstance(kind, str) and kind in {c.value for c in Control}:
        return Control(kind)
    return UnknownControl(kind)


# --- frames ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """A camera frame as the page sends it: its capture time on the page's clock, then the JPEG."""

    captured_ms: int
    jpeg: bytes


def read_frame(payload: bytes) -> Frame | None:
    """8-byte little-endian capture time (ms) and the JPEG; None when there is no room for both."""
    if len(payload) < 9:
        return None
    (captured_ms,) = struct.unpack("<Q", payload[:8])
    return Frame(captured_ms, payload[8:])


@dataclass(frozen=True)
class SampleChallenge:
    """Sample this frame for the liveness challenge, ``t`` seconds into it."""

    t: float


@dataclass(frozen=True)
class ChallengeOver:
    """The challenge's time is up: judge it on these samples, with this frame as evidence."""

    steps: list[ChallengeStep]
    samples: list[Sample]
    frame: Image | None


@dataclass(frozen=True)
class Nod:
    """A nod seen in an answer window: the answer is yes."""

    frames: int
    amplitude: float


class Capture(Protocol):
    """What the session needs of the capture that hears an answer window (``speech.AnswerCapture``)."""

    @property
    def started(self) -> bool: ...


C = TypeVar("C", bound=Capture)


@dataclass
class _Window(Generic[C]):
    capture: C
    nod_samples: list[Sample] | None  # None: the question allows no nod


@dataclass
class _Challenge:
    steps: list[ChallengeStep]
    start_s: float | None = None  # the connection's time of the challenge's first frame
    samples: list[Sample] = field(default_factory=list)
    frame: Image | None = None  # the last sampled frame with a face


@dataclass
class _Pending:
    payload: bytes
    needed: bool  # a decision needs it: never skipped
    arrived: float  # on the adapter's monotonic clock


@dataclass
class LiveSession(Generic[C]):
    vision: bool  # the service has face engines: nods and monitoring need them
    frame_lag_s: float  # a monitoring-only frame that waited longer is skipped when a newer one waits
    state: SessionState | None = None  # as last shown; None before, and once the session closed under us
    first_frame_ms: int | None = None  # the page's clock at the connection's t = 0
    frames_skipped: int = 0
    _window: _Window[C] | None = None
    _identity_frames: list[bytes] | None = None
    _identity_wanted: int = 0
    _challenge: _Challenge | None = None
    _pending: deque[_Pending] = field(default_factory=deque)

    def show(self, view: SignerView) -> ShowState:
        self.state = SessionState(view.state)
        return ShowState(view)

    # --- answers -----------------------------------------------------------------------------------
    @property
    def capture(self) -> C | None:
        """The capture of the open answer window (audio outside a window is not an answer)."""
        return self._window.capture if self._window is not None else None

    def listen(self, capture: C, nod_allowed: bool) -> Message:
        self._window = _Window(capture, [] if nod_allowed else None)
        return {"type": "listening", "nod_allowed": nod_allowed}

    def speech_started(self, at_ms: int) -> Message:
        return {"type": "speech_started", "at_ms": at_ms}

    def take_capture(self) -> C | None:
        """Close the answer window (its audio is over: a nod no longer answers); its capture to judge."""
        window, self._window = self._window, None
        return window.capture if window is not None else None

    def stop(self) -> C | Message:
        """``stop``: the capture to judge, or, with no answer window open, the unknown-message error."""
        capture = self.take_capture()
        return capture if capture is not None else UnknownControl(Control.STOP.value).error()

    def repeat(self) -> None:
        self._window = None

    def previewed(self, capture: C, preview: AnswerPreview) -> Message | None:
        """The verdict of the answer heard so far, shown while its end is confirmed (``provisional``);
        None when that window is no longer open."""
        if self._window is None or self._window.capture is not capture:
            return None
        return {
            "type": "verdict",
            "provisional": True,
            "question_id": preview.question_id,
            "attempt": preview.attempt,
            "transcript": preview.transcript,
            "heard": heard_text(preview.transcript, preview.verdict, preview.explanation),
            "verdict": preview.verdict,
            "explanation": preview.explanation,
        }

    @staticmethod
    def withdrawn() -> Message:
        """The signer spoke again after a preview: the answer goes on, the shown verdict does not hold."""
        return {"type": "verdict_withdrawn"}

    def spoken_verdict(self, view: SignerView, endpoint_wait_ms: int, compute_ms: float) -> Message:
        verdict = next((dict(e.payload) for e in view.events if e.kind is EventKind.ANSWER_JUDGED), {})
        transcript, judged = verdict.get("transcript"), verdict.get("verdict")
        return {
            "type": "verdict",
            "provisional": False,
            "question_id": verdict.get("question_id"),
            "attempt": verdict.get("attempt"),
            "transcript": transcript,
            "heard": heard_text(transcript, judged, verdict.get("explanation")),
            "verdict": judged,
            "explanation": verdict.get("explanation"),
            "endpoint_wait_ms": endpoint_wait_ms,
            "previewed_ms": verdict.get("previewed_ms"),
            "compute_ms": compute_ms,
        }

    @property
    def in_nod_window(self) -> bool:
        """An answer window that accepts a nod is open and no speech has started in it."""
        w = self._window
        return w is not None and w.nod_samples is not None and not w.capture.started

    def nod_sample(self, sample: Sample) -> Nod | None:
        """Add a frame's sample to the nod window; a nod closes the window."""
        w = self._window
        if w is None or w.nod_samples is None:
            return None
        w.nod_samples.append(sample)
        nod = nods(w.nod_samples)
        if nod is None:
            return None
        self._window = None
        return Nod(len(w.nod_samples), nod.measured)

    def nod_accepted(self, view: SignerView) -> list[Output]:
        verdict: Message = {
            "type": "verdict",
            "verdict": "ACCEPT",
            "transcript": None,
            "input": "nod",
            "explanation": {"rule": "nod"},
        }
        return [verdict, self.show(view)]

    # --- identity ----------------------------------------------------------------------------------
    def identity_refusal(self, view: SignerView) -> Message | None:
        """Why ``identity`` is refused in the state ``view`` shows (None: frames may be collected)."""
        if SessionState(view.state) is SessionState.IDENTITY:
            return None
        detail = f"no identity check in state {view.state!r}"
        return {"type": "error", "code": "illegal_transition", "detail": detail}

    def collect_identity(self, min_good_frames: int) -> Message:
        self._identity_wanted = min_good_frames + IDENTITY_EXTRA_FRAMES
        self._identity_frames = []
        return {"type": "identity_collecting", "frames": self._identity_wanted}

    def identity_frame(self, jpeg: bytes) -> list[bytes] | None:
        """Collect a frame for identity; once enough are, all of them to verify (collection ends)."""
        if self._identity_frames is None:
            return None
        self._identity_frames.append(jpeg)
        if len(self._identity_frames) < self._identity_wanted:
            return None
        frames, self._identity_frames = self._identity_frames, None
        return frames

    def identity_verified(self, view: SignerView) -> list[Output]:
        result = next((dict(e.payload) for e in view.events if e.kind in IDENTITY_RESULTS), {})
        passed = SessionState(view.state) not in (SessionState.IDENTITY, SessionState.FAILED)
        return [{"type": "identity_result", "passed": passed, **result}, self.show(view)]

    # --- liveness ----------------------------------------------------------------------------------
    def start_challenge(self, steps: Sequence[ChallengeStep]) -> Message:
        self._challenge = _Challenge(list(steps))
        listed = [{"action": s.action.value, "start_s": s.start_s, "end_s": s.end_s} for s in steps]
        return {"type": "challenge", "steps": listed}

    def challenge_frame(self, t: float) -> SampleChallenge | ChallengeOver | None:
        """What a frame at connection time ``t`` is to the challenge: a sample, its end, or nothing."""
        c = self._challenge
        if c is None:
            return None
        if c.start_s is None:
            c.start_s = t
        rel = t - c.start_s
        if rel < c.steps[-1].end_s:
            return SampleChallenge(rel)
        self._challenge = None
        return ChallengeOver(c.steps, c.samples, c.frame)

    def challenge_sample(self, sample: Sample, image: Image) -> None:
        c = self._challenge
        if c is None:
            return
        c.samples.append(sample)
        if sample.features is not None:
            c.frame = image

    def liveness_judged(self, view: SignerView) -> list[Output]:
        result = next((dict(e.payload) for e in view.events if e.kind in LIVENESS_RESULTS), {})
        passed = SessionState(view.state) not in (SessionState.LIVENESS, SessionState.FAILED)
        return [{"type": "liveness_result", "passed": passed, **result}, self.show(view)]

    # --- face monitoring ---------------------------------------------------------------------------
    @property
    def monitoring(self) -> bool:
        """Frames feed face monitoring: the session is recording and the service sees faces."""
        return self.vision and self.state in RECORDING_STATES

    def monitoring_closed(self) -> None:
        """The session closed under the connection: later frames are not monitored (nor a failure)."""
        self.state = None

    def warned(self, warnings: Sequence[FaceWarning]) -> list[Message]:
        return [
            {
                "type": "warning",
                "warning": w.kind.value,
                "since_s": round(w.since, 2),
                "after_s": round(w.raised_at - w.since, 2),
            }
            for w in warnings
        ]

    # --- frames ------------------------------------------------------------------------------------
    def frame_time(self, frame: Frame) -> float:
        """Seconds since the connection's first frame, on the page's clock."""
        if self.first_frame_ms is None:
            self.first_frame_ms = frame.captured_ms
        return (frame.captured_ms - self.first_frame_ms) / 1000

    @property
    def frames_needed(self) -> bool:
        """A decision waits for frames: identity collection, a challenge, a nod window."""
        return self._identity_frames is not None or self._challenge is not None or self.in_nod_window

    def queue_frame(self, payload: bytes, now: float) -> None:
        """A frame arrived while another is being handled: it waits (the oldest is skipped when full)."""
        if len(self._pending) >= MAX_PENDING_FRAMES:
            self._pending.popleft()
            self.frames_skipped += 1
        self._pending.append(_Pending(payload, self.frames_needed, now))

    def next_frame(self, now: float) -> bytes | None:
        """The next waiting frame to handle (skipping stale monitoring-only ones), or None."""
        while self._pending:
            frame = self._pending.popleft()
            if not frame.needed and self._pending and now - frame.arrived > self.frame_lag_s:
                self.frames_skipped += 1
                continue
            return frame.payload
        return None

    def drop_frames(self) -> None:
        """The connection ends: frames still waiting are skipped."""
        self.frames_skipped += len(self._pending)
        self._pending.clear()

    @staticmethod
    def bad_frame() -> Message:
        return {"type": "error", "code": "bad_frame", "detail": "the frame is not an image"}

    @staticmethod
    def ended() -> Message:
        return {"type": "ended"}
