"""Callbacks to the integrator: what happened to a session, signed, delivered at least once.

When a session reaches a milestone (completed, failed, sealed; its quality check evaluated or a
reviewer's decision) and has a ``callback_url``, a ``deliver_webhook`` job is enqueued in the same
transaction as the event (an outbox: no event without its delivery, no delivery without its event).
The job POSTs the JSON body with

    X-DualSign-Event:      session.completed | session.failed | session.sealed
                           | qc.passed | qc.failed | qc.needs_review
    X-DualSign-Delivery:   the delivery's key (the same on every retry: receivers de-duplicate on it)
    X-DualSign-Timestamp:  Unix seconds at sending
    X-DualSign-Signature:  v1=<hex HMAC-SHA256(tenant webhook secret, "<timestamp>.<body>")>

(only to addresses the callback policy allows: see ``callback_policy``), and anything but a 2xx
is retried with backoff (the job runner), then kept as ``dead`` with the last
answer. Receivers check the signature and reject timestamps older than a few minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualsign.application.outbox.callback_policy import CallbackPolicy, Resolver
from dualsign.application.ports import UnitOfWork
from dualsign.application.records import Job, StoredEvent
from dualsign.domain.errors import NotFound
from dualsign.domain.outcome import FAILURE_EVENTS, reason_code
from dualsign.domain.states import EventKind

DELIVER_WEBHOOK = "deliver_webhook"
MAX_ATTEMPTS = 10
# every event that ends a session unsigned is a ``session.failed`` with its ``reason_code``
# (``domain.outcome``: identity, liveness, question, refused, cancelled, expired, other)
MILESTONES: Mapping[str, str] = {
    EventKind.SIGNATURE_APPLIED.value: "session.completed",
    **{kind.value: "session.failed" for kind in FAILURE_EVENTS},
    EventKind.EVIDENCE_SEALED.value: "session.sealed",
}
QC_MILESTONES = (EventKind.QC_EVALUATED.value, EventKind.REVIEW_DECIDED.value)
QC_EVENTS = {"PASS": "qc.passed", "FAIL": "qc.failed", "NEEDS_REVIEW": "qc.needs_review"}
PUBLIC_FIELDS = ("reason", "manifest_sha256", "log_index", "verdict", "ruleset", "decision", "by", "comment")


def milestone(e: StoredEvent) -> str:
    """The webhook event name of a stored milestone event (QC names follow the verdict)."""
    if e.kind == EventKind.REVIEW_DECIDED.value:
        return "qc.passed" if e.payload.get("decision") == "approve" else "qc.failed"
    if e.kind == EventKind.QC_EVALUATED.value:
        return QC_EVENTS.get(str(e.payload.get("verdict")), "qc.needs_review")
    return MILESTONES[e.kind]


def tenant_secret(platform_secret: bytes, tenant_id: str) -> bytes:
    """The tenant's webhook signing key, derived from the platform secret (shown at /v1/webhook-secret)."""
    return hmac.new(platform_secret, b"dualsign.webhook.v1:" + tenant_id.encode(), hashlib.sha256).digest()


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    return "v1=" + hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def enqueue_milestones(uow: UnitOfWork, session_id: str, stored: list[StoredEvent]) -> None:
    """Queue a delivery for each milestone among ``stored`` (called by the event log, same transaction)."""
    wanted = [e for e in stored if e.kind in MILESTONES or e.kind in QC_MILESTONES]
    if not wanted:
        return
    record = uow.sessions.get(session_id)
    if record is None or not record.callback_url:
        return
    for e in wanted:
        body = {
            "event": milestone(e),
            "session_id": session_id,
            "external_ref": record.external_ref,
            "state": e.kind,
            "seq": e.seq,
            "event_sha256": e.sha256,
            "at": e.at.isoformat(),
            "payload": {k: v for k, v in e.payload.items() if k in PUBLIC_FIELDS},
        }
        if body["event"] == "session.failed":
            body["reason_code"] = reason_code(EventKind(e.kind), e.payload)
        key = f"webhook:{session_id}:{e.seq}"
        uow.jobs.enqueue(
            DELIVER_WEBHOOK,
            1,
            key,
            {"tenant_id": record.tenant_id, "url": record.callback_url, "body": body},
            e.at,
            MAX_ATTEMPTS,
        )


def deliveries(uow: UnitOfWork, tenant_id: str, session_id: str) -> list[Job]:
    """The delivery log of a tenant's session (another tenant's id: not found)."""
    with uow:
        record = uow.sessions.get(session_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound("session", session_id)
        return list(uow.jobs.list(key_prefix=f"webhook:{session_id}:"))


@dataclass(frozen=True)
class Delivery:
    url: str
    body: bytes
    headers: dict[str, str]


Sender = Callable[[Delivery], int]  # returns the HTTP status; raises on a network failure


def deliver(
    job: Job,
    platform_secret: bytes,
    now: datetime,
    send: Sender,
    policy: CallbackPolicy,
    resolve: Resolver,
) -> None:
    """Send one delivery; a refused address or anything but 2xx raises, so the runner retries it."""
    payload: dict[str, Any] = dict(job.payload)
    policy.check_delivery(str(payload["url"]), resolve)
    body = json.dumps(payload["body"], ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ts = int(now.timestamp())
    secret = tenant_secret(platform_secret, str(payload["tenant_id"]))
    headers = {
        "Content-Type": "application/json",
        "X-DualSign-Event": str(payload["body"]["event"]),
        "X-DualSign-Delivery": job.key,
        "X-DualSign-Timestamp": str(ts),
        "X-DualSign-Signature": signature(secret, ts, body),
    }
    status = send(Delivery(str(payload["url"]), body, headers))
    if not 200 <= status < 300:
        raise RuntimeError(f"the receiver answered HTTP {status}")
