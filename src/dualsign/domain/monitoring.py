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
    # with an agent on camera (``expected`` 2): one of the two left, a third face, someone unknown
    PARTY_MISSING = "party_missing"
    EXTRA_FACE = "extra_face"
    UNKNOWN_FACE = "unknown_face"


QUALITY_SECONDS = 3.0  # a quality problem must last this long before the signer is told


@dataclass(frozen=True)
class Observation:
    t: float  # seconds since monitoring began
    faces: int
    signer: bool | None = None  # the main face matches the signer; None: not compared on this frame
    agent: bool | None = None  # with an agent on camera: a face matches the agent (None: not compared)
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
    missing_s: float = 0.0  # with an agent: one of the two off camera
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

    def to_dict(self, participants: tuple[str, ...] = ("signer",)) -> MonitoringFigures:
        figures: MonitoringFigures = {
            "observed_s": round(self.observed_s, 2),
            "face_present_ratio": round(self.face_present_ratio, 4),
            "longest_absence_s": round(self.longest_absence_s, 2),
            "several_faces_s": round(self.several_faces_s, 2),
            "mismatch_s": round(self.mismatch_s, 2),
            "frames": self.frames,
            "warnings": dict(self.warnings),
            "presence": [list(r) for r in self.presence],
        }
        if len(participants) > 1:  # signer-only figures keep the form they always had
            figures["participants"] = list(participants)
            figures["missing_s"] = round(self.missing_s, 2)
        return figures


class FaceMonitor:
    """``expected``: the faces declared on camera, 1 (the signer) or 2 (the signer and the agent)."""

    def __init__(self, thresholds: Monitoring, expected: int = 1) -> None:
        self.thresholds = thresholds
        self.expected = expected
        self._last_agent: bool | None = None
        self.stats = MonitoringStats()
        self._since: dict[WarningKind, float] = {}
        self._raised: set[WarningKind] = set()
        self._last_t: float | None = None
        self._absent_since: float | None = None
        self._last_signer: bool | None = None
        self._last_count = -1

    def _limit(self, kind: WarningKind) -> float:
        t = self.thresholds
        return {
            WarningKind.NO_FACE: t.no_face_seconds,
            WarningKind.SEVERAL_FACES: t.multiple_faces_seconds,
            WarningKind.NOT_THE_SIGNER: t.mismatch_seconds,
            WarningKind.PARTY_MISSING: t.no_face_seconds,
            WarningKind.EXTRA_FACE: t.multiple_faces_seconds,
            WarningKind.UNKNOWN_FACE: t.mismatch_seconds,
        }.get(kind, QUALITY_SECONDS)

    def observe(self, o: Observation) -> list[FaceWarning]:
        if self.expected > 1:
            return self._raise(o, self._observe_pair(o))
        return self._raise(o, self._observe_alone(o))

    def _observe_pair(self, o: Observation) -> dict[WarningKind, bool]:
        """The signer and the agent: both on camera, both known, no one else."""
        dt = self._tick(o)
        s = self.stats
        if o.signer is not None or o.agent is not None:
            self._last_signer, self._last_agent = o.signer, o.agent
        elif o.faces != self._last_count:
            self._last_signer = self._last_agent = None  # who is who is unknown until compared again
        self._last_count = o.faces
        signer, agent = self._last_signer, self._last_agent
        both = o.faces == 2
        # two faces and one of them is not who it should be; one face that is neither of them
        unknown = (both and (signer is False or agent is False)) or (
            o.faces == 1 and signer is False and agent is False
        )
        if o.faces >= 1:
            self._absent_since = None
        else:
            self._absent_since = o.t if self._absent_since is None else self._absent_since
            s.longest_absence_s = max(s.longest_absence_s, o.t - self._absent_since)
        if both and not unknown:
            s.face_present_s += dt
        if o.faces == 1:
            s.missing_s += dt
        if o.faces > 2:
            s.several_faces_s += dt
        if unknown:
            s.mismatch_s += dt
        who = (
            "none"
            if o.faces == 0
            else "several"
            if o.faces > 2
            else "other"
            if unknown
            else "both"
            if both
            else "agent"
            if agent and not signer
            else "signer"
        )
        s.note_presence(o.t, who)
        return {
            WarningKind.NO_FACE: o.faces == 0,
            WarningKind.PARTY_MISSING: o.faces == 1,
            WarningKind.EXTRA_FACE: o.faces > 2,
            WarningKind.UNKNOWN_FACE: unknown,
            WarningKind.FACE_TOO_SMALL: o.faces >= 1 and o.too_small,
            WarningKind.TOO_DARK: o.too_dark,
            WarningKind.BLURRED: o.faces >= 1 and o.blurred,
        }

    def _tick(self, o: Observation) -> float:
        dt = 0.0 if self._last_t is None else max(0.0, o.t - self._last_t)
        self._last_t = o.t
        self.stats.frames += 1
        self.stats.observed_s += dt
        return dt

    def _observe_alone(self, o: Observation) -> dict[WarningKind, bool]:
        dt = self._tick(o)
        s = self.stats
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
        return {
            WarningKind.NO_FACE: o.faces == 0,
            WarningKind.SEVERAL_FACES: o.faces >= 2,
            WarningKind.NOT_THE_SIGNER: mismatch,
            WarningKind.FACE_TOO_SMALL: o.faces >= 1 and o.too_small,
            WarningKind.TOO_DARK: o.too_dark,
            WarningKind.BLURRED: o.faces >= 1 and o.blurred,
        }

    def _raise(self, o: Observation, active: dict[WarningKind, bool]) -> list[FaceWarning]:
        s = self.stats
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
    def building_up(self) -> frozenset[WarningKind]:
        """Conditions under way that have not lasted their threshold yet: a warning may be due on one of
        the next frames."""
        return frozenset(self._since) - self._raised

    @property
    def active(self) -> frozenset[WarningKind]:
        """Conditions that have been warned about and not cleared yet."""
        return frozenset(self._raised)
