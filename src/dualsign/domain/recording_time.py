"""Where in the uploaded recording a moment of the session is, and what the recording is checked against.

The page's recording is cut into chunks; each chunk event carries the page's clock (``started_ms``,
``ended_ms``) and the server's arrival time. A segment (one MediaRecorder run; a reload starts the next)
begins at its first chunk's ``started_ms``. The page's clock is mapped to the server's by the smallest
gap between a chunk's end and its arrival (the upload time is never negative, so that gap bounds the
clock difference from above and the quickest upload comes closest to it).

An answer window runs from the last prompt event before the answer (asked, repeated or played) to the
verdict, and ``WINDOW_PAD_S`` beyond: the mapped clock runs early by the quickest upload's time, never
late. Re-recognising the recording's speech in it must give the live verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dualsign.domain.recording import Chunk
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind

WINDOW_PAD_S = 0.5
_PROMPT_EVENTS = frozenset({EventKind.QUESTION_ASKED, EventKind.QUESTION_REPEATED, EventKind.PROMPT_PLAYED})


@dataclass(frozen=True)
class AnswerWindow:
    question_id: str
    attempt: int
    start_s: float  # recording time of its segment
    end_s: float
    live_verdict: str = ""


@dataclass(frozen=True)
class SegmentClock:
    segment: int
    started_ms: int  # the page's clock at the segment's t = 0
    ended_ms: int
    server_minus_page_ms: int

    def recording_s(self, server_ms: int) -> float:
        return (server_ms - self.server_minus_page_ms - self.started_ms) / 1000

    @property
    def duration_s(self) -> float:
        return (self.ended_ms - self.started_ms) / 1000


def _ms(e: Event) -> int:
    return round(e.at.timestamp() * 1000)


def segment_clocks(session: SigningSession) -> list[SegmentClock]:
    by_segment: dict[int, list[tuple[Chunk, int]]] = {}  # each chunk with its arrival (server ms)
    for e in session.recording_chunk_events():
        chunk = Chunk.from_payload(e.payload)
        by_segment.setdefault(chunk.segment, []).append((chunk, _ms(e)))
    return [
        SegmentClock(
            segment,
            min(c.started_ms for c, _ in chunks),
            max(c.ended_ms for c, _ in chunks),
            min(arrived - c.ended_ms for c, arrived in chunks),
        )
        for segment, chunks in sorted(by_segment.items())
    ]


def place_answers(
    session: SigningSession,
) -> tuple[dict[int, list[AnswerWindow]], list[tuple[str, int]]]:
    """Each spoken answer's window, by the segment that recorded it; and the answers (question, attempt)
    that no segment covers."""
    clocks = segment_clocks(session)
    placed: dict[int, list[AnswerWindow]] = {}
    unplaced: list[tuple[str, int]] = []
    last_prompt: Event | None = None
    for e in session.events:
        if e.kind in _PROMPT_EVENTS:
            last_prompt = e
            continue
        if e.kind is not EventKind.ANSWER_JUDGED:
            continue
        qid, attempt = str(e.payload["question_id"]), int(e.payload["attempt"])
        if e.payload.get("input") != "speech" or last_prompt is None:
            continue
        start_ms, end_ms = _ms(last_prompt), _ms(e)
        clock = next(
            (
                c
                for c in clocks
                if 0 <= c.recording_s((start_ms + end_ms) // 2) <= c.duration_s + WINDOW_PAD_S
            ),
            None,
        )
        if clock is None:
            unplaced.append((qid, attempt))
            continue
        placed.setdefault(clock.segment, []).append(
            AnswerWindow(
                qid,
                attempt,
                max(0.0, round(clock.recording_s(start_ms), 3)),
                round(min(clock.duration_s, clock.recording_s(end_ms)) + WINDOW_PAD_S, 3),
                str(e.payload.get("verdict", "")),
            )
        )
    return placed, unplaced


def monitoring_totals(parts: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Face-monitoring figures of several connections or segments as one: seconds add up, the present
    ratio is weighted by the seconds observed, the longest absence is the longest of any part."""
    observed = sum(float(p.get("observed_s", 0)) for p in parts)
    present = sum(float(p.get("observed_s", 0)) * float(p.get("face_present_ratio", 0)) for p in parts)
    return {
        "observed_s": round(observed, 2),
        "face_present_ratio": round(present / observed, 4) if observed else 0.0,
        "several_faces_s": round(sum(float(p.get("several_faces_s", 0)) for p in parts), 2),
        "mismatch_s": round(sum(float(p.get("mismatch_s", 0)) for p in parts), 2),
        "longest_absence_s": round(
            max((float(p.get("longest_absence_s", 0)) for p in parts), default=0.0), 2
        ),
        "frames": sum(int(p.get("frames", 0)) for p in parts),
    }
