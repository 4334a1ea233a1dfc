"""One answer attempt: judge the transcript, record the verdict, re-ask or move on.

Shared by every way an answer arrives (the signer's live channel, typed answers in ``simulate``, the
text-mode signer API), so that the rules are the same whatever the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dualsign.domain.errors import IllegalTransition
from dualsign.domain.matching import MatchResult, match
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind, SessionState


def judge(session: SigningSession, transcript: str) -> MatchResult:
    q = session.current_question
    if q is None:
        raise IllegalTransition(session.current_state.value, EventKind.ANSWER_JUDGED.value)
    return match(transcript, q.acceptable, q.rejections, session.template.language.family)


def answer_and_continue(
    session: SigningSession, at: datetime, transcript: str | None, evidence: Mapping[str, Any] | None = None
) -> list[Event]:
    """Record an answer (None: no speech was heard), then ask the next prompt if there is one."""
    result = judge(session, transcript) if transcript and transcript.strip() else None
    events = session.answer(at, transcript=transcript, result=result, evidence=evidence)
    return events + ask_next(session, at)


def ask_next(session: SigningSession, at: datetime) -> list[Event]:
    """Ask prompts until one expects an answer (statements pass as soon as they are read)."""
    events: list[Event] = []
    while session.state is SessionState.QUESTIONS and not session.awaiting_answer:
        if session.next_prompt() is None:
            break
        events += session.ask(at)
    return events
