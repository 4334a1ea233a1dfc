"""Post-hoc face analysis of the whole recording, reconciled with what was decided live.

The uploaded recording (webm, mp4 — anything FFmpeg decodes) is the primary evidence: it is sampled at
the template's rate, run through the same monitoring rules, and its statistics are compared with the
live ones. Disagreements beyond a tolerance are listed for a reviewer; none is silently resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

from dualsign.application.perception.vision import LiveMonitor
from dualsign.domain.monitoring import FaceWarning
from dualsign.domain.templates import Template
from dualsign.engines.vision_base import Embedding, VisionEngines
from dualsign.media.video import sample_frames

TOLERANCE = {"face_present_ratio": 0.05, "several_faces_s": 1.0, "mismatch_s": 1.5, "longest_absence_s": 1.5}


@dataclass(frozen=True)
class RecordingAnalysis:
    stats: dict[str, object]
    warnings: list[FaceWarning]
    frames: int


def analyze_recording(
    recording: bytes,
    template: Template,
    engines: VisionEngines,
    reference: Embedding | None,
    agent_reference: Embedding | None = None,  # the agent on camera too: the rules for two faces
) -> RecordingAnalysis:
    monitor = LiveMonitor(template.monitoring, engines, reference, agent_reference=agent_reference)
    warnings: list[FaceWarning] = []
    frames = 0
    for t, image in sample_frames(recording, fps=template.monitoring.sample_fps):
        frames += 1
        _, raised = monitor.observe(image, t)
        warnings += raised
    return RecordingAnalysis(dict(monitor.monitor.stats.to_dict(monitor.participants)), warnings, frames)


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
