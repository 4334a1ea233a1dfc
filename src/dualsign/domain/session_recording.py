"""The whole-session recording, as the session aggregate keeps it in its events.

Chunks are ``artifact_stored`` events of role ``recording_chunk``; the recording closes once
(``recording_closed``, with the assessment of its chunks and gaps from ``domain.recording``) and is
re-checked after the session (``recording_analysed``). Part of ``SigningSession``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dualsign.domain import events as ev
from dualsign.domain import recording
from dualsign.domain.event_payloads import RecordingAnalysed, SegmentMediaItem
from dualsign.domain.events import Event, EventLog
from dualsign.domain.states import EventKind, SessionState


class SessionRecording(EventLog):
    _chunks: dict[tuple[int, int], recording.Chunk]  # folded by the aggregate, in arrival order
    _recording_closed: bool

    def recording_chunk_events(self) -> list[Event]:
        """The events that stored the recording's chunks, in the order they arrived."""
        return [
            e
            for e in self.events
            if e.kind is EventKind.ARTIFACT_STORED and e.payload.get("role") == recording.ROLE
        ]

    def recording_chunks(self) -> dict[tuple[int, int], recording.Chunk]:
        return dict(self._chunks)

    @property
    def recording_closed(self) -> bool:
        return self._recording_closed

    def recording_refusal(self) -> str | None:
        """Why no recording chunk may be stored now, or None when chunks are accepted."""
        if self.state in (SessionState.CREATED, SessionState.CONSENT):
            return "nothing is recorded before the signer consents"
        if self.state is SessionState.REFUSED:
            return "the signer refused consent: nothing is recorded"
        if self.sealed:
            return "the evidence of this session is sealed"
        if self.recording_closed:
            return "the recording of this session was closed"
        return None

    def chunk_is_new(self, chunk: recording.Chunk) -> bool:
        """Whether ``chunk`` would be stored (False: the same chunk is already); raises if refused."""
        refusal = self.recording_refusal()
        if refusal is not None:
            raise recording.RecordingClosed(refusal)
        stored = self._chunks.get((chunk.segment, chunk.index))
        if stored is not None and stored.sha256 != chunk.sha256:
            raise recording.ChunkConflict(chunk.segment, chunk.index, stored.sha256, chunk.sha256)
        return stored is None

    def store_recording_chunk(self, at: datetime, chunk: recording.Chunk, sm3: str | None) -> Event | None:
        """Record one chunk; ``None`` when this very chunk was stored before (an idempotent retry)."""
        if not self.chunk_is_new(chunk):
            return None
        return self._emit(
            ev.ARTIFACT_STORED.new(
                at,
                {
                    "role": recording.ROLE,
                    "sha256": chunk.sha256,
                    "sm3": sm3,
                    "size": chunk.size,
                    "media_type": "video/webm",
                    "segment": chunk.segment,
                    "index": chunk.index,
                    "started_ms": chunk.started_ms,
                    "ended_ms": chunk.ended_ms,
                },
            )
        )

    def close_recording(
        self,
        at: datetime,
        *,
        by: str,
        declared: dict[int, int] | None = None,
        media: Sequence[SegmentMediaItem] = (),  # per segment: seconds of audio and of video
    ) -> Event:
        """Assess the recording (chunks, gaps) and close it; later chunks are refused."""
        if self.recording_closed:
            raise recording.RecordingClosed("the recording of this session was already closed")
        result = recording.assess(self.recording_chunks().values(), declared)
        return self._emit(
            ev.RECORDING_CLOSED.new(
                at,
                {
                    "closed_by": by,
                    "declared_chunks": {str(k): v for k, v in sorted((declared or {}).items())},
                    "media": [m.copy() for m in media],
                    **result.to_payload(),
                },
            )
        )

    def record_recording_analysis(self, at: datetime, result: RecordingAnalysed) -> Event:
        """The recording re-checked after the session (``application.qc.post_hoc``), before its QC."""
        return self._emit(ev.RECORDING_ANALYSED.new(at, result))
