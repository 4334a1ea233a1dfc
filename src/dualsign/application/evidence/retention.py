"""Retention and legal hold of a session's evidence; deletion only after expiry, and only with a tombstone.

Deleting removes the artifacts' bytes that no other session shares; the event chain, the seal and the
artifact list stay, and an ``evidence_deleted`` event (the tombstone) records which digests went, when,
who asked and why. Anything earlier, or under a legal hold, is refused with the date it becomes possible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from dualsign.application.event_store import load_aggregate, persist
from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.domain.errors import Conflict, NotFound
from dualsign.domain.retention import may_delete, retain_until
from dualsign.domain.session import SigningSession
from dualsign.domain.states import TERMINAL_STATES, EventKind


class RetentionRefused(Conflict):
    code = "retention_in_force"
    title = "Evidence may not be deleted yet"

    def __init__(self, session_id: str, reason: str, until: datetime) -> None:
        super().__init__(f"evidence of session {session_id} may not be deleted: {reason}")
        self.until = until

    def extra(self) -> dict[str, object]:
        return {"retain_until": self.until.isoformat()}


@dataclass(frozen=True)
class RetentionView:
    session_id: str
    retain_until: datetime
    holds: int
    deletable: bool
    reason: str
    deleted: bool


def _load_ended(uow: UnitOfWork, tenant_id: str, session_id: str) -> SigningSession:
    record = uow.sessions.get(session_id)
    if record is None or record.tenant_id != tenant_id:
        raise NotFound("session", session_id)
    _, session = load_aggregate(uow, session_id)
    if session.current_state not in TERMINAL_STATES:
        raise Conflict(f"session {session_id} is still {session.current_state.value}: nothing to retain yet")
    return session


def retention_end(session: SigningSession, sealed_at: datetime) -> datetime:
    """Until when the session's evidence must be kept: its template's rule from the seal (and the term
    of the contract, where the rule depends on it)."""
    term = session.events[0].payload.get("contract_term_months")
    return retain_until(session.template.retention, sealed_at, int(term) if term else None)


def _until(uow: UnitOfWork, session: SigningSession) -> datetime:
    seal = uow.seals.get(session.id)
    return retention_end(session, seal.sealed_at if seal else session.events[-1].at)


def retention_of(uow: UnitOfWork, clock: Clock, tenant_id: str, session_id: str) -> RetentionView:
    with uow:
        session = _load_ended(uow, tenant_id, session_id)
        until = _until(uow, session)
    decision = may_delete(clock.now(), until, session.holds)
    deleted = any(e.kind is EventKind.EVIDENCE_DELETED for e in session.events)
    return RetentionView(session_id, until, session.holds, decision.allowed, decision.reason, deleted)


def set_hold(
    uow: UnitOfWork, clock: Clock, tenant_id: str, session_id: str, *, place: bool, reason: str, by: str
) -> RetentionView:
    with uow:
        session = _load_ended(uow, tenant_id, session_id)
        if not place and session.holds == 0:
            raise Conflict(f"session {session_id} has no legal hold to release")
        event = (session.place_hold if place else session.release_hold)(
            clock.now(), reason=reason[:500], by=by
        )
        persist(uow, session, [event])
        uow.commit()
    return retention_of(uow, clock, tenant_id, session_id)


def delete_evidence(
    uow: UnitOfWork, blobs: BlobStore, clock: Clock, tenant_id: str, session_id: str, *, reason: str, by: str
) -> RetentionView:
    with uow:
        session = _load_ended(uow, tenant_id, session_id)
        until = _until(uow, session)
        decision = may_delete(clock.now(), until, session.holds)
        if not decision.allowed:
            raise RetentionRefused(session_id, decision.reason, until)
        mine = {a.sha256 for a in uow.artifacts.list(session_id)}
        shared = {d for d in mine if uow.artifacts.used_elsewhere(d, session_id)}
        deleted = sorted(mine - shared)
        persist(
            uow,
            session,
            [
                session.tombstone(
                    clock.now(),
                    deleted=deleted,
                    kept_shared=sorted(shared),
                    reason=reason[:500],
                    by=by,
                    retain_until=until.isoformat(),
                )
            ],
        )
        uow.commit()
    for digest in deleted:  # after the tombstone is durable: a crash leaves bytes, never an untold deletion
        blobs.delete(digest)
    return retention_of(uow, clock, tenant_id, session_id)
