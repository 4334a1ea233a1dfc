"""One answer attempt: judge the transcript (``perception.judging``), record the verdict, re-ask or move on.

Shared by every way an answer arrives (the signer's live channel, typed answers in ``simulate``, the
text-mode signer API), so that the rules are the same whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from dualsign.application.perception.judging import Heard, judge_answer
from dualsign.domain.errors import IllegalTransition
from dualsign.domain.event_payloads import AnswerEvidence, PromptAudioItem
from dualsign.domain.matching import MatchResult
from dualsign.domain.participants import judge_introduction
from dualsign.domain.session import Event, Prompt, SigningSession
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import Participant, answers

# Renders the audio of a prompt (reminder and question) and returns what to record of it.
Renderer = Callable[[Prompt], Sequence[PromptAudioItem]]


def judge(session: SigningSession, transcript: str, scores: Heard | None = None) -> MatchResult:
    """The transcript judged by the text rules, then (when the recogniser scored the expected answers
    against the audio) confirmed or completed by those scores (``domain.acoustic``)."""
    q = session.current_question
    if q is None:
        raise IllegalTransition(session.current_state.value, EventKind.ANSWER_JUDGED.value)
    family = session.template.language.family
    if q.speaker is Participant.AGENT:
        if session.agent is None:
            raise IllegalTransition(session.current_state.value, "agent introduction without an agent")
        return judge_introduction(transcript, session.agent, family)
    acceptable, rejections = answers(q, family)
    return judge_answer(transcript, acceptable, rejections, family, scores, q.polarity.value)


def answer_and_continue(
    session: SigningSession,
    at: datetime,
    transcript: str | None,
    evidence: AnswerEvidence | None = None,
    *,
    render: Renderer | None = None,
    failure: str | None = None,
    scores: Heard | None = None,
) -> list[Event]:
    """Record an answer (None: no speech was heard), then ask the next prompt if there is one."""
    heard = transcript is not None and transcript.strip() != ""
    result = judge(session, transcript, scores) if heard and failure is None and transcript else None
    events = session.answer(
        at, transcript=transcript if heard else None, result=result, evidence=evidence, failure=failure
    )
    return events + ask_next(session, at, render)


def ask_next(session: SigningSession, at: datetime, render: Renderer | None = None) -> list[Event]:
    """Ask the next prompt unless one is waiting (for an answer, or a statement for its playback)."""
    events: list[Event] = []
    while session.state is SessionState.QUESTIONS and not session.prompt_pending:
        prompt = session.next_prompt()
        if prompt is None:
            break
        events += session.ask(at, audio=render(prompt) if render else ())
    return events
