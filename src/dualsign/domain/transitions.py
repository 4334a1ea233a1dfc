"""The one transition table of a signing session.

Everything that decides which state an event leads to lives here. An event not in the table for the
current state raises ``IllegalTransition`` naming both. ``mermaid_diagram()`` draws the table; the
diagram in ``docs/state-diagram.md`` is generated from it (a test keeps the two equal).
"""

from __future__ import annotations

from collections.abc import Iterable

from dualsign.domain.errors import IllegalTransition
from dualsign.domain.states import (
    ENDED_STATES,
    OPEN_STATES,
    RECORDING_STATES,
    TERMINAL_STATES,
    EventKind,
    SessionState,
)

S = SessionState
E = EventKind


def _each(
    states: Iterable[SessionState], event: EventKind, to: SessionState | None = None
) -> dict[tuple[SessionState, EventKind], SessionState]:
    """``event`` allowed in each of ``states``; it leads to ``to``, or keeps the state when ``to`` is None."""
    return {(s, event): (to if to is not None else s) for s in states}


TRANSITIONS: dict[tuple[SessionState, EventKind], SessionState] = {
    (S.CREATED, E.SIGNER_OPENED): S.CONSENT,
    **_each(OPEN_STATES - {S.CREATED}, E.SIGNER_OPENED),
    (S.CONSENT, E.CONSENT_GIVEN): S.IDENTITY,
    (S.CONSENT, E.CONSENT_REFUSED): S.REFUSED,
    (S.IDENTITY, E.IDENTITY_ATTEMPT_FAILED): S.IDENTITY,
    (S.IDENTITY, E.IDENTITY_VERIFIED): S.LIVENESS,
    (S.IDENTITY, E.IDENTITY_WAIVED): S.LIVENESS,
    (S.IDENTITY, E.IDENTITY_FAILED): S.FAILED,
    (S.LIVENESS, E.LIVENESS_CHALLENGE_ISSUED): S.LIVENESS,
    (S.LIVENESS, E.LIVENESS_ATTEMPT_FAILED): S.LIVENESS,
    (S.LIVENESS, E.LIVENESS_PASSED): S.QUESTIONS,
    (S.LIVENESS, E.LIVENESS_WAIVED): S.QUESTIONS,
    (S.LIVENESS, E.LIVENESS_FAILED): S.FAILED,
    (S.QUESTIONS, E.QUESTION_ASKED): S.QUESTIONS,
    (S.QUESTIONS, E.QUESTION_REPEATED): S.QUESTIONS,
    (S.QUESTIONS, E.PROMPT_PLAYED): S.QUESTIONS,
    (S.QUESTIONS, E.ANSWER_JUDGED): S.QUESTIONS,
    (S.QUESTIONS, E.QUESTION_PASSED): S.QUESTIONS,
    (S.QUESTIONS, E.QUESTION_FLAGGED): S.QUESTIONS,
    (S.QUESTIONS, E.QUESTION_FAILED): S.FAILED,
    (S.QUESTIONS, E.QUESTIONS_COMPLETED): S.DOCUMENT_REVIEW,
    (S.DOCUMENT_REVIEW, E.DOCUMENT_VIEWED): S.DOCUMENT_REVIEW,
    (S.DOCUMENT_REVIEW, E.DOCUMENTS_REVIEWED): S.SIGNING,
    (S.SIGNING, E.DOCUMENT_SIGNED): S.SIGNING,
    (S.SIGNING, E.SIGNATURE_APPLIED): S.SIGNED,
    **_each(RECORDING_STATES, E.MONITORING_WARNING),
    **_each(RECORDING_STATES | ENDED_STATES, E.MONITORING_SUMMARY),
    **_each(OPEN_STATES | ENDED_STATES, E.ARTIFACT_STORED),
    **_each(RECORDING_STATES | ENDED_STATES, E.RECORDING_CLOSED),
    **_each(ENDED_STATES, E.RECORDING_ANALYSED),
    **_each(ENDED_STATES, E.QC_EVALUATED),
    **_each(TERMINAL_STATES, E.REVIEW_DECIDED),
    **_each(OPEN_STATES - {S.CREATED}, E.SESSION_FAILED, S.FAILED),
    **_each(OPEN_STATES, E.SESSION_CANCELLED, S.CANCELLED),
    **_each(OPEN_STATES, E.SESSION_EXPIRED, S.EXPIRED),
    (S.SIGNED, E.EVIDENCE_SEALED): S.SEALED,
    **_each(ENDED_STATES - {S.SIGNED}, E.EVIDENCE_SEALED),
    **_each(ENDED_STATES, E.SEALING_FAILED),
    **_each(TERMINAL_STATES, E.LEGAL_HOLD_PLACED),
    **_each(TERMINAL_STATES, E.LEGAL_HOLD_RELEASED),
    (S.SEALED, E.EVIDENCE_DELETED): S.SEALED,
    **_each(ENDED_STATES - {S.SIGNED}, E.EVIDENCE_DELETED),
}

# the only events a sealed session still takes (whatever state it was sealed in): its chain is final
# otherwise, and nothing else (a chunk, a summary, a second seal) may be appended by any route
AFTER_SEAL_EVENTS = frozenset(
    {E.REVIEW_DECIDED, E.LEGAL_HOLD_PLACED, E.LEGAL_HOLD_RELEASED, E.EVIDENCE_DELETED}
)

# the events that end a session (an open state to an ended one): each calls for the session's seal
ENDING_EVENTS = frozenset(e for (src, e), dst in TRANSITIONS.items() if src.is_open and dst in ENDED_STATES)

INITIAL_EVENT = E.SESSION_CREATED
INITIAL_STATE = S.CREATED


def next_state(state: SessionState, event: EventKind) -> SessionState:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state.value, event.value) from None


def check_after_seal(event: EventKind) -> None:
    """Refuse ``event`` for a session whose evidence is sealed, unless it is one of ``AFTER_SEAL_EVENTS``."""
    if event not in AFTER_SEAL_EVENTS:
        raise IllegalTransition("sealed", event.value)


def allowed_events(state: SessionState) -> frozenset[EventKind]:
    return frozenset(e for (s, e) in TRANSITIONS if s is state)


def mermaid_diagram() -> str:
    """The state diagram of the table, as Mermaid text (self-loops left out for readability)."""
    lines = ["stateDiagram-v2", f"    [*] --> {INITIAL_STATE.value}: {INITIAL_EVENT.value}"]
    edges: dict[tuple[str, str], list[str]] = {}
    for (src, event), dst in TRANSITIONS.items():
        if src is not dst:
            edges.setdefault((src.value, dst.value), []).append(event.value)
    for (src_name, dst_name), events in sorted(edges.items()):
        lines.append(f"    {src_name} --> {dst_name}: {', '.join(sorted(events))}")
    for state in sorted(s.value for s in S if s.is_terminal):
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"
