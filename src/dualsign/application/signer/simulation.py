"""A whole session in the terminal, in memory: for trying a template and for demonstrations.

Answers are typed, scripted, or spoken (WAV files run through the real VAD and ASR); statements are
shown and count as heard (the playback report says ``source: simulation``). Identity and
liveness are waived (and the waiver is recorded as such): there is no camera in a terminal. The run
ends when the questions end: document review and signature need the signer page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dualsign.application.perception.judging import Heard
from dualsign.application.perception.speech import AnswerCapture, answer_hints, endpoint_config, heard_scores
from dualsign.application.ports import Clock
from dualsign.application.signer.answers import Renderer, answer_and_continue, ask_next
from dualsign.domain.event_payloads import AnswerEvidence, SessionDetails
from dualsign.domain.participants import agent_record
from dualsign.domain.session import Event, Prompt, SigningSession
from dualsign.domain.states import SessionState
from dualsign.domain.templates import Template
from dualsign.domain.variables import with_agent
from dualsign.engines.base import AsrEngine, VadEngine
from dualsign.media.audio import decode

WAIVER = "text-mode simulation: no camera, identity and liveness not checked"
SIMULATED_AGENT = ("模拟业务人员", "A0000001")  # name and number of the agent of an agent template


@dataclass(frozen=True)
class AnswerInput:
    transcript: str | None  # None: nothing was heard
    evidence: AnswerEvidence = field(default_factory=lambda: AnswerEvidence())
    failure: str | None = None
    scores: Heard | None = None  # the expected answers scored against the audio, when it was heard


AnswerSource = Callable[[Prompt], AnswerInput]
EventSink = Callable[[Event], None]


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
    render: Renderer | None = None,
    variables: Mapping[str, object] | None = None,
) -> SimulationResult:
    """``variables``: the template's variables (default: the examples the template declares)."""
    session = SigningSession("simulation", template)
    values: Mapping[str, object] = template.example_values() if variables is None else variables
    if template.agent is not None:  # the seller's name and number read aloud are the sample agent's
        values, _ = with_agent(template.variables, values, *SIMULATED_AGENT)

    def emit(events: list[Event]) -> None:
        for e in events:
            on_event(e)

    details: SessionDetails = {"signer_name": signer_name, "simulation": True}
    if template.agent is not None:  # a sample agent, no photo (identity is waived in a simulation)
        details["agent"] = agent_record(template.agent.label, SIMULATED_AGENT[0], SIMULATED_AGENT[1], "")
    emit([session.create(clock.now(), details, values)])
    emit([session.open(clock.now(), {"client": "dualsign simulate"})])
    emit(session.give_consent(clock.now(), waive_vision_reason=WAIVER))
    emit(ask_next(session, clock.now(), render))
    while session.state is SessionState.QUESTIONS and session.prompt_pending:
        prompt = session.next_prompt()
        if prompt is None:  # a pending prompt always exists
            break
        if session.awaiting_playback:  # a statement: the terminal shows it; its audio counts as heard
            emit(_statement_shown(session, clock, prompt) + ask_next(session, clock.now(), render))
            continue
        given = answers(prompt)
        emit(
            answer_and_continue(
                session,
                clock.now(),
                given.transcript,
                given.evidence,
                render=render,
                failure=given.failure,
                scores=given.scores,
            )
        )
    return SimulationResult(session, session.state is SessionState.DOCUMENT_REVIEW)


def _statement_shown(session: SigningSession, clock: Clock, prompt: Prompt) -> list[Event]:
    asked = session.last_asked.payload.get("audio", []) if session.last_asked else []
    parts = [{"sha256": a["sha256"], "played_s": a.get("duration_s", 0.0), "ended": True} for a in asked]
    return session.report_playback(
        clock.now(), question_id=prompt.question_id, attempt=prompt.attempt, parts=parts, source="simulation"
    )


def spoken_answer(
    wav: bytes,
    template: Template,
    prompt: Prompt,
    vad: VadEngine,
    asr: AsrEngine,
    executor: ThreadPoolExecutor,
) -> AnswerInput:
    """One answer from a recorded file, through the same capture (VAD, end of answer, ASR) as live."""
    family = template.language.family
    question = template.question(prompt.question_id)
    capture = AnswerCapture(
        vad,
        asr,
        endpoint_config(template),
        language=family,
        hints=answer_hints(question, family),
        executor=executor,
    )
    audio = decode(wav)
    for start in range(0, len(audio), 1600):
        capture.feed(audio[start : start + 1600])
        if capture.result is not None:
            break
    got = capture.finish_now()
    t = got.transcript
    evidence: AnswerEvidence = {
        "input": "audio file",
        "speech_start_ms": got.speech_start_ms,
        "speech_end_ms": got.speech_end_ms,
    }
    if t is not None:
        evidence.update(
            {"engine": t.engine, "model": t.model, "confidence": t.confidence, "asr_compute_s": t.compute_s}
        )
    return AnswerInput(t.text if t else None, evidence, got.error, heard_scores(t))
