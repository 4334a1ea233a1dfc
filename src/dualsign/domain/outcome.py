"""How a session ended, as integrators and signers are told it: a reason code per ending event.

Every event that ends a session without a signature maps to one stable code; the webhook
``session.failed`` carries it as ``reason_code``, ``GET /v1/sessions/{id}`` as ``outcome_reason`` and the
signer page explains it in the signer's language. Codes never change meaning; new ones may be added.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dualsign.domain.states import EventKind, SessionState

E = EventKind
S = SessionState

# the ending event → the reason code
REASON_CODES: Mapping[EventKind, str] = {
    E.IDENTITY_FAILED: "identity",  # the live face did not match the ID photo within the attempts
    E.LIVENESS_FAILED: "liveness",  # the action challenges were not passed within the attempts
    E.QUESTION_FAILED: "question",  # a question was not confirmed within its attempts
    E.CONSENT_REFUSED: "refused",  # the signer refused consent (nothing recorded)
    E.SESSION_CANCELLED: "cancelled",  # the integrator cancelled the session
    E.SESSION_EXPIRED: "expired",  # the link was used after the session's deadline
    E.SESSION_FAILED: "other",  # any other failure (its ``reason`` says which)
}
FAILURE_EVENTS = frozenset(REASON_CODES)

# the codes a ``session_failed`` event may name (its payload's ``code``), said instead of "other"
FAILURE_CODES = frozenset(
    {
        "organisation_revoked",  # the organisation whose seal the signer was to apply was revoked
    }
)

# the outcome of an ended session, whatever happened to its evidence afterwards (sealing)
OUTCOMES: Mapping[SessionState, str] = {
    S.SIGNED: "completed",
    S.SEALED: "completed",  # only a signed session becomes "sealed" in the transition table
    S.FAILED: "failed",
    S.REFUSED: "refused",
    S.CANCELLED: "cancelled",
    S.EXPIRED: "expired",
}


def reason_code(kind: EventKind, payload: Mapping[str, object] | None = None) -> str | None:
    """The reason code of an ending event (None for an event that does not end a session unsigned); a
    ``session_failed`` event that names one of ``FAILURE_CODES`` has that code."""
    if kind is E.SESSION_FAILED and payload is not None and payload.get("code") in FAILURE_CODES:
        return str(payload["code"])
    return REASON_CODES.get(kind)


def ending_reason(events: Iterable[tuple[EventKind, Mapping[str, object]]]) -> str | None:
    """The reason code of the session whose events (kind, payload) are ``events`` (None while open or
    when signed)."""
    found = None
    for kind, payload in events:
        found = reason_code(kind, payload) or found
    return found


def outcome(state: SessionState) -> str:
    """``in_progress`` while open; otherwise completed / failed / refused / cancelled / expired."""
    return OUTCOMES.get(state, "in_progress")
