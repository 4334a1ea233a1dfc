"""Uploading the whole-session recording: chunks by number and digest, resumable, idempotent.

A chunk is accepted only when its body hashes to the digest the page declares (so a truncated upload
never becomes evidence), only after consent, and only until the recording is closed. The page closes
the recording when the session ends; if it never does (the phone died), sealing closes it after a
grace period with ``closed_by: "timeout"``. Either way the assessment (missing chunks, time between
recorder runs) goes into the chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from dualsign.application.artifacts import store_recording_chunk
from dualsign.application.event_store import persist
from dualsign.application.ports import BlobStore, UnitOfWork
from dualsign.application.signer.flow import SignerServices, load_linked
from dualsign.domain import recording
from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign.domain.event_payloads import SegmentMediaItem
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import ENDED_STATES
from dualsign.media.video import stream_spans

DEFAULT_GRACE = dt.timedelta(seconds=120)


@dataclass(frozen=True)
class ChunkAck:
    """What the server answers for a chunk (``PUT /signer/v1/recording/{segment}/{index}`` returns it as
    is: 201, or 200 for a duplicate)."""

    segment: int
    index: int
    sha256: str
    size: int
    duplicate: bool  # True: this exact chunk was already stored (a retry)


def upload_chunk(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    *,
    segment: int,
    index: int,
    data: bytes,
    declared_sha256: str,
    started_ms: int,
    ended_ms: int,
) -> ChunkAck:
    recording.check_numbers(segment, index, started_ms, ended_ms)
    if not data:
        raise InvalidInput([FieldProblem("body", "the chunk is empty")], "recording chunk")
    actual = hashlib.sha256(data).hexdigest()
    if declared_sha256.lower() != actual:
        raise InvalidInput(
            [FieldProblem("X-Content-SHA256", f"does not match the body (the body hashes to {actual})")],
            "recording chunk",
        )
    with uow:
        session = load_linked(uow, svc, token)
        chunk = recording.Chunk(segment, index, actual, len(data), started_ms, ended_ms)
        if not session.chunk_is_new(chunk):  # checked before the bytes are kept
            return ChunkAck(segment, index, actual, len(data), True)
        stored = store_recording_chunk(uow, svc.blobs, svc.ids, session, svc.clock.now(), data, chunk)
        persist(uow, session, [stored.event])
        uow.commit()
    return ChunkAck(segment, index, actual, len(data), False)


def status(uow: UnitOfWork, svc: SignerServices, token: str) -> dict[str, Any]:
    """What the server holds, so that a reloaded page resumes where it stopped."""
    with uow:
        session = load_linked(uow, svc, token)
    segments: dict[int, list[int]] = {}
    for seg, idx in sorted(session.recording_chunks()):
        segments.setdefault(seg, []).append(idx)
    return {
        "state": session.current_state.value,
        "accepting": session.recording_refusal() is None,
        "closed": session.recording_closed,
        "next_segment": max(segments, default=-1) + 1,
        "segments": [{"segment": s, "indexes": i} for s, i in segments.items()],
    }


def segment_bytes(session: SigningSession, blobs: BlobStore) -> dict[int, bytes]:
    """Each segment's recording: its chunks joined in order (one MediaRecorder file)."""
    by_segment: dict[int, list[recording.Chunk]] = {}
    for c in session.recording_chunks().values():
        by_segment.setdefault(c.segment, []).append(c)
    return {
        segment: b"".join(blobs.get(c.sha256) for c in sorted(chunks, key=lambda c: c.index))
        for segment, chunks in sorted(by_segment.items())
    }


def media_check(session: SigningSession, blobs: BlobStore) -> list[SegmentMediaItem]:
    """Per segment, the seconds its audio and video streams cover (they must agree: A/V sync)."""
    out: list[SegmentMediaItem] = []
    for segment, data in segment_bytes(session, blobs).items():
        try:
            spans = stream_spans(data)
            out.append({"segment": segment, "audio_s": spans["audio_s"], "video_s": spans["video_s"]})
        except ValueError as exc:
            out.append({"segment": segment, "error": str(exc)[:300]})
    return out


def finish(uow: UnitOfWork, svc: SignerServices, token: str, declared: dict[int, int]) -> dict[str, Any]:
    """The page has uploaded everything it recorded: assess and close the recording."""
    with uow:
        session = load_linked(uow, svc, token)
        media = media_check(session, svc.blobs)
        event = session.close_recording(svc.clock.now(), by="signer", declared=declared, media=media)
        persist(uow, session, [event])
        uow.commit()
        ended = session.current_state in ENDED_STATES
    if ended and svc.sealer is not None:
        svc.sealer.seal_ended(session.id)
    return dict(event.payload)


class RecordingPending(Exception):
    """Sealing waits: the page may still be uploading the end of the recording."""

    def __init__(self, session_id: str, until: dt.datetime) -> None:
        super().__init__(f"session {session_id}: the recording may still arrive until {until.isoformat()}")
        self.until = until


def close_for_sealing(
    session: SigningSession, now: dt.datetime, grace: dt.timedelta, blobs: BlobStore
) -> list[Event]:
    """Events that close a recording the page never closed; ``RecordingPending`` within the grace."""
    if session.recording_closed or not session.recording_chunks():
        return []
    ended = session.ended_at or now
    if now < ended + grace:
        raise RecordingPending(session.id, ended + grace)
    return [session.close_recording(now, by="timeout", media=media_check(session, blobs))]
