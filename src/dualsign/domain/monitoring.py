"""Face monitoring throughout the recording: warnings as conditions start, statistics for QC.

Fed one observation per sampled frame (default 2 fps). A warning is raised once when a condition has
lasted its threshold (from the template) and again only after the condition cleared; statistics cover
the whole observed time. Pure: the caller supplies times and what the engines saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from dualsign.domain.event_payloads import MonitoringFigures
from dualsign.domain.templates import Monitoring


class WarningKind(StrEnum):
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    NOT_THE_SIGNER = "not_the_signer"
    FACE_TOO_SMALL = "face_too_small"
    TOO_DARK = "too_dark"
    BLURRED = "blurred"


QUALITY_SECONDS = 3.0  # a quality problem must last this long before the signer is told


@dataclass(frozen=True)
class Observation:
    t: float  # seconds since monitoring began
    faces: int
    signer: bool | None = None  # the main face matches the signer; None: not compared on this frame
    distance: float | None = None
    too_small: bool = False
    too_dark: bool = False
    blurred: bool = False


MAX_RUNS = 2000  # presence runs kept per connection (a run changes only when who is on camera changes)


@dataclass(frozen=True)
class FaceWarning:
    kind: WarningKind
    since: float  # when the condition began
    raised_at: float


@dataclass
class MonitoringStats:
    observed_s: float = 0.0
    face_present_s: float = 0.0
    several_faces_s: float = 0.0
    mismatch_s: float = 0.0
    longest_absence_s: float = 0.0
    frames: int = 0
    warnings: dict[str, int] = field(default_factory=dict)
    presence: list[list[Any]] = field(default_factory=list)  # runs [start_s, end_s, who] for the chart

    def note_presence(self, t: float, who: str) -> None:
        """Extend the run of the same observation, or start a new one (at most MAX_RUNS are kept)."""
        if self.presence and self.presence[-1][2] == who:
            self.presence[-1][1] = round(t, 2)
        elif len(self.presence) < MAX_RUNS:
            if self.presence:
                self.presence[-1][1] = round(t, 2)
            self.presence.append([round(t, 2), round(t, 2), who])

    @property
    def face_present_ratio(self) -> float:
        return self.face_present_s / self.observed_s if self.observed_s else 0.0

    def to_dict(self) -> MonitoringFigures:
        return {
            "observed_s": round(self.observed_s, 2),
            "face_present_ratio": round(self.face_present_ratio, 4),
            "longest_absence_s": round(self.longest_absence_s, 2),
            "several_faces_s": round(self.several_faces_s, 2),
            "mismatch_s": round(self.mismatch_s, 2),
            "frames": self.frames,
            "warnings": dict(self.warnings),
            "presence": [list(r) for r in self.presence],
        }


class FaceMonitor:
    def __init__(self, thresholds: Monitoring) -> None:
        self.thresholds = thresholds
        self.stats = MonitoringStats()
        self._since: dict[WarningKind, float] = {}
        self._raised: set[WarningKind] = set()
        self._last_t: float | None = None
        self._absent_since: float | None = None
        self._last_signer: bool | None = None

    def _limit(self, kind: WarningKind) -> float:
        t = self.thresholds
        return {
            WarningKind.NO_FACE: t.no_face_seconds,
            WarningKind.SEVERAL_FACES: t.multiple_faces_seconds,
            WarningKind.NOT_THE_SIGNER: t.mismatch_seconds,
        }.get(kind, QUALITY_SECONDS)

    def observe(self, o: Observation) -> list[FaceWarning]:
        dt = 0.0 if self._last_t is None else max(0.0, o.t - self._last_t)
        self._last_t = o.t
        s = self.stats
        s.frames += 1
        s.observed_s += dt
        if o.signer is not None:
            self._last_signer = o.signer
        elif o.faces != 1:
            self._last_signer = None  # no lone face: who it is is unknown until the next comparison
        mismatch = o.faces == 1 and self._last_signer is False
        if o.faces >= 1:
            s.face_present_s += dt
            self._absent_since = None
        else:
            self._absent_since = o.t if self._absent_since is None else self._absent_since
            s.longest_absence_s = max(s.longest_absence_s, o.t - self._absent_since)
        if o.faces >= 2:
            s.several_faces_s += dt
        if mismatch:
            s.mismatch_s += dt
        who = "none" if o.faces == 0 else "several" if o.faces >= 2 else "other" if mismatch else "signer"
        s.note_presence(o.t, who)
        active = {
            WarningKind.NO_FACE: o.faces == 0,
            WarningKind.SEVERAL_FACES: o.faces >= 2,
            WarningKind.NOT_THE_SIGNER: mismatch,
            WarningKind.FACE_TOO_SMALL: o.faces >= 1 and o.too_small,
            WarningKind.TOO_DARK: o.too_dark,
            WarningKind.BLURRED: o.faces >= 1 and o.blurred,
        }
        raised: list[FaceWarning] = []
        for kind, on in active.items():
            if not on:
                self._since.pop(kind, None)
                self._raised.discard(kind)
                continue
            since = self._since.setdefault(kind, o.t)
            if kind not in self._raised and o.t - since >= self._limit(kind):
                self._raised.add(kind)
                s.warnings[kind.value] = s.warnings.get(kind.value, 0) + 1
                raised.append(FaceWarning(kind, since, o.t))
        return raised

    @property
    def active(self) -> frozenset[WarningKind]:
        """Conditions that have been warned about and not cleared yet."""
        return frozenset(self._raised)
