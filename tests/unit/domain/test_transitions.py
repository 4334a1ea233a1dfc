"""The one transition table: illegal events name state and event; the docs diagram is drawn from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualsign.domain.errors import IllegalTransition
from dualsign.domain.states import TERMINAL_STATES, EventKind, SessionState
from dualsign.domain.transitions import TRANSITIONS, allowed_events, mermaid_diagram, next_state

DOC = Path(__file__).parents[3] / "docs" / "state-diagram.md"


def test_illegal_transition_names_state_and_event() -> None:
    with pytest.raises(IllegalTransition) as err:
        next_state(SessionState.CREATED, EventKind.SIGNATURE_APPLIED)
    assert err.value.state == "created"
    assert err.value.event == "signature_applied"
    assert "signature_applied" in str(err.value)
    assert "created" in str(err.value)


def test_happy_path_reaches_sealed() -> None:
    path = [
        EventKind.SIGNER_OPENED,
        EventKind.CONSENT_GIVEN,
        EventKind.IDENTITY_VERIFIED,
        EventKind.LIVENESS_PASSED,
        EventKind.QUESTION_ASKED,
        EventKind.ANSWER_JUDGED,
        EventKind.QUESTION_PASSED,
        EventKind.QUESTIONS_COMPLETED,
        EventKind.DOCUMENTS_REVIEWED,
        EventKind.SIGNATURE_APPLIED,
        EventKind.EVIDENCE_SEALED,
    ]
    state = SessionState.CREATED
    for event in path:
        state = next_state(state, event)
    assert state is SessionState.SEALED


def test_ended_states_only_move_on_to_sealed() -> None:
    for state in TERMINAL_STATES:
        for event in allowed_events(state):
            moved = next_state(state, event)
            assert moved is state or (moved is SessionState.SEALED and event is EventKind.EVIDENCE_SEALED)
    assert allowed_events(SessionState.SEALED) == {
        EventKind.LEGAL_HOLD_PLACED,
        EventKind.LEGAL_HOLD_RELEASED,
        EventKind.EVIDENCE_DELETED,
        EventKind.REVIEW_DECIDED,  # a reviewer's decision after sealing
    }


def test_refusal_and_failures_can_still_be_sealed_as_evidence() -> None:
    for state in (SessionState.REFUSED, SessionState.FAILED, SessionState.CANCELLED, SessionState.EXPIRED):
        assert (state, EventKind.EVIDENCE_SEALED) in TRANSITIONS


def test_every_state_is_reachable() -> None:
    reached = {SessionState.CREATED}
    frontier = [SessionState.CREATED]
    while frontier:
        s = frontier.pop()
        for e in allowed_events(s):
            n = next_state(s, e)
            if n not in reached:
                reached.add(n)
                frontier.append(n)
    assert reached == set(SessionState)


def test_docs_diagram_is_generated_from_the_table() -> None:
    assert f"```mermaid\n{mermaid_diagram()}```" in DOC.read_text(encoding="utf-8"), (
        "docs/state-diagram.md is stale: regenerate with `dualsign state-diagram`"
    )
