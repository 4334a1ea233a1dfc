"""Post-hoc face analysis of the whole recording, reconciled with what was decided live.

The uploaded recording (webm, mp4 — anything FFmpeg decodes) is the primary evidence: it is sampled at
the template's rate, run through the same monitoring rules, and its statistics are compared with the
live ones. Disagreements beyond a tolerance are listed for a reviewer; none is silently resolved.

Looking at every other sampled frame first: the faces are detected on frames 0, 2, 4, …; where two
such looks differ (``shows_the_same``: number of faces, quality problems, a lone face that moved or is
another face), the frame between them is looked at and judged too, so every change of what the camera
shows is placed to one sampling interval, as when every frame is analysed. A condition seen on one
sampled frame only, between two looks that agree, is not seen: no warning can come of it (a warning
needs its condition on two frames at least, ``domain.monitoring``), and the figures differ by at most
that one interval. A steady recording costs about half the detections.
"""

from __future__ import annotations

from dataclasses import dataclass

from dualsign.application.perception.vision import REFRESH_S, FrameAnalysis, LiveMonitor, shows_the_same
from dualsign.domain.monitoring import FaceWarning
from dualsign.domain.templates import Template
from dualsign.engines.vision_base import Embedding, Image, VisionEngines
from dualsign.media.video import sample_frames

TOLERANCE = {"face_present_ratio": 0.05, "several_faces_s": 1.0, "mismatch_s": 1.5, "longest_absence_s": 1.5}


@dataclass(frozen=True)
class RecordingAnalysis:
    stats: dict[str, object]
    warnings: list[FaceWarning]
    frames: int  # sampled at the template's rate
    looked_at: int = 0  # of which the faces were detected on


def analyze_recording(
    recording: bytes,
    template: Template,
    engines: VisionEngines,
    reference: Embedding | None,
    agent_reference: Embedding | None = None,  # the agent on camera too: the rules for two faces
) -> RecordingAnalysis:
    # one recording at a time: its refreshes need no spreading, and the same recording gives the same figures
    monitor = LiveMonitor(
        template.monitoring, engines, reference, agent_reference=agent_reference, first_refresh_s=REFRESH_S
    )
    warnings: list[FaceWarning] = []
    frames = looked_at = 0
    last: FrameAnalysis | None = None  # the last frame looked at
    between: tuple[float, Image] | None = None  # the sampled frame after it, not looked at yet

    def judge(t: float, image: Image, look: FrameAnalysis | None) -> None:
        nonlocal looked_at
        looked_at += 1
        _, raised = monitor.observe(image, t, look)
        warnings.extend(raised)

    for t, image in sample_frames(recording, fps=template.monitoring.sample_fps):
        frames += 1
        if frames % 2 == 0:
            between = (t, image)
            continue
        look = monitor.look(image)
        if between is not None and (last is None or not shows_the_same(last, look)):
            judge(*between, None)
        judge(t, image, look)
        last, between = look, None
    if between is not None:  # the recording ends between two looks
        judge(*between, None)
    return RecordingAnalysis(
        dict(monitor.monitor.stats.to_dict(monitor.participants)), warnings, frames, looked_at
    )


@dataclass(frozen=True)
class Disagreement:
    measure: str
    live: float
    recording: float

    def to_dict(self) -> dict[str, object]:
        return {"measure": self.measure, "live": self.live, "recording": self.recording}


def reconcile(live: dict[str, object], recording: dict[str, object]) -> list[Disagreement]:
    """Measures on which the live monitoring and the recording differ by more than the tolerance."""
    out = []
    for measure, tolerance in TOLERANCE.items():
        a, b = live.get(measure), recording.get(measure)
        if isinstance(a, int | float) and isinstance(b, int | float) and abs(float(a) - float(b)) > tolerance:
            out.append(Disagreement(measure, float(a), float(b)))
    return out
