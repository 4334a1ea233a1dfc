"""Whether a prompt was played in full: the page's playback report against the audio that was asked.

The page reports, for each audio part it played (reminder, question), how many seconds of the media it
played and whether playback reached the end. A part counts as played in full when playback ended and
the played time covers the audio's length as the server knows it (less a small tolerance for decoder
rounding); audio the report does not mention was not played. A prompt without audio (no voice
configured) has nothing to play: the quality check judges that separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign.domain.event_payloads import PlaybackItem

TOLERANCE_S = 0.3  # media clocks round to a frame; a report this much short still reached the end
MAX_SECONDS = 600.0


@dataclass(frozen=True)
class PlayedPart:
    sha256: str
    played_s: float
    ended: bool


@dataclass(frozen=True)
class PartAssessment:
    sha256: str
    role: str
    duration_s: float  # the server's figure (0 when unknown, e.g. an operator recording)
    played_s: float
    ended: bool
    full: bool

    def to_payload(self) -> PlaybackItem:
        return {
            "sha256": self.sha256,
            "role": self.role,
            "duration_s": self.duration_s,
            "played_s": self.played_s,
            "ended": self.ended,
            "full": self.full,
        }


def parse_report(parts: Sequence[Mapping[str, Any]]) -> list[PlayedPart]:
    """The reported parts, checked: each names a 64-hex digest, a played time and whether it ended."""
    problems: list[FieldProblem] = []
    out: list[PlayedPart] = []
    for i, raw in enumerate(parts):
        digest = str(raw.get("sha256", ""))
        played = raw.get("played_s")
        if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
            problems.append(FieldProblem(f"parts[{i}].sha256", "must be a lowercase SHA-256 hex digest"))
        if not isinstance(played, int | float) or isinstance(played, bool) or not 0 <= played <= MAX_SECONDS:
            problems.append(
                FieldProblem(f"parts[{i}].played_s", f"must be seconds from 0 to {MAX_SECONDS:.0f}")
            )
            played = 0.0
        out.append(PlayedPart(digest, float(played), bool(raw.get("ended"))))
    if problems:
        raise InvalidInput(problems)
    return out


def assess(asked_audio: Sequence[Mapping[str, Any]], reported: Sequence[PlayedPart]) -> list[PartAssessment]:
    """Each asked audio part with what the page played of it (reported digests not asked are refused)."""
    asked = {str(a["sha256"]) for a in asked_audio}
    strangers = [i for i, r in enumerate(reported) if r.sha256 not in asked]
    if strangers:
        raise InvalidInput(
            [FieldProblem(f"parts[{i}].sha256", "not audio of the prompt being played") for i in strangers]
        )
    by_digest: dict[str, PlayedPart] = {}
    for r in reported:  # a part played twice (a replay) counts by its best run
        best = by_digest.get(r.sha256)
        if best is None or (r.ended, r.played_s) > (best.ended, best.played_s):
            by_digest[r.sha256] = r
    result = []
    for a in asked_audio:
        digest = str(a["sha256"])
        duration = float(a.get("duration_s") or 0.0)
        got = by_digest.get(digest)
        played = got.played_s if got else 0.0
        ended = got.ended if got else False
        full = ended and (duration <= 0 or played + TOLERANCE_S >= duration)
        result.append(PartAssessment(digest, str(a.get("role", "")), duration, round(played, 3), ended, full))
    return result
