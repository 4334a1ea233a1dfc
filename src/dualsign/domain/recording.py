"""The whole-session recording: numbered, hashed chunks and what their numbering and times reveal.

The signer page records the session with MediaRecorder and uploads it in chunks. Each recorder run is a
*segment* (a reload or a new camera starts the next one: its chunks form a playable file of their own);
within a segment chunks are numbered from 0. A chunk is identified by ``(segment, index)``; uploading
the same chunk again with the same digest is acknowledged again, with another digest it is refused.

When the recording is closed, the chunks are assessed: a missing index inside a segment is a gap of
unknown length, time between the end of one segment and the start of the next is a gap of that length.
Gaps are flagged in the evidence chain, never hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dualsign.domain.errors import Conflict, FieldProblem, InvalidInput
from dualsign.domain.event_payloads import GapItem, RecordingAssessment

ROLE = "recording_chunk"
MAX_SEGMENTS = 100
MAX_INDEX = 100_000
GAP_TOLERANCE_MS = 1500  # a new recorder takes a moment to start: shorter pauses are not gaps


@dataclass(frozen=True)
class Chunk:
    segment: int
    index: int
    sha256: str
    size: int
    started_ms: int  # signer's clock, epoch milliseconds (for gap lengths, not as evidence of time)
    ended_ms: int

    @staticmethod
    def from_payload(p: Mapping[str, Any]) -> Chunk:
        return Chunk(
            int(p["segment"]),
            int(p["index"]),
            str(p["sha256"]),
            int(p["size"]),
            int(p.get("started_ms") or 0),
            int(p.get("ended_ms") or 0),
        )


class ChunkConflict(Conflict):
    code = "chunk_conflict"
    title = "A different chunk was already stored under this number"

    def __init__(self, segment: int, index: int, stored: str, offered: str) -> None:
        super().__init__(
            f"chunk {index} of segment {segment} is already stored with SHA-256 {stored}; "
            f"the upload has {offered}"
        )
        self.segment, self.index, self.stored, self.offered = segment, index, stored, offered

    def extra(self) -> dict[str, object]:
        return {"segment": self.segment, "index": self.index, "stored_sha256": self.stored}


class RecordingClosed(Conflict):
    code = "recording_closed"
    title = "The recording of this session is closed"

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why

    def extra(self) -> dict[str, object]:
        return {"reason": self.why}


def check_numbers(segment: int, index: int, started_ms: int, ended_ms: int) -> None:
    problems = []
    if not 0 <= segment < MAX_SEGMENTS:
        problems.append(FieldProblem("segment", f"must be between 0 and {MAX_SEGMENTS - 1}"))
    if not 0 <= index < MAX_INDEX:
        problems.append(FieldProblem("index", f"must be between 0 and {MAX_INDEX - 1}"))
    if started_ms < 0 or ended_ms < started_ms:
        problems.append(FieldProblem("X-Chunk-Ended-Ms", "must not be before X-Chunk-Started-Ms"))
    if problems:
        raise InvalidInput(problems, "recording chunk")


@dataclass(frozen=True)
class Gap:
    segment: int  # the gap is inside this segment (missing chunks) or just before it (between segments)
    kind: str  # "missing_chunks" | "missing_segment" | "between_segments"
    missing: tuple[int, ...] = ()
    seconds: float | None = None  # None: unknown length (chunks missing)

    def to_payload(self) -> GapItem:
        out: GapItem = {"segment": self.segment, "kind": self.kind}
        if self.missing:
            out["missing_indexes"] = list(self.missing)
        if self.seconds is not None:
            out["seconds"] = round(self.seconds, 3)
        return out


@dataclass(frozen=True)
class Assessment:
    segments: int
    chunks: int
    bytes: int
    recorded_seconds: float
    gaps: tuple[Gap, ...]

    @property
    def complete(self) -> bool:
        return not self.gaps

    def to_payload(self) -> RecordingAssessment:
        return {
            "segments": self.segments,
            "chunks": self.chunks,
            "bytes": self.bytes,
            "recorded_seconds": round(self.recorded_seconds, 3),
            "complete": self.complete,
            "gaps": [g.to_payload() for g in self.gaps],
        }


def assess(chunks: Iterable[Chunk], declared: Mapping[int, int] | None = None) -> Assessment:
    """Gaps of a recording. ``declared``: segment → number of chunks the page says it recorded."""
    by_segment: dict[int, dict[int, Chunk]] = {}
    for c in chunks:
        by_segment.setdefault(c.segment, {})[c.index] = c
    for segment, count in (declared or {}).items():
        if count > 0:
            by_segment.setdefault(segment, {})
    gaps: list[Gap] = []
    recorded = 0.0
    size = 0
    previous_end: int | None = None
    for segment in range(max(by_segment, default=-1) + 1):
        got = by_segment.get(segment, {})
        expected = max(max(got, default=-1) + 1, (declared or {}).get(segment, 0))
        missing = tuple(i for i in range(expected) if i not in got)
        if segment not in by_segment:
            gaps.append(Gap(segment, "missing_segment"))
            previous_end = None
            continue
        if missing:
            gaps.append(Gap(segment, "missing_chunks", missing))
        if got:
            start = min(c.started_ms for c in got.values())
            end = max(c.ended_ms for c in got.values())
            recorded += sum(c.ended_ms - c.started_ms for c in got.values()) / 1000
            size += sum(c.size for c in got.values())
            if previous_end is not None and start - previous_end > GAP_TOLERANCE_MS:
                gaps.append(Gap(segment, "between_segments", seconds=(start - previous_end) / 1000))
            previous_end = end
    count = sum(len(v) for v in by_segment.values())
    return Assessment(len(by_segment), count, size, recorded, tuple(gaps))
