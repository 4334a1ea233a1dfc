"""A whole session in text mode, in memory: for trying a template and for demonstrations.

Identity and liveness are waived (and the waiver is recorded as such): there is no camera in a terminal.
The run ends when the questions end: document review and signature need the signer page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dualsign.application.answering import answer_and_continue, ask_next
from dualsign.application.ports import Clock
from dualsign.domain.session import Event, Prompt, SigningSession
from dualsign.domain.states import SessionState
from dualsign.domain.templates import Template

WAIVER = "text-mode simulation: no camera, identity and liveness not checked"

AnswerSource = Callable[[Prompt], str | None]  # None: the signer said nothing (no speech)
EventSink = Callable[[Event], None]


class AnswersExhausted(Exception):
    """The scripted answers ran out before the questions did."""


@dataclass(frozen=True)
class SimulationResult:
    session: SigningSession
    completed_questions: bool


def simulate(
    template: Template,
    clock: Clock,
    answers: AnswerSource,
    on_event: EventSink,
    signer_name: str = "模拟签署人",
) -> SimulationResult:
    session = SigningSession("simulation", template)

    def emit(events: list[Event]) -> None:
        for e in events:
            on_event(e)

    emit([session.create(clock.now(), {"signer_name": signer_name, "simulation": True})])
    emit([session.open(clock.now(), {"client": "dualsign simulate"})])
    emit(session.give_consent(clock.now(), waive_vision_reason=WAIVER))
    emit(ask_next(session, clock.now()))
    while session.state is SessionState.QUESTIONS and session.awaiting_answer:
        prompt = session.next_prompt()
        if prompt is None:  # awaiting an answer always has a prompt
            break
        transcript = answers(prompt)
        emit(answer_and_continue(session, clock.now(), transcript, {"input": "simulation"}))
    return SimulationResult(session, session.state is SessionState.DOCUMENT_REVIEW)
