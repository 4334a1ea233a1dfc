"""The compliance reviewer's console (质检): reviewers, sign-in, finding sessions, what a session shows,
and the reviewer's decision (an evidence event).

Roles: ``admin`` (everything, and adds reviewers), ``reviewer`` (reads and decides), ``auditor``
(reads only). A reviewer belongs to one tenant and sees only its sessions; a platform reviewer
(no tenant) sees every tenant. Sessions of another tenant are "not found", never "forbidden".
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any, Protocol

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from dualsign.application.event_store import iso_time, load_aggregate, persist
from dualsign.application.evidence.sealing import SealServices, ensure_report
from dualsign.application.outbox.webhooks import DELIVER_WEBHOOK
from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.application.records import Reviewer, SessionFilter, SessionRecord
from dualsign.application.signer.flow import session_organisation
from dualsign.application.signer.trace import TraceUnreadable, read_trace
from dualsign.domain import recording, trace
from dualsign.domain.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound, Unauthorized
from dualsign.domain.states import TERMINAL_STATES, EventKind

ROLES = ("admin", "reviewer", "auditor")
DEMO_REVIEWER = "reviewer"
DECIDERS = ("admin", "reviewer")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 12
SIGN_IN_HOURS = 8
VIEWABLE_ROLES = {
    "face_snapshot",
    "liveness_frame",
    "identity_photo",
    "agent_photo",
    "document",
    "signed_document",
    "signature_mark",
    "answer_audio",
    "prompt_audio",
    "organisation_seal",
    "seal_authorisation",
}


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...


def add_reviewer(
    uow: UnitOfWork,
    clock: Clock,
    ids: Callable[[str], str],
    hasher: PasswordHasher,
    *,
    tenant_id: str | None,
    username: str,
    password: str,
    role: str,
) -> Reviewer:
    problems = []
    if not USERNAME.match(username):
        problems.append(FieldProblem("username", "3–64 of a-z 0-9 . _ -, starting with a letter or digit"))
    if len(password) < MIN_PASSWORD:
        problems.append(FieldProblem("password", f"must be at least {MIN_PASSWORD} characters"))
    if role not in ROLES:
        problems.append(FieldProblem("role", f"must be one of {', '.join(ROLES)}"))
    if problems:
        raise InvalidInput(problems, "reviewer")
    with uow:
        if tenant_id is not None and uow.tenants.get(tenant_id) is None:
            raise NotFound("tenant", tenant_id)
        if uow.reviewers.by_username(username) is not None:
            raise Conflict(f"the username {username!r} is taken")
        reviewer = Reviewer(ids("rev"), tenant_id, username, hasher.hash(password), role, clock.now())
        uow.reviewers.add(reviewer)
        uow.commit()
    return reviewer


def ensure_demo_reviewer(
    uow: UnitOfWork, clock: Clock, ids: Callable[[str], str], hasher: PasswordHasher, tenant_id: str
) -> tuple[str, str]:
    """The demo tenant's reviewer, with a fresh random password each run (printed by ``serve --demo``)."""
    password = secrets.token_urlsafe(12)
    with uow:
        existing = uow.reviewers.by_username(DEMO_REVIEWER)
        if existing is not None:
            uow.reviewers.set_password(existing.id, hasher.hash(password))
            uow.commit()
            return DEMO_REVIEWER, password
    add_reviewer(
        uow, clock, ids, hasher, tenant_id=tenant_id, username=DEMO_REVIEWER, password=password, role="admin"
    )
    return DEMO_REVIEWER, password


_DUMMY_HASHES: dict[int, str] = {}  # per hasher: a hash to verify against when the user is unknown


def _dummy_hash(hasher: PasswordHasher) -> str:
    if id(hasher) not in _DUMMY_HASHES:  # hashed once: an unknown user costs one verify, like a known one
        _DUMMY_HASHES[id(hasher)] = hasher.hash("not a password of anyone")
    return _DUMMY_HASHES[id(hasher)]


def sign_in(uow: UnitOfWork, hasher: PasswordHasher, username: str, password: str) -> Reviewer:
    """The reviewer with these credentials; one message for every failure (no username probing)."""
    with uow:
        reviewer = uow.reviewers.by_username(username)
    if reviewer is None:
        hasher.verify(_dummy_hash(hasher), password)  # the same work as for a real account
        raise Unauthorized("wrong username or password")
    if not hasher.verify(reviewer.password_hash, password) or reviewer.disabled_at is not None:
        raise Unauthorized("wrong username or password")
    return reviewer


class ConsoleTokens:
    """Signed, expiring sign-in tokens (kept in an HttpOnly cookie by the console)."""

    def __init__(self, secret: bytes) -> None:
        self._s = URLSafeTimedSerializer(secret, salt="dualsign.console.v1")

    def issue(self, reviewer: Reviewer) -> str:
        return self._s.dumps({"rid": reviewer.id, "gen": reviewer.sign_in_generation})

    def reviewer(self, uow: UnitOfWork, token: str) -> Reviewer:
        try:
            data = self._s.loads(token, max_age=SIGN_IN_HOURS * 3600)
        except SignatureExpired:
            raise Unauthorized("the sign-in has expired: sign in again") from None
        except BadSignature:
            raise Unauthorized("sign in to the console") from None
        with uow:
            reviewer = uow.reviewers.get(str(data.get("rid")))
        if reviewer is None or reviewer.disabled_at is not None:
            raise Unauthorized("sign in to the console")
        if data.get("gen") != reviewer.sign_in_generation:  # signed out, or password or role changed since
            raise Unauthorized("this sign-in has ended: sign in again")
        return reviewer


def sign_out(uow: UnitOfWork, reviewer: Reviewer) -> None:
    """End the reviewer's sign-ins on the server: a copy of the cookie is refused from now on."""
    with uow:
        uow.reviewers.revoke_sign_ins(reviewer.id)
        uow.commit()


def _visible(reviewer: Reviewer, record: SessionRecord | None, session_id: str) -> SessionRecord:
    if record is None or (reviewer.tenant_id is not None and record.tenant_id != reviewer.tenant_id):
        raise NotFound("session", session_id)
    return record


def in_sample(session_id: str, percent: float) -> bool:
    """Deterministic QC sampling: the same sessions are in a given percentage every time."""
    bucket = int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:4], "big") / 2**32
    return bucket < percent / 100


def list_sessions(
    uow: UnitOfWork, reviewer: Reviewer, f: SessionFilter, sample_percent: float | None = None
) -> list[dict[str, Any]]:
    if reviewer.tenant_id is not None:
        f = replace(f, tenant_id=reviewer.tenant_id)
    with uow:
        rows = uow.sessions.search(f)
    out = []
    for record, template_key in rows:
        if sample_percent is not None and not in_sample(record.id, sample_percent):
            continue
        out.append(
            {
                "id": record.id,
                "tenant_id": record.tenant_id,
                "status": record.status,
                "qc_verdict": record.qc_verdict,
                "review": record.review,
                "template": template_key,
                "signer_name": record.signer_name,
                "signer_id_masked": record.signer_id_masked,
                "external_ref": record.external_ref,
                "created_at": iso_time(record.created_at),
            }
        )
    return out


def _presence(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Face-presence runs of every live connection, placed on the page's clock (epoch ms)."""
    runs = []
    for e in events:
        if e.kind is EventKind.MONITORING_SUMMARY and e.payload.get("started_ms"):
            start = int(e.payload["started_ms"])
            for t0, t1, who in e.payload.get("presence") or []:
                runs.append({"from_ms": start + int(t0 * 1000), "to_ms": start + int(t1 * 1000), "who": who})
    return runs


def review_flags(events: Sequence[Any]) -> list[dict[str, Any]]:
    """Answers a person should look at: a question re-asked (an answer not accepted at first), an
    answer typed instead of spoken, a question flagged when its attempts ran out."""
    flags: dict[str, dict[str, Any]] = {}
    for e in events:
        p = e.payload
        qid = p.get("question_id")
        if qid is None:
            continue
        flag = flags.setdefault(str(qid), {"question_id": str(qid), "attempts": 0, "reasons": []})
        if e.kind is EventKind.ANSWER_JUDGED:
            flag["attempts"] += 1
            if flag["attempts"] == 2:
                flag["reasons"].append("re_asked")
            if p.get("input") == "text" and "typed_answer" not in flag["reasons"]:
                flag["reasons"].append("typed_answer")
        elif e.kind is EventKind.QUESTION_FLAGGED:
            flag["reasons"].append("question_flagged")
    return [f for f in flags.values() if f["reasons"]]


def session_detail(uow: UnitOfWork, reviewer: Reviewer, session_id: str) -> dict[str, Any]:
    with uow:
        record = _visible(reviewer, uow.sessions.get(session_id), session_id)
        _, session = load_aggregate(uow, session_id)
        stored = list(uow.events.list(session_id))
        deliveries = uow.jobs.list(key_prefix=f"webhook:{session_id}:")
        seal = uow.seals.get(session_id)
    chunks = sorted(session.recording_chunks().values(), key=lambda c: (c.segment, c.index))
    segments: dict[int, dict[str, Any]] = {}
    for c in chunks:
        seg = segments.setdefault(
            c.segment, {"segment": c.segment, "chunks": 0, "bytes": 0, "started_ms": c.started_ms}
        )
        seg["chunks"] += 1
        seg["bytes"] += c.size
        seg["started_ms"] = min(seg["started_ms"], c.started_ms)
        seg["ended_ms"] = max(seg.get("ended_ms", 0), c.ended_ms)
    qc = next((dict(e.payload) for e in reversed(stored) if e.kind == EventKind.QC_EVALUATED.value), None)
    timeline = []
    for e in stored:
        p = e.payload
        if e.kind == EventKind.ARTIFACT_STORED.value and p.get("role") in (recording.ROLE, trace.ROLE):
            continue  # the chunks are the video itself; the trace's batches have their own view
        timeline.append(
            {
                "seq": e.seq,
                "time": iso_time(e.at),
                "at_ms": int(e.at.timestamp() * 1000),
                "kind": e.kind,
                "payload": {k: v for k, v in p.items() if k not in ("recording", "biometric")},
            }
        )
    return {
        "session": {
            "id": record.id,
            "tenant_id": record.tenant_id,
            "status": record.status,
            "qc_verdict": record.qc_verdict,
            "review": record.review,
            "template": session.template.key,
            "template_title": session.template.title,
            "signer_name": record.signer_name,
            "signer_id_masked": record.signer_id_masked,
            "external_ref": record.external_ref,
            "summary": record.summary,
            "created_at": iso_time(record.created_at),
            "sealed": seal is not None,
            "manifest_sha256": seal.manifest_sha256 if seal is not None else None,
            # whose seal the signer applied and the authority recorded for it (None: no organisation)
            "organisation": session_organisation(session),
        },
        "qc": qc,
        # every decision in order (an override names the one it replaces and why): none is dropped
        "decisions": [
            {
                "seq": e.seq,
                "time": iso_time(e.at),
                "decision": e.payload.get("decision"),
                "by": e.payload.get("by"),
                "comment": e.payload.get("comment"),
                "override_reason": e.payload.get("override_reason"),
            }
            for e in stored
            if e.kind == EventKind.REVIEW_DECIDED.value
        ],
        "review_flags": review_flags(session.events),
        "timeline": timeline,
        "recording": list(segments.values()),
        "presence": _presence(session.events),
        "webhooks": [
            {
                "event": (d.payload.get("body") or {}).get("event"),
                "state": d.state,
                "attempts": d.attempts,
                "last_error": d.last_error,
            }
            for d in deliveries
            if d.kind == DELIVER_WEBHOOK
        ],
    }


def recording_segment(
    uow: UnitOfWork, blobs: BlobStore, reviewer: Reviewer, session_id: str, segment: int
) -> bytes:
    """One recorder run as one playable file: its chunks in order."""
    with uow:
        _visible(reviewer, uow.sessions.get(session_id), session_id)
        _, session = load_aggregate(uow, session_id)
    chunks = sorted(
        (c for c in session.recording_chunks().values() if c.segment == segment), key=lambda c: c.index
    )
    if not chunks:
        raise NotFound("recording segment", str(segment))
    return b"".join(blobs.get(c.sha256) for c in chunks)


def operation_trace(uow: UnitOfWork, blobs: BlobStore, reviewer: Reviewer, session_id: str) -> dict[str, Any]:
    """The page's operation trace summarised: screens with the time on each, documents with the time
    per page, the signer's confirmations and choices, the time away from the page."""
    with uow:
        _visible(reviewer, uow.sessions.get(session_id), session_id)
        _, session = load_aggregate(uow, session_id)
    try:
        t = read_trace(session, blobs)
    except TraceUnreadable as exc:
        return {"error": str(exc), "batches": sorted(session.trace_batches())}
    if t is None:
        return {"error": None, "batches": []}
    return {
        "error": None,
        "batches": list(t.batches),
        "missing_batches": list(t.missing_batches),
        "entries": t.entries,
        "away": t.away,
        "away_seconds": t.away_seconds,
        "screens": [asdict(v) for v in trace.merged_screens(t.screens)],
        "documents": [
            {
                "doc": d.doc,
                "sha256": d.sha256,
                "seconds": round(d.seconds, 3),
                "pages": [asdict(p) for _, p in sorted(d.pages.items())],
            }
            for d in t.documents
        ],
        "operations": [asdict(o) for o in t.operations],
    }


def artifact(
    uow: UnitOfWork, blobs: BlobStore, reviewer: Reviewer, session_id: str, sha256: str
) -> tuple[bytes, str]:
    with uow:
        _visible(reviewer, uow.sessions.get(session_id), session_id)
        found = next((a for a in uow.artifacts.list(session_id) if a.sha256 == sha256), None)
    if found is None or found.role not in VIEWABLE_ROLES:
        raise NotFound("artifact", sha256)
    return blobs.get(sha256), found.media_type


def evidence_report(uow: UnitOfWork, svc: SealServices, reviewer: Reviewer, session_id: str) -> bytes:
    """The sealed session's signed report (rendered once at sealing, or now if that job has not run)."""
    with uow:
        _visible(reviewer, uow.sessions.get(session_id), session_id)
        if uow.seals.get(session_id) is None:
            raise NotFound("sealed evidence of session", session_id)
    digest = ensure_report(uow, svc, session_id)
    if digest is None:  # a platform configured without reports
        raise NotFound("evidence report of session", session_id)
    return svc.blobs.get(digest)


def decide(
    uow: UnitOfWork,
    clock: Clock,
    reviewer: Reviewer,
    session_id: str,
    decision: str,
    comment: str,
    override_reason: str = "",
) -> dict[str, Any]:
    """Approve or reject a session after review: an event in its chain (and a QC webhook).

    A session already decided takes a new decision only as an explicit override with a reason
    (409 ``decision_exists`` otherwise); every decision stays in the chain and on the page."""
    if reviewer.role not in DECIDERS:
        raise Forbidden(reviewer.role, "approve or reject sessions")
    problems = []
    if decision not in ("approve", "reject"):
        problems.append(FieldProblem("decision", "must be approve or reject"))
    if decision == "reject" and len(comment.strip()) < 2:
        problems.append(FieldProblem("comment", "a rejection needs a reason"))
    if len(comment) > 2000:
        problems.append(FieldProblem("comment", "at most 2000 characters"))
    if len(override_reason) > 2000:
        problems.append(FieldProblem("override_reason", "at most 2000 characters"))
    elif override_reason and len(override_reason.strip()) < 2:
        problems.append(FieldProblem("override_reason", "say why the earlier decision is overridden"))
    if problems:
        raise InvalidInput(problems, "review")
    with uow:
        _visible(reviewer, uow.sessions.get(session_id), session_id)
        _, session = load_aggregate(uow, session_id)
        if session.current_state not in TERMINAL_STATES:
            raise Conflict(f"the session is still {session.current_state.value}: review it once it has ended")
        event = session.decide_review(
            clock.now(),
            decision=decision,
            comment=comment.strip(),
            by=reviewer.username,
            role=reviewer.role,
            override_reason=override_reason,
        )
        persist(uow, session, [event])
        uow.commit()
    return {
        "decision": decision,
        "by": reviewer.username,
        "at": iso_time(event.at),
        "overrides": event.payload.get("overrides"),
    }
