"""A session's artifacts: stored one way, and listed for the seal from what was recorded when they arrived.

Every upload that becomes evidence (the identity photo and documents at creation, answer audio, face
snapshots and liveness frames, recording chunks, the page's operation trace batches, the signer's mark,
the signed documents) is kept the same way, inside the caller's unit of work: the bytes go to the blob
store, an ``Artifact`` row names them for the session, and an ``artifact_stored`` event enters them in
the chain (applied to the aggregate; the caller persists it with the other events of its step).

The blob store hashes the plaintext as it keeps it, SHA-256 (the blob's name) and SM3 (GM/T 0004) in
one pass (``BlobRef``), and both go into the event. Sealing lists every artifact's SM3 from those
events instead of reading every blob back; an artifact whose event has no SM3 (stored where the
platform's OpenSSL had none) is read back and hashed at sealing, and one whose blob is gone fails the
seal, as before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from dualsign.application.ports import BlobStore, UnitOfWork
from dualsign.application.records import Artifact, BlobRef
from dualsign.domain import recording, trace
from dualsign.domain.errors import NotFound
from dualsign.domain.event_payloads import PlacementItem
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind
from dualsign_verify.manifest import ArtifactEntry
from dualsign_verify.records import sm3_hex


@dataclass(frozen=True)
class StoredArtifact:
    artifact: Artifact
    event: Event  # its ``artifact_stored`` event, applied to the session, not yet persisted

    @property
    def sha256(self) -> str:
        return self.artifact.sha256


def store_artifact(
    uow: UnitOfWork,
    blobs: BlobStore,
    new_id: Callable[[str], str],
    session: SigningSession,
    at: datetime,
    data: bytes,
    *,
    role: str,
    name: str,
    media_type: str,
    placements: Sequence[PlacementItem] | None = None,  # a document's resolved signature fields
) -> StoredArtifact:
    """Keep ``data`` as an artifact of ``session`` (its blob, its row, its event)."""
    ref = blobs.put(data)
    event = session.store_artifact(
        at,
        role=role,
        sha256=ref.sha256,
        sm3=ref.sm3,
        size=ref.size,
        media_type=media_type,
        placements=placements,
    )
    return _row(uow, new_id, session.id, at, name, ref, event)


def store_recording_chunk(
    uow: UnitOfWork,
    blobs: BlobStore,
    new_id: Callable[[str], str],
    session: SigningSession,
    at: datetime,
    data: bytes,
    chunk: recording.Chunk,
) -> StoredArtifact:
    """Keep a recording chunk the session accepts as new (``SigningSession.chunk_is_new``, asked before
    the bytes are kept); its event carries the chunk's number and the page's times."""
    ref = blobs.put(data)
    event = session.store_recording_chunk(at, chunk, ref.sm3)
    if event is None:  # the caller asked chunk_is_new first: a duplicate here is a fault in the caller
        raise RuntimeError(f"chunk {chunk.segment}/{chunk.index} is stored already")
    return _row(
        uow, new_id, session.id, at, f"recording-{chunk.segment:02d}-{chunk.index:05d}.webm", ref, event
    )


def store_trace_batch(
    uow: UnitOfWork,
    blobs: BlobStore,
    new_id: Callable[[str], str],
    session: SigningSession,
    at: datetime,
    number: int,
    batch: trace.Batch,
    data: bytes,
) -> StoredArtifact | None:
    """Keep a batch of the page's operation trace (``data``: its canonical JSON); ``None`` when this very
    batch is stored already (asked before the bytes are kept)."""
    if not session.trace_batch_is_new(number, hashlib.sha256(data).hexdigest()):
        return None
    ref = blobs.put(data)
    event = session.store_trace_batch(
        at, batch=number, entries=len(batch.entries), sha256=ref.sha256, sm3=ref.sm3, size=ref.size
    )
    if event is None:  # checked just above, under the session's lock
        raise RuntimeError(f"trace batch {number} is stored already")
    return _row(uow, new_id, session.id, at, f"trace-{number:05d}.json", ref, event)


def _row(
    uow: UnitOfWork,
    new_id: Callable[[str], str],
    session_id: str,
    at: datetime,
    name: str,
    ref: BlobRef,
    event: Event,
) -> StoredArtifact:
    """The artifact's row, described as its event describes it."""
    role, media_type = str(event.payload["role"]), str(event.payload["media_type"])
    artifact = Artifact(
        new_id("art"), session_id, role, name[:255] or role, ref.sha256, ref.size, media_type, at
    )
    uow.artifacts.add(artifact)
    return StoredArtifact(artifact, event)


class Recorded(Protocol):
    """An event as stored or as the aggregate holds it: what listing artifacts reads of it."""

    @property
    def kind(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


def recorded_sm3(events: Iterable[Recorded]) -> dict[str, str]:
    """The SM3 of each artifact (by SHA-256) as its ``artifact_stored`` event recorded it at ingest."""
    return {
        str(e.payload["sha256"]): str(e.payload["sm3"])
        for e in events
        if e.kind == EventKind.ARTIFACT_STORED and e.payload.get("sm3")
    }


def manifest_entries(
    artifacts: Iterable[Artifact], events: Iterable[Recorded], blobs: BlobStore
) -> list[ArtifactEntry]:
    """Every artifact as the sealed manifest lists it (sorted by role, then digest).

    Its SM3 is the one recorded at ingest. Without one (an artifact stored where SM3 was unavailable)
    the blob is read back and hashed now, as sealing always did; a blob that cannot be read raises.
    Every blob must still be in the store: one that is gone fails the seal (``NotFound``)."""
    known = recorded_sm3(events)
    entries = []
    for a in artifacts:
        sm3 = known.get(a.sha256)
        if sm3 is None:
            sm3 = sm3_hex(blobs.get(a.sha256))
        elif not blobs.exists(a.sha256):
            raise NotFound("blob", a.sha256)
        entries.append(ArtifactEntry(a.role, a.sha256, a.size, sm3, name=a.name, media_type=a.media_type))
    entries.sort(key=lambda x: (x.role, x.sha256))
    return entries
