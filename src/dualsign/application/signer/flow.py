"""Signer-side use cases, authorised by the signer link's token.

Every call re-checks the session's stored state: an expired session is marked expired (an event) and
refused; a cancelled or finished one is refused. Typed and spoken answers go through the same answer
flow; every prompt asked is rendered to audio (when a voice is configured) and its digest recorded.

Every step (opening the link included) first looks at the organisation whose seal the session applies:
revoked since the session was created, the session fails there (``session_failed``, code
``organisation_revoked``) instead of taking the step, so that the signer is not taken through a
recording that can never be signed (the signing checks it again, under its lock).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dualsign.application.artifacts import store_artifact
from dualsign.application.event_store import load_aggregate, persist
from dualsign.application.integrator.organisations import SealStanding, seal_standing
from dualsign.application.integrator.prompts import render_prompt
from dualsign.application.integrator.signer_links import SignerLinks
from dualsign.application.perception.speech import (
    AnswerCapture,
    CapturedAnswer,
    answer_hints,
    endpoint_config,
    heard_scores,
)
from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.application.records import SessionRecord
from dualsign.application.signer.answers import Renderer, answer_and_continue, ask_next, judge
from dualsign.application.signer.ports import Sealer
from dualsign.domain import events as ev
from dualsign.domain.errors import IllegalTransition, TokenInvalid, TypedAnswersNotAllowed
from dualsign.domain.event_payloads import AnswerEvidence, OrganisationItem, PromptAudioItem
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.outcome import ending_reason
from dualsign.domain.session import Event, Prompt, SigningSession
from dualsign.domain.states import ENDED_STATES, EventKind, SessionState
from dualsign.domain.templates import AnswerMode, Template
from dualsign.engines.base import AsrEngine, Transcript, TtsEngine, VadEngine
from dualsign.engines.vision_base import VisionEngines
from dualsign.media.audio import to_wav


@dataclass(frozen=True)
class SignerServices:
    clock: Clock
    links: SignerLinks
    blobs: BlobStore
    ids: Callable[[str], str]
    tts: TtsEngine | None = None  # None: prompts are text only
    vad: VadEngine | None = None
    asr: AsrEngine | None = None
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=4))
    vision: VisionEngines | None = None
    rng: random.Random = field(default_factory=random.SystemRandom)
    sealer: Sealer | None = None  # seals a session once it has ended


@dataclass(frozen=True)
class SignerView:
    record: SessionRecord
    state: str
    prompt: Prompt | None
    prompt_audio: Sequence[Mapping[str, Any]]  # what to play for the prompt, in order
    events: list[Event]  # what this call added
    template: Template | None = None  # what the page shows around the steps (title, consent, language)
    ended_reason: str | None = None  # how an unsigned session ended (``domain.outcome`` reason code)
    sealed: bool = False  # the evidence is sealed (whatever the state it was sealed in)
    organisation: OrganisationItem | None = None  # whose seal the signer applies, and as what


@dataclass(frozen=True)
class AnswerPreview:
    """The verdict an answer would get as heard so far (``preview_spoken_answer``): shown, not recorded."""

    question_id: str
    attempt: int
    transcript: str
    verdict: str
    explanation: dict[str, object]


def session_organisation(session: SigningSession) -> OrganisationItem | None:
    """The organisation whose seal the signer applies, as the session's creation recorded it."""
    created = next((e for e in session.events if e.kind is EventKind.SESSION_CREATED), None)
    return ev.SESSION_CREATED.of(created).get("organisation") if created is not None else None


def sealing_organisation(session: SigningSession) -> OrganisationItem | None:
    """The organisation whose seal this session's signing applies (None: the session applies none)."""
    org = session_organisation(session)
    return org if org is not None and session.template.takes_organisation else None


def revoked_standing(uow: UnitOfWork, session: SigningSession, at: datetime) -> SealStanding | None:
    """Why the organisation whose seal the session applies can never seal again (revoked, or gone),
    looked at without a lock; None when it may still seal (a certificate out of its term is not final:
    the signing refuses it until a renewal)."""
    org = sealing_organisation(session)
    if org is None:
        return None
    standing = seal_standing(uow, org["id"], at, lock=None)
    return standing if standing.block is not None and standing.block.final else None


def load_linked(uow: UnitOfWork, svc: SignerServices, token: str) -> SigningSession:
    """The session behind an unexpired signer link, in whatever state (the recording's chunks and the
    operation trace may still arrive after it ended)."""
    claim = svc.links.verify_signature(token)
    if claim.expired(svc.clock.now()):
        raise TokenInvalid("the signer link has expired")
    _record, session = load_aggregate(uow, claim.session_id)
    return session


def load_open(
    uow: UnitOfWork, svc: SignerServices, token: str, *, ended_ok: bool = False
) -> tuple[SessionRecord, SigningSession]:
    """The open session behind ``token`` (``ended_ok``: an ended one too, to be looked at only)."""
    claim = svc.links.verify_signature(token)
    now = svc.clock.now()
    record, session = load_aggregate(uow, claim.session_id)
    if ended_ok and not session.current_state.is_open:
        if claim.expired(now):
            raise TokenInvalid("the signer link has expired")
        return record, session
    if not session.current_state.is_open:
        raise TokenInvalid(f"this signing session is {session.current_state.value}")
    if now >= record.expires_at:
        persist(uow, session, [session.expire(now)])
        uow.commit()
        raise TokenInvalid("this signing session has expired")
    if claim.expired(now):
        raise TokenInvalid("the signer link has expired")
    return record, session


def _prompt_audio(session: SigningSession) -> Sequence[Mapping[str, Any]]:
    prompt = session.next_prompt()
    asked = session.last_asked  # the last question_asked event, however many chunks came after it
    if prompt is None or asked is None:
        return []
    same = (
        asked.payload.get("question_id") == prompt.question_id
        and asked.payload.get("attempt") == prompt.attempt
    )
    return list(asked.payload.get("audio") or []) if same else []


Action = Callable[[SigningSession, datetime, Renderer | None], list[Event]]


def _where(state: SessionState) -> str:
    return (
        "when the signer opened the link" if state is SessionState.CREATED else f"at the {state.value} step"
    )


def act(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    action: Action,
    *,
    look_only_if_ended: bool = False,
    opens: bool = False,
) -> SignerView:
    """Load the open session behind ``token``, run ``action`` at the current time, store its events.

    ``look_only_if_ended``: a session that has ended is shown as it is (no action): a signer who opens
    a finished link again sees how it ended, in the session's language, rather than an error.

    A session whose organisation was revoked fails instead of taking the step (``opens``: the action
    opens the link, recorded first: a session fails only once opened); the page is shown how it ended."""
    with uow:
        record, session = load_open(uow, svc, token, ended_ok=look_only_if_ended)
        if not session.current_state.is_open:
            return view_of(record, session, [])
        now = svc.clock.now()
        state = session.current_state
        may_fail = opens or state is not SessionState.CREATED  # a session fails only once opened
        revoked = revoked_standing(uow, session, now) if may_fail else None
        if revoked is not None and revoked.block is not None:
            ended = action(session, now, None) if opens else []
            reason = f"{revoked.reason}; the session ended {_where(state)}, nothing was signed"
            ended.append(session.fail(now, reason=reason, code=revoked.block.value))
            persist(uow, session, ended)
            uow.commit()
            if svc.sealer is not None:
                svc.sealer.seal_ended(session.id)
            return view_of(record, session, ended)
        render: Renderer | None = None
        tts = svc.tts
        if tts is not None:

            def render(prompt: Prompt) -> list[PromptAudioItem]:
                parts = render_prompt(uow, svc.blobs, tts, svc.clock, session.template, prompt)
                return [p.to_payload() for p in parts]

        events = action(session, svc.clock.now(), render)
        if events:
            persist(uow, session, events)
            uow.commit()
            if svc.sealer is not None and session.current_state in ENDED_STATES:
                svc.sealer.seal_ended(session.id)
        return view_of(record, session, events)


def view_of(record: SessionRecord, session: SigningSession, events: list[Event]) -> SignerView:
    """What the signer's page is told after an action that added ``events``."""
    return SignerView(
        record,
        session.current_state.value,
        session.next_prompt(),
        _prompt_audio(session),
        events,
        session.template,
        None if session.current_state.is_open else ending_reason((e.kind, e.payload) for e in session.events),
        session.sealed,
        session_organisation(session),
    )


def open_session(uow: UnitOfWork, svc: SignerServices, token: str, client: dict[str, str]) -> SignerView:
    return act(uow, svc, token, lambda s, now, _r: [s.open(now, client)], look_only_if_ended=True, opens=True)


def consent(uow: UnitOfWork, svc: SignerServices, token: str, *, agree: bool, reason: str = "") -> SignerView:
    def decide(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        if agree:
            return s.give_consent(now) + ask_next(s, now, render)
        return [s.refuse_consent(now, reason[:500])]

    return act(uow, svc, token, decide)


def answer_text(uow: UnitOfWork, svc: SignerServices, token: str, text: str) -> SignerView:
    """A typed answer, where the template allows them (``typed_answers``; by default not for Mandarin
    spoken-confirmation templates); it is recorded as typed (``input: text``)."""

    def decide(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        if not s.template.typed_answers_allowed:
            raise TypedAnswersNotAllowed(s.template.key)
        return answer_and_continue(s, now, text, {"input": "text"}, render=render)

    return act(uow, svc, token, decide)


def repeat_question(uow: UnitOfWork, svc: SignerServices, token: str) -> SignerView:
    return act(uow, svc, token, lambda s, now, _r: [s.repeat_question(now)])


def report_playback(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    *,
    question_id: str,
    attempt: int,
    parts: Sequence[Mapping[str, Any]],
    rate: float,
) -> SignerView:
    """The page's playback report of the current prompt; a statement played in full moves on."""

    def played(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        events = s.report_playback(now, question_id=question_id, attempt=attempt, parts=parts, rate=rate)
        return events + ask_next(s, now, render)

    return act(uow, svc, token, played)


def current(uow: UnitOfWork, svc: SignerServices, token: str) -> SignerView:
    return act(uow, svc, token, lambda s, now, _r: [], look_only_if_ended=True)


def prompt_audio_digests(uow: UnitOfWork, svc: SignerServices, token: str) -> set[str]:
    """Digests of prompt audio this session has played: the only blobs its signer may fetch."""
    with uow:
        _, session = load_open(uow, svc, token)
    return {
        str(a["sha256"])
        for e in session.events
        if e.kind is EventKind.QUESTION_ASKED
        for a in e.payload.get("audio") or []
    }


def begin_answer(uow: UnitOfWork, svc: SignerServices, token: str) -> AnswerCapture:
    """Open an answer window for the current question (live audio follows)."""
    if svc.vad is None or svc.asr is None:
        raise IllegalTransition("questions", "spoken answer without speech engines")
    with uow:
        _, session = load_open(uow, svc, token)
    q = session.current_question
    if q is None or not session.awaiting_answer:
        raise IllegalTransition(session.current_state.value, EventKind.ANSWER_JUDGED.value)
    family = session.template.language.family
    return AnswerCapture(
        svc.vad,
        svc.asr,
        endpoint_config(session.template),
        language=family,
        hints=answer_hints(q, family, session.agent),
        executor=svc.executor,
    )


def submit_spoken_answer(
    uow: UnitOfWork, svc: SignerServices, token: str, captured: CapturedAnswer
) -> SignerView:
    """Store the answer audio, record transcript and verdict (or no speech / engine failure), continue."""

    def record(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        events: list[Event] = []
        evidence: AnswerEvidence = {"input": "speech"}
        if captured.outcome == "speech" and len(captured.audio):
            stored = store_artifact(
                uow,
                svc.blobs,
                svc.ids,
                s,
                now,
                to_wav(captured.audio),
                role="answer_audio",
                name=f"{s.current_question.id if s.current_question else 'answer'}-{now:%H%M%S%f}.wav",
                media_type="audio/wav",
            )
            events.append(stored.event)
            evidence.update(
                {
                    "audio_sha256": stored.sha256,
                    "speech_start_ms": captured.speech_start_ms,
                    "speech_end_ms": captured.speech_end_ms,
                    "endpoint_wait_ms": captured.waited_ms,
                }
            )
            if captured.previewed_ms is not None:
                evidence["previewed_ms"] = captured.previewed_ms
            if captured.withdrawals:
                evidence["previews_withdrawn"] = captured.withdrawals
        t = captured.transcript
        if t is not None:
            evidence.update(
                {
                    "engine": t.engine,
                    "model": t.model,
                    "confidence": t.confidence,
                    "no_speech_prob": t.no_speech_prob,
                    "asr_compute_s": t.compute_s,
                }
            )
        text = t.text if t is not None else None
        events += answer_and_continue(
            s, now, text, evidence, render=render, failure=captured.error, scores=heard_scores(t)
        )
        return events

    return act(uow, svc, token, record)


def preview_spoken_answer(
    uow: UnitOfWork, svc: SignerServices, token: str, transcript: Transcript
) -> AnswerPreview | None:
    """The verdict the answer heard so far would get, recorded nowhere: what the page may show while
    the end of the answer is being confirmed (None: nothing to judge, or no answer is awaited)."""
    with uow:
        _, s = load_open(uow, svc, token)
    q = s.current_question
    if q is None or not s.awaiting_answer or not transcript.text.strip():
        return None
    result = judge(s, transcript.text, heard_scores(transcript))
    attempt = s.progress[q.id].attempts + 1
    return AnswerPreview(q.id, attempt, transcript.text, result.verdict.value, result.to_dict())


def allows_nod(uow: UnitOfWork, svc: SignerServices, token: str) -> bool:
    """The current question accepts a nod instead of a spoken answer (an accessibility option)."""
    with uow:
        _, s = load_open(uow, svc, token)
    q = s.current_question
    return q is not None and s.awaiting_answer and AnswerMode.NOD in q.answer_modes


def submit_nod(uow: UnitOfWork, svc: SignerServices, token: str, frames: int, amplitude: float) -> SignerView:
    """The signer nodded during the answer window of a question that allows it: an affirmative answer."""

    def record(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        q = s.current_question
        if q is None or AnswerMode.NOD not in q.answer_modes:
            raise IllegalTransition(s.current_state.value, "nod answer to a question that does not allow it")
        result = MatchResult(
            Verdict.ACCEPT,
            "nod",
            "",
            None,
            "nod",
            f"nodded (pitch swing {amplitude:.3f} over {frames} frames); the template allows it",
        )
        events = s.answer(now, transcript=None, result=result, evidence={"input": "nod", "frames": frames})
        return events + ask_next(s, now, render)

    return act(uow, svc, token, record)
