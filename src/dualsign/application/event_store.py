"""The event store: a session's hash-chained event log, appended at the moment events happen, and the
session rebuilt from it.

Each stored event is the canonical record ``{kind, version, seq, time, payload, prev}`` of the evidence
format (``dualsign_verify.records``) with its SHA-256 and SM3 digests; ``prev`` links it to the one
before. The session row's status follows the aggregate's state in the same unit of work, and the
deliveries and the seal an event calls for are queued in it too (``outbox``). ``load_aggregate``
replays a session's events through its pinned template version (``template_of``).

The session's snapshot (``ports.SnapshotStore``) is the fold of its stored events as they are read back;
appending advances it, and ``kept_session`` catches it up with what other processes stored since, so a
command costs the same at the 10th event and the 1000th.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from dualsign.application.outbox.jobs import enqueue_sealing
from dualsign.application.outbox.webhooks import enqueue_milestones
from dualsign.application.ports import UnitOfWork
from dualsign.application.records import SessionRecord, SessionSnapshot, StoredEvent, TemplateVersion
from dualsign.domain.errors import NotFound
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind
from dualsign.domain.templates import Template, parse_template
from dualsign.domain.transitions import ENDING_EVENTS
from dualsign_verify.records import GENESIS, RECORD_VERSION, make_record, record_digests


def iso_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append_events(uow: UnitOfWork, session_id: str, events: Sequence[Event]) -> list[StoredEvent]:
    last = uow.events.last(session_id)
    seq = last.seq if last else 0
    prev = last.sha256 if last else GENESIS
    stored: list[StoredEvent] = []
    for event in events:
        seq += 1
        record = make_record(
            kind=event.kind.value, seq=seq, time=iso_time(event.at), payload=dict(event.payload), prev=prev
        )
        d = record_digests(record)
        item = StoredEvent(
            session_id,
            seq,
            event.kind.value,
            RECORD_VERSION,
            event.at,
            dict(event.payload),
            prev,
            d.sha256,
            d.sm3,
        )
        uow.events.append(item)
        stored.append(item)
        prev = d.sha256
    return stored


def persist(uow: UnitOfWork, session: SigningSession, events: Sequence[Event]) -> list[StoredEvent]:
    """Append ``events`` (already applied to ``session``) and update the session's status."""
    if not events:
        return []
    stored = append_events(uow, session.id, events)
    uow.sessions.set_status(session.id, session.current_state.value, events[-1].at)
    qc = next((e for e in reversed(events) if e.kind is EventKind.QC_EVALUATED), None)
    review = next((e for e in reversed(events) if e.kind is EventKind.REVIEW_DECIDED), None)
    if qc is not None or review is not None:
        uow.sessions.set_qc(
            session.id,
            str(qc.payload["verdict"]) if qc is not None else None,
            str(review.payload["decision"]) if review is not None else None,
        )
    enqueue_milestones(uow, session.id, stored)  # webhooks: queued with the events that call for them
    ending = next((e for e in events if e.kind in ENDING_EVENTS), None)
    if ending is not None:  # the seal too: a crash right after this commit still gets the session sealed
        enqueue_sealing(uow, ending.at, session.id)
    _advance_snapshot(uow, session.id, stored)
    return stored


def _read_back(e: StoredEvent) -> Event:
    """An appended event as a later read of the chain will give it (JSON payload, UTC time)."""
    return Event(EventKind(e.kind), e.at.astimezone(UTC), json.loads(json.dumps(e.payload)))


def _advance_snapshot(uow: UnitOfWork, session_id: str, stored: Sequence[StoredEvent]) -> None:
    """Fold the appended events into the session's snapshot when it is at the event they follow (it
    is then ahead of the database until the commit; a rollback shows at the next load, as a chain it
    is not a prefix of). Any other snapshot is forgotten."""
    snapshot = uow.snapshots.take(session_id)
    first = stored[0]
    if snapshot is None or (snapshot.seq, snapshot.sha256) != (first.seq - 1, first.prev):
        return
    # an event that does not fold as it will be read back fails the command here (the snapshot is then
    # forgotten), not the session's next replay
    snapshot.session.extend(_read_back(e) for e in stored)
    uow.snapshots.put(replace(snapshot, seq=stored[-1].seq, sha256=stored[-1].sha256))


def keep_snapshot(uow: UnitOfWork, session: SigningSession, head: StoredEvent) -> SigningSession:
    """Keep ``session``, rebuilt from the stored chain up to ``head``; returns a copy for the caller."""
    uow.snapshots.put(SessionSnapshot(session, head.seq, head.sha256))
    return session.clone()


def kept_session(uow: UnitOfWork, session_id: str) -> SigningSession | None:
    """The session from its snapshot, caught up with the events stored since (by this process or
    another); None when no snapshot is kept or the stored chain does not continue it (a rolled-back
    append, another writer's chain). Called with the session locked."""
    snapshot = uow.snapshots.take(session_id)
    if snapshot is None:
        return None
    tail = uow.events.since(session_id, snapshot.seq)
    if not tail or tail[0].sha256 != snapshot.sha256:
        return None
    snapshot.session.extend(to_domain(tail[1:]))  # an error here leaves it forgotten, as taken
    return keep_snapshot(uow, snapshot.session, tail[-1])


def stored_record(e: StoredEvent) -> dict[str, Any]:
    """The canonical record of a stored event: exactly what its digests cover."""
    return make_record(
        kind=e.kind, seq=e.seq, time=iso_time(e.at), payload=e.payload, prev=e.prev, version=e.version
    )


def to_domain(stored: Sequence[StoredEvent]) -> list[Event]:
    return [Event(EventKind(e.kind), e.at, e.payload) for e in stored]


def template_of(version: TemplateVersion) -> Template:
    return parse_template(version.document, f"{version.key}@{version.number}")


def pinned_template(uow: UnitOfWork, record: SessionRecord) -> TemplateVersion:
    version = uow.templates.get(record.template_version_id)
    if version is None:  # the foreign key makes this unreachable short of a damaged database
        raise NotFound("template version", record.template_version_id)
    return version


def load_aggregate(uow: UnitOfWork, session_id: str) -> tuple[SessionRecord, SigningSession]:
    """The session as its stored events make it (inside an open unit of work, which from here on
    holds the session: another writer waits until this one commits or rolls back).

    Rebuilt from its snapshot and the events stored after it when this process keeps one that the
    stored chain continues, else replayed from the first event; either way the caller gets its own
    aggregate, and the work does not grow with the session's length."""
    uow.sessions.lock(session_id)
    record = uow.sessions.get(session_id)
    if record is None:
        raise NotFound("session", session_id)
    session = kept_session(uow, session_id)
    if session is not None:
        return record, session
    version = pinned_template(uow, record)
    stored = uow.events.list(session_id)
    session = SigningSession.replay(record.id, template_of(version), to_domain(stored))
    return record, keep_snapshot(uow, session, stored[-1]) if stored else session
