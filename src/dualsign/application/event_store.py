"""The event store: a session's hash-chained event log, appended at the moment events happen, and the
session rebuilt from it.

Each stored event is the canonical record ``{kind, version, seq, time, payload, prev}`` of the evidence
format (``dualsign_verify.records``) with its SHA-256 and SM3 digests; ``prev`` links it to the one
before. The session row's status follows the aggregate's state in the same unit of work, and the
deliveries and the seal an event calls for are queued in it too (``outbox``). ``load_aggregate``
replays a session's events through its pinned template version (``template_of``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from dualsign.application.outbox.jobs import enqueue_seal_of_ended
from dualsign.application.outbox.webhooks import enqueue_milestones
from dualsign.application.ports import UnitOfWork
from dualsign.application.records import SessionRecord, StoredEvent, TemplateVersion
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
        enqueue_seal_of_ended(uow, ending.at, session.id)
    return stored


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
    """Rebuild a session from its stored events (inside an open unit of work, which from here on
    holds the session: another writer waits until this one commits or rolls back)."""
    uow.sessions.lock(session_id)
    record = uow.sessions.get(session_id)
    if record is None:
        raise NotFound("session", session_id)
    version = pinned_template(uow, record)
    session = SigningSession.replay(record.id, template_of(version), to_domain(uow.events.list(session_id)))
    return record, session
