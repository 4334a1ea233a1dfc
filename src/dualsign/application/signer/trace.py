"""The page's operation trace (屏幕操作过程): numbered batches, idempotent, kept as artifacts.

The page sends what it showed and what the signer did in numbered batches (``domain.trace``); each is
checked against the strict schema, kept as its canonical JSON (so the same batch sent again is the
same bytes and is acknowledged as a duplicate), hashed with SHA-256 and SM3 at ingest and entered in
the chain. A batch lost while the page was offline is sent again under its number. Sealing, the
report and the console read the batches back (``read_trace``) and summarise them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dualsign.application.artifacts import store_trace_batch
from dualsign.application.event_store import persist
from dualsign.application.ports import BlobStore, UnitOfWork
from dualsign.application.signer.flow import SignerServices, load_linked
from dualsign.domain import trace
from dualsign.domain.session import SigningSession
from dualsign_verify.canonical import canonical_json


@dataclass(frozen=True)
class BatchAck:
    """What the server answers for a batch (201, or 200 for a duplicate)."""

    batch: int
    sha256: str
    entries: int
    duplicate: bool  # True: this exact batch was already stored (a retry)


def upload_batch(uow: UnitOfWork, svc: SignerServices, token: str, number: int, body: bytes) -> BatchAck:
    """Keep one batch of the trace (``body``: the page's JSON, checked before anything is read)."""
    trace.check_batch_number(number)
    batch = trace.parse_batch(body)
    data = canonical_json(batch.to_json())
    with uow:
        session = load_linked(uow, svc, token)
        stored = store_trace_batch(uow, svc.blobs, svc.ids, session, svc.clock.now(), number, batch, data)
        if stored is None:
            return BatchAck(number, session.trace_batches()[number], len(batch.entries), True)
        persist(uow, session, [stored.event])
        uow.commit()
    return BatchAck(number, stored.sha256, len(batch.entries), False)


def status(uow: UnitOfWork, svc: SignerServices, token: str) -> dict[str, Any]:
    """The batch numbers held, so that a reloaded page (or another device) numbers on from there."""
    with uow:
        session = load_linked(uow, svc, token)
    held = sorted(session.trace_batches())
    return {"batches": held, "next_batch": (held[-1] + 1) if held else 0, "accepting": not session.sealed}


class TraceUnreadable(Exception):
    """A stored batch could not be read back as a batch (it was checked at ingest: the store changed),
    or the batches could not be summarised; ``number`` is None for the latter."""

    def __init__(self, number: int | None, why: str) -> None:
        super().__init__(f"trace batch {number}: {why}" if number is not None else f"trace: {why}")
        self.number = number


def read_trace(session: SigningSession, blobs: BlobStore) -> trace.TraceSummary | None:
    """The trace's summary from the stored batches; ``None`` when the page sent none. A batch that is
    gone or does not parse, or batches that cannot be summarised, raise ``TraceUnreadable`` (the seal
    fails on a missing blob anyway)."""
    batches = session.trace_batches()
    if not batches:
        return None
    read: list[tuple[int, trace.Batch]] = []
    for number, sha256 in sorted(batches.items()):
        try:
            read.append((number, trace.parse_batch(blobs.get(sha256))))
        except Exception as exc:  # a missing blob, a store error, a batch that no longer parses
            raise TraceUnreadable(number, f"{type(exc).__name__}: {exc}"[:300]) from exc
    try:  # a fault here is recorded for a person (QC, report), never a seal that cannot happen
        return trace.summarise(read)
    except Exception as exc:
        raise TraceUnreadable(None, f"not summarised: {type(exc).__name__}: {exc}"[:300]) from exc
