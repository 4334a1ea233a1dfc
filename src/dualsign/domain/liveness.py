"""Action liveness: randomized challenges judged from 68-point landmark sequences.

Features are ratios that a flat picture cannot change by being moved: eye and mouth openness are
divided by the face's own vertical/horizontal proportion, head yaw and pitch are positions of the nose
tip relative to the eyes and mouth along the face's own axes. Tilting, turning or shaking a printed
photo scales these consistently, so they stay put; only a real face blinking, opening its mouth,
turning or nodding moves them. Frames repeated exactly (a replayed loop) fail the challenge.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from dualsign.domain.templates import LivenessAction

Point = tuple[float, float]

RIGHT_EYE = range(36, 42)
LEFT_EYE = range(42, 48)
NOSE_TIP = 30


@dataclass(frozen=True)
class FaceFeatures:
    """Coordinates in the face's own frame: x along the eyes (one inter-ocular distance), y from the
    eye line to the mouth line (one eye–mouth distance). Any flat picture of a face, however it is
    moved, tilted or sheared in front of the camera (an affine map), has the same coordinates."""

    eye_open: float  # lid gap, in eye–mouth units
    mouth_open: float  # inner lip gap, in eye–mouth units
    yaw: float  # nose tip along the eyes from their midpoint (+: toward image right)
    pitch: float  # nose tip from the eye line (0) toward the mouth line (1)


def _mean(points: Sequence[Point]) -> Point:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def features(points: Sequence[Point]) -> FaceFeatures:
    if len(points) != 68:
        raise ValueError(f"68 landmarks expected, got {len(points)}")
    re = _mean([points[i] for i in RIGHT_EYE])
    le = _mean([points[i] for i in LEFT_EYE])
    eye_mid = ((re[0] + le[0]) / 2, (re[1] + le[1]) / 2)
    mouth_mid = _mean([points[48], points[54]])
    ex, ey = le[0] - re[0], le[1] - re[1]
    dx, dy = mouth_mid[0] - eye_mid[0], mouth_mid[1] - eye_mid[1]
    det = ex * dy - ey * dx
    if abs(det) < 1e-6:
        raise ValueError("degenerate landmarks: eyes and mouth in a line")

    def coords(vx: float, vy: float) -> tuple[float, float]:
        return ((dy * vx - dx * vy) / det, (ex * vy - ey * vx) / det)

    def gap(upper: Sequence[int], lower: Sequence[int]) -> float:
        u = _mean([points[i] for i in upper])
        lo = _mean([points[i] for i in lower])
        return coords(lo[0] - u[0], lo[1] - u[1])[1]

    nose = points[NOSE_TIP]
    yaw, pitch = coords(nose[0] - eye_mid[0], nose[1] - eye_mid[1])
    eyes = (gap((37, 38), (41, 40)) + gap((43, 44), (47, 46))) / 2
    return FaceFeatures(eye_open=eyes, mouth_open=gap((61, 62, 63), (67, 66, 65)), yaw=yaw, pitch=pitch)


@dataclass(frozen=True)
class ChallengeStep:
    action: LivenessAction
    start_s: float
    end_s: float


def issue_challenge(
    pool: Sequence[LivenessAction], count: int, window_s: float, rng: random.Random
) -> list[ChallengeStep]:
    """``count`` distinct actions in a random order, one window each, back to back."""
    actions = rng.sample(sorted(set(pool)), count)
    return [ChallengeStep(a, i * window_s, (i + 1) * window_s) for i, a in enumerate(actions)]


@dataclass(frozen=True)
class Sample:
    t: float  # seconds since the challenge began
    features: FaceFeatures | None  # None: no single face on this frame
    frame_digest: str = ""  # of the face region; exact repeats betray a replayed loop


@dataclass(frozen=True)
class StepResult:
    action: LivenessAction
    passed: bool
    reason: str
    measured: float  # the number that decided it


BLINK_DROP = 0.65  # eye openness must fall below this share of its median …
BLINK_REOPEN = 0.85  # … and come back above this share
MOUTH_OPEN = 0.3  # open enough …
MOUTH_CHANGE = 0.15  # … and clearly more than it was
TURN = 0.15
NOD = 0.08
MIN_FACE_SHARE = 0.7
MAX_REPEATED_SHARE = 0.25


def _smooth(values: Sequence[float]) -> list[float]:
    """Median of each 3-frame neighbourhood: a head movement lasts many frames, a landmark glitch one."""
    if len(values) < 3:
        return list(values)
    inner = [statistics.median(values[i - 1 : i + 2]) for i in range(1, len(values) - 1)]
    return [values[0], *inner, values[-1]]


def _sustained(deltas: Sequence[float], level: float) -> int:
    """The longest run of consecutive frames at or beyond ``level`` (same sign as ``level``)."""
    best = run = 0
    for d in deltas:
        run = run + 1 if (d >= level if level > 0 else d <= level) else 0
        best = max(best, run)
    return best


SUSTAIN_FRAMES = 3  # a head movement shows on several consecutive frames; a landmark glitch does not


def judge_step(step: ChallengeStep, samples: Sequence[Sample]) -> StepResult:
    inside = [s for s in samples if step.start_s <= s.t < step.end_s]
    seen = [s.features for s in inside if s.features is not None]
    a = step.action
    if len(inside) < 4 or len(seen) < MIN_FACE_SHARE * len(inside):
        return StepResult(a, False, f"face visible on {len(seen)} of {len(inside)} frames", 0.0)
    digests = [s.frame_digest for s in inside if s.frame_digest]
    repeated = len(digests) - len(set(digests))
    if digests and repeated / len(digests) > MAX_REPEATED_SHARE:
        return StepResult(
            a,
            False,
            f"{repeated} of {len(digests)} frames are exact repeats (replay)",
            repeated / len(digests),
        )
    if a is LivenessAction.BLINK:
        eyes = [f.eye_open for f in seen]
        typical = statistics.median(eyes)
        low = min(eyes)
        i = eyes.index(low)
        reopened = any(e >= BLINK_REOPEN * typical for e in eyes[i + 1 :])
        ok = low <= BLINK_DROP * typical and reopened
        return StepResult(a, ok, "eyes closed and reopened" if ok else "no blink", round(low / typical, 3))
    if a is LivenessAction.OPEN_MOUTH:
        mouth = [f.mouth_open for f in seen]
        ok = max(mouth) >= MOUTH_OPEN and max(mouth) - min(mouth) >= MOUTH_CHANGE
        return StepResult(a, ok, "mouth opened" if ok else "mouth did not open", round(max(mouth), 3))
    if a in (LivenessAction.TURN_LEFT, LivenessAction.TURN_RIGHT):
        yaws = _smooth([f.yaw for f in seen])
        start = statistics.median(yaws[:3])
        # the signer's left is the camera image's right (+yaw) on an unmirrored frame
        swing = (
            max(y - start for y in yaws) if a is LivenessAction.TURN_LEFT else max(start - y for y in yaws)
        )
        ok = swing >= TURN
        return StepResult(a, ok, "head turned" if ok else "head did not turn that way", round(swing, 3))
    pitches = _smooth([f.pitch for f in seen])
    start = statistics.median(pitches[:3])
    peak = max(range(len(pitches)), key=lambda k: abs(pitches[k] - start))
    back = any(abs(p - start) <= NOD / 2 for p in pitches[peak + 1 :])
    amplitude = abs(pitches[peak] - start)
    direction = 1.0 if pitches[peak] >= start else -1.0
    held = _sustained([direction * (p - start) for p in pitches], NOD / 2)
    ok = amplitude >= NOD and back and held >= SUSTAIN_FRAMES
    return StepResult(a, ok, "nodded" if ok else "no nod (down and back up)", round(amplitude, 3))


def judge_challenge(steps: Sequence[ChallengeStep], samples: Sequence[Sample]) -> list[StepResult]:
    return [judge_step(step, samples) for step in steps]


def nods(samples: Sequence[Sample], window_s: float = 2.0) -> StepResult | None:
    """A nod in the last ``window_s`` of ``samples`` (the accessible answer to questions that allow it)."""
    if not samples:
        return None
    end = samples[-1].t
    step = ChallengeStep(LivenessAction.NOD, end - window_s, end + 1e-6)
    result = judge_step(step, samples)
    return result if result.passed else None
