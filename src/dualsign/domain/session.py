"""The signing-session aggregate: commands decide events, ``apply`` folds them into state.

Every change is an ``Event`` (kind, time, typed payload: ``domain.events``) whose next state comes from
the one transition table. The aggregate is rebuilt from its events (``replay``), so what is stored is
exactly what happened. Time is passed in by the caller; nothing here reads a clock, a file or the
network. The signer's path is here; the recording (``session_recording``) and what becomes of the
evidence after the session (``session_evidence``) are parts of the same class in modules of their own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, Unpack

from dualsign.domain import events as ev
from dualsign.domain import playback, recording, trace
from dualsign.domain.errors import FieldProblem, IllegalTransition, InvalidInput, ReviewIncomplete
from dualsign.domain.event_payloads import (
    AnswerEvidence,
    AnswerJudged,
    ArtifactStored,
    ChallengeStepItem,
    DeclaredVariables,
    DocumentSigned,
    DocumentsReviewed,
    IdentityCheck,
    LivenessCheck,
    MonitoringSummary,
    PlacementItem,
    PromptAudioItem,
    QuestionFailed,
    QuestionFlagged,
    QuestionPassed,
    SessionCreated,
    SessionDetails,
    SessionFailed,
    SignatureApplied,
    WarningDetails,
)
from dualsign.domain.events import Event as Event  # where the application has always imported it from
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.participants import Agent
from dualsign.domain.session_evidence import SessionEvidence
from dualsign.domain.session_recording import SessionRecording
from dualsign.domain.session_trace import SessionTrace
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import OnFail, Question, Template, reminder_text
from dualsign.domain.transitions import INITIAL_EVENT, INITIAL_STATE, check_after_seal, next_state
from dualsign.domain.variables import render, spoken, validate_values


class QuestionOutcome(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FLAGGED = "flagged"  # attempts ran out; the template sends it to manual review
    FAILED = "failed"


@dataclass
class QuestionProgress:
    question_id: str
    attempts: int = 0
    outcome: QuestionOutcome = QuestionOutcome.PENDING
    verdicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Prompt:
    """What the signer is to hear next: the question, preceded by a reminder on a re-ask."""

    question_id: str
    attempt: int  # 1-based attempt this prompt opens
    max_attempts: int
    text: str
    question_text: str
    reminder: str | None
    expects_answer: bool
    speaker: str = "signer"  # who answers: the agent for their introduction


class SigningSession(SessionRecording, SessionTrace, SessionEvidence):
    def __init__(self, session_id: str, template: Template) -> None:
        self.id = session_id
        self.template = template
        self.state: SessionState | None = None
        self.events: list[Event] = []
        self.progress = {q.id: QuestionProgress(q.id) for q in template.questions}
        self.current_index = 0
        self.identity_attempts = 0
        self.liveness_attempts = 0
        self.warnings = 0
        self.awaiting_answer = False
        self.awaiting_playback = False  # a statement asked: it passes when the page has played it in full
        self.last_asked: Event | None = None
        self.pages_seen: dict[str, set[int]] = {}  # document digest → pages viewed
        self.page_counts: dict[str, int] = {}
        self.review_started: datetime | None = None
        self.signed_documents: list[str] = []  # source digests with the signer's signature applied
        self.ended_at: datetime | None = None  # when the session left the open states
        self.sealed = False  # evidence_sealed recorded: only AFTER_SEAL_EVENTS may follow
        self.variables: dict[str, str] = {}  # variable name → the words read aloud (from session_created)
        self.agent: Agent | None = None  # the agent on camera with the signer (from session_created)
        self._chunks: dict[tuple[int, int], recording.Chunk] = {}  # the recording's, in arrival order
        self._recording_closed = False
        self._trace: dict[int, str] = {}  # operation trace: batch number → its SHA-256

    # --- event folding -----------------------------------------------------------------------------
    @classmethod
    def replay(cls, session_id: str, template: Template, events: Iterable[Event]) -> SigningSession:
        session = cls(session_id, template)
        session.extend(events)
        return session

    def extend(self, events: Iterable[Event]) -> None:
        """Fold events stored after those this aggregate was rebuilt from (a kept aggregate catching up
        with its chain); commands add theirs through ``_emit``."""
        for event in events:
            self._apply(event)

    def clone(self) -> SigningSession:
        """An independent aggregate in the same state: events and the template are immutable and shared,
        every container that folding changes is copied."""
        other = copy.copy(self)
        other.events = list(self.events)
        other.progress = {k: replace(p, verdicts=list(p.verdicts)) for k, p in self.progress.items()}
        other.pages_seen = {k: set(v) for k, v in self.pages_seen.items()}
        other.page_counts = dict(self.page_counts)
        other.signed_documents = list(self.signed_documents)
        other.variables = dict(self.variables)
        other._chunks = dict(self._chunks)
        other._trace = dict(self._trace)
        return other

    def _apply(self, event: Event) -> None:
        if self.state is None:
            if event.kind is not INITIAL_EVENT:
                raise IllegalTransition("(none)", event.kind.value)
            self.state = INITIAL_STATE
        else:
            was_open = self.state.is_open
            self.state = next_state(self.state, event.kind)
            if was_open and not self.state.is_open:
                self.ended_at = event.at
        match event.kind:
            case EventKind.SESSION_CREATED:
                created = ev.SESSION_CREATED.of(event)
                declared = created.get("variables") or {}
                self.variables = {str(k): str(v["spoken"]) for k, v in dict(declared).items()}
                agent = created.get("agent")
                self.agent = Agent.of(agent) if agent else None
            case EventKind.IDENTITY_ATTEMPT_FAILED | EventKind.IDENTITY_VERIFIED | EventKind.IDENTITY_FAILED:
                self.identity_attempts += 1
            case EventKind.LIVENESS_ATTEMPT_FAILED | EventKind.LIVENESS_PASSED | EventKind.LIVENESS_FAILED:
                self.liveness_attempts += 1
            case EventKind.QUESTION_ASKED:
                self.awaiting_answer = bool(ev.QUESTION_ASKED.of(event).get("expects_answer", True))
                self.awaiting_playback = not self.awaiting_answer
                self.last_asked = event
            case EventKind.ANSWER_JUDGED:
                judged = ev.ANSWER_JUDGED.of(event)
                prog = self.progress[str(judged["question_id"])]
                prog.attempts += 1
                prog.verdicts.append(str(judged["verdict"]))
                self.awaiting_answer = False
            case EventKind.QUESTION_PASSED | EventKind.QUESTION_FLAGGED | EventKind.QUESTION_FAILED:
                outcome = {
                    EventKind.QUESTION_PASSED: QuestionOutcome.PASSED,
                    EventKind.QUESTION_FLAGGED: QuestionOutcome.FLAGGED,
                    EventKind.QUESTION_FAILED: QuestionOutcome.FAILED,
                }[event.kind]
                self.progress[str(event.payload["question_id"])].outcome = outcome
                self.current_index += 1
                self.awaiting_answer = False
                self.awaiting_playback = False
            case EventKind.MONITORING_WARNING:
                self.warnings += 1
            case EventKind.ARTIFACT_STORED if event.payload.get("role") == recording.ROLE:
                chunk = recording.Chunk.from_payload(event.payload)
                self._chunks[(chunk.segment, chunk.index)] = chunk
            case EventKind.ARTIFACT_STORED if event.payload.get("role") == trace.ROLE:
                self._trace[int(event.payload["batch"])] = str(event.payload["sha256"])
            case EventKind.RECORDING_CLOSED:
                self._recording_closed = True
            case EventKind.EVIDENCE_SEALED:
                self.sealed = True
            case EventKind.DOCUMENT_VIEWED:
                viewed = ev.DOCUMENT_VIEWED.of(event)
                doc = str(viewed["document"])
                self.pages_seen.setdefault(doc, set()).add(int(viewed["page"]))
                self.page_counts[doc] = int(viewed["pages"])
                if self.review_started is None:
                    self.review_started = event.at
            case EventKind.DOCUMENT_SIGNED:
                signed = ev.DOCUMENT_SIGNED.of(event)
                if signed.get("role") == "signer" and signed["source_sha256"] not in self.signed_documents:
                    self.signed_documents.append(str(signed["source_sha256"]))
            case _:
                pass
        self.events.append(event)

    def _emit(self, event: Event) -> Event:
        if self.sealed:  # checked for new events only: a stored chain always replays
            check_after_seal(event.kind)
        self._apply(event)
        return event

    # --- queries -----------------------------------------------------------------------------------
    @property
    def current_state(self) -> SessionState:
        """The state; only a session that was never created has none."""
        if self.state is None:
            raise IllegalTransition("(none)", "query before session_created")
        return self.state

    @property
    def current_question(self) -> Question | None:
        if self.state is not SessionState.QUESTIONS or self.current_index >= len(self.template.questions):
            return None
        return self.template.questions[self.current_index]

    def next_prompt(self) -> Prompt | None:
        q = self.current_question
        if q is None:
            return None
        prog = self.progress[q.id]
        reminder = reminder_text(q, self.template.language, prog.verdicts[-1]) if prog.attempts > 0 else None
        if reminder:
            reminder = render(reminder, self.variables)
        question_text = self.prompt_text(q)
        text = f"{reminder} {question_text}" if reminder else question_text
        return Prompt(
            q.id,
            prog.attempts + 1,
            q.max_attempts,
            text,
            question_text,
            reminder,
            q.expects_answer,
            q.speaker.value,
        )

    def prompt_text(self, question: Question) -> str:
        """The question as this session reads it: the template's variables filled in."""
        return render(question.prompt, self.variables)

    @property
    def prompt_pending(self) -> bool:
        """A prompt was asked and waits: for the signer's answer, or (a statement) for its playback."""
        return self.awaiting_answer or self.awaiting_playback

    @property
    def flagged_questions(self) -> list[str]:
        return [p.question_id for p in self.progress.values() if p.outcome is QuestionOutcome.FLAGGED]

    # --- commands ----------------------------------------------------------------------------------
    def create(
        self, at: datetime, details: SessionDetails, variables: Mapping[str, object] | None = None
    ) -> Event:
        """The session begins; ``variables`` are the facts of the deal the template declares, validated
        here (problems name ``variables.<name>``) and recorded with the words that will be read aloud."""
        declared = self.template.variables
        values, problems = validate_values(declared, variables or {})
        if problems:
            raise InvalidInput(problems)
        extra: DeclaredVariables = {}
        if declared:
            family = self.template.language.family
            extra["variables"] = {
                v.name: {
                    "type": v.type.value,
                    "value": values[v.name],
                    "spoken": spoken(v, values[v.name], family),
                }
                for v in declared
                if v.name in values
            }
        created: SessionCreated = {
            "template_key": self.template.key,
            "template_version": self.template.content_hash(),
            **details,
            **extra,
        }
        return self._emit(ev.SESSION_CREATED.new(at, created))

    def open(self, at: datetime, client: Mapping[str, object] | None = None) -> Event:
        return self._emit(ev.SIGNER_OPENED.new(at, {"client": dict(client or {})}))

    def refuse_consent(self, at: datetime, reason: str = "") -> Event:
        return self._emit(ev.CONSENT_REFUSED.new(at, {"reason": reason}))

    def give_consent(self, at: datetime, *, waive_vision_reason: str | None = None) -> list[Event]:
        """Consent to recording and to biometric processing; then the identity step begins.

        ``waive_vision_reason`` records why identity and liveness are waived (text-mode simulation,
        or a template that does not require them); the waiver is itself evidence.
        """
        consent = self.template.consent
        given = ev.CONSENT_GIVEN.new(at, {"recording": consent.recording, "biometric": consent.biometric})
        events = [self._emit(given)]
        if not self.template.identity.required:
            events.append(self._emit(ev.IDENTITY_WAIVED.new(at, {"reason": "not required by the template"})))
        elif waive_vision_reason:
            events.append(self._emit(ev.IDENTITY_WAIVED.new(at, {"reason": waive_vision_reason})))
        else:
            return events
        events += self._after_identity(at, waive_vision_reason)
        return events

    def record_identity(self, at: datetime, *, passed: bool, details: IdentityCheck) -> list[Event]:
        if passed:
            events = [self._emit(ev.IDENTITY_VERIFIED.new(at, details))]
            return events + self._after_identity(at, None)
        attempt = self.identity_attempts + 1
        if attempt >= self.template.identity.max_attempts:
            return [self._emit(ev.IDENTITY_FAILED.new(at, {"attempt": attempt, **details}))]
        return [self._emit(ev.IDENTITY_ATTEMPT_FAILED.new(at, {"attempt": attempt, **details}))]

    def _after_identity(self, at: datetime, waive_reason: str | None) -> list[Event]:
        if not self.template.liveness.required:
            return [self._emit(ev.LIVENESS_WAIVED.new(at, {"reason": "not required by the template"}))]
        if waive_reason:
            return [self._emit(ev.LIVENESS_WAIVED.new(at, {"reason": waive_reason}))]
        return []

    def issue_challenge(self, at: datetime, *, steps: Sequence[ChallengeStepItem]) -> Event:
        attempt = self.liveness_attempts + 1
        steps_issued = [s.copy() for s in steps]
        return self._emit(ev.LIVENESS_CHALLENGE_ISSUED.new(at, {"attempt": attempt, "steps": steps_issued}))

    def summarize_monitoring(self, at: datetime, stats: MonitoringSummary) -> Event:
        return self._emit(ev.MONITORING_SUMMARY.new(at, stats))

    def record_liveness(self, at: datetime, *, passed: bool, details: LivenessCheck) -> Event:
        if passed:
            return self._emit(ev.LIVENESS_PASSED.new(at, details))
        attempt = self.liveness_attempts + 1
        if attempt >= self.template.liveness.max_attempts:
            return self._emit(ev.LIVENESS_FAILED.new(at, {"attempt": attempt, **details}))
        return self._emit(ev.LIVENESS_ATTEMPT_FAILED.new(at, {"attempt": attempt, **details}))

    def ask(self, at: datetime, *, audio: Sequence[PromptAudioItem] = ()) -> list[Event]:
        """Play the next prompt. A statement (no answer expected) passes once the page played it in full."""
        prompt = self.next_prompt()
        if prompt is None or self.prompt_pending:
            raise IllegalTransition(str(self.state), EventKind.QUESTION_ASKED.value)
        asked = ev.QUESTION_ASKED.new(
            at,
            {
                "question_id": prompt.question_id,
                "attempt": prompt.attempt,
                "text": prompt.text,
                "reminder": prompt.reminder,
                "expects_answer": prompt.expects_answer,
                "audio": [a.copy() for a in audio],
            },
        )
        return [self._emit(asked)]

    def report_playback(
        self,
        at: datetime,
        *,
        question_id: str,
        attempt: int,
        parts: Sequence[Mapping[str, Any]],  # as the page reported them: checked here
        rate: float = 1.0,
        source: str = "page",
    ) -> list[Event]:
        """The page played the current prompt's audio: how much of each part, whether it ended.

        A statement (no answer expected) passes once it has been played in full; a question's answer
        window opens either way, and the quality check judges the playback afterwards.
        """
        asked = self.last_asked
        if self.state is not SessionState.QUESTIONS or asked is None:
            raise IllegalTransition(str(self.state), EventKind.PROMPT_PLAYED.value)
        asked_payload = ev.QUESTION_ASKED.of(asked)
        current = (asked_payload.get("question_id"), asked_payload.get("attempt"))
        if (question_id, attempt) != current:
            raise InvalidInput(
                [
                    FieldProblem(
                        "question_id",
                        f"{question_id!r} attempt {attempt} is not the prompt being played "
                        f"({current[0]!r} attempt {current[1]})",
                    )
                ]
            )
        assessed = playback.assess(asked_payload.get("audio") or [], playback.parse_report(parts))
        full = all(a.full for a in assessed)
        played = ev.PROMPT_PLAYED.new(
            at,
            {
                "question_id": question_id,
                "attempt": attempt,
                "parts": [a.to_payload() for a in assessed],
                "played_in_full": full,
                "rate": rate,
                "source": source,
            },
        )
        events = [self._emit(played)]
        if self.awaiting_playback and full:
            passed: QuestionPassed = {"question_id": question_id, "attempts": 0, "statement": True}
            events.append(self._emit(ev.QUESTION_PASSED.new(at, passed)))
            events += self._maybe_complete(at)
        return events

    def repeat_question(self, at: datetime) -> Event:
        """The signer asked to hear the question again: not a failed attempt."""
        q = self.current_question
        if q is None:
            raise IllegalTransition(str(self.state), EventKind.QUESTION_REPEATED.value)
        return self._emit(ev.QUESTION_REPEATED.new(at, {"question_id": q.id}))

    def answer(
        self,
        at: datetime,
        *,
        transcript: str | None,
        result: MatchResult | None,
        evidence: AnswerEvidence | None = None,
        failure: str | None = None,
    ) -> list[Event]:
        """Record one answer attempt and decide what follows.

        ``transcript`` None: nothing was heard (NO_SPEECH). ``failure``: the recogniser failed; the
        attempt counts and is never judged (ENGINE_FAILED), so a broken engine fails the question.
        """
        q = self.current_question
        if q is None or not self.awaiting_answer:
            raise IllegalTransition(str(self.state), EventKind.ANSWER_JUDGED.value)
        prog = self.progress[q.id]
        attempt = prog.attempts + 1
        explanation: dict[str, object]
        if failure is not None:
            verdict, explanation = "ENGINE_FAILED", {"rule": "engine_failed", "detail": failure}
        elif result is None:
            verdict, explanation = "NO_SPEECH", {"rule": "no_speech"}
        else:
            verdict, explanation = result.verdict.value, result.to_dict()
        judged: AnswerJudged = {
            "question_id": q.id,
            "attempt": attempt,
            "transcript": transcript,
            "verdict": verdict,
            "explanation": explanation,
            **(evidence or {}),
        }
        events = [self._emit(ev.ANSWER_JUDGED.new(at, judged))]
        if failure is None and result is not None and result.verdict is Verdict.ACCEPT:
            events.append(self._emit(ev.QUESTION_PASSED.new(at, {"question_id": q.id, "attempts": attempt})))
            return events + self._maybe_complete(at)
        if attempt < q.max_attempts:
            return events  # the caller asks again: next_prompt() now carries the reminder
        if q.on_fail is OnFail.MANUAL_REVIEW:
            reason = "attempts exhausted; sent to manual review"
            flagged: QuestionFlagged = {"question_id": q.id, "attempts": attempt, "reason": reason}
            events.append(self._emit(ev.QUESTION_FLAGGED.new(at, flagged)))
            return events + self._maybe_complete(at)
        reason = f"no acceptable answer in {attempt} attempts"
        failed: QuestionFailed = {"question_id": q.id, "attempts": attempt, "reason": reason}
        events.append(self._emit(ev.QUESTION_FAILED.new(at, failed)))
        return events

    def _maybe_complete(self, at: datetime) -> list[Event]:
        if self.current_index < len(self.template.questions):
            return []
        return [self._emit(ev.QUESTIONS_COMPLETED.new(at, {"flagged": self.flagged_questions}))]

    def view_document(self, at: datetime, *, document: str, page: int, pages: int) -> Event:
        return self._emit(ev.DOCUMENT_VIEWED.new(at, {"document": document, "page": page, "pages": pages}))

    def finish_review(self, at: datetime, documents: Sequence[str]) -> Event:
        """Close the review of ``documents`` (their digests), if the template's reading rules are met:
        every page up to the last seen (``read_to_end``) and ``min_review_seconds`` since the first view."""
        rules = self.template.documents
        unread = []
        if rules.review_required and rules.read_to_end:
            for doc in documents:
                count = self.page_counts.get(doc)
                if count is None or count not in self.pages_seen.get(doc, set()):
                    unread.append(doc)
        started = self.review_started
        elapsed = (at - started).total_seconds() if started is not None else 0.0
        left = rules.min_review_seconds - elapsed if rules.review_required else 0.0
        if unread or left > 0:
            raise ReviewIncomplete(unread, left)
        reviewed: DocumentsReviewed = {"documents": list(documents), "seconds": round(elapsed, 1)}
        return self._emit(ev.DOCUMENTS_REVIEWED.new(at, reviewed))

    def sign_document(self, at: datetime, **details: Unpack[DocumentSigned]) -> Event:
        return self._emit(ev.DOCUMENT_SIGNED.new(at, details))

    def sign(self, at: datetime, details: SignatureApplied) -> Event:
        return self._emit(ev.SIGNATURE_APPLIED.new(at, details))

    def warn(self, at: datetime, *, warning: str, details: WarningDetails) -> Event:
        return self._emit(ev.MONITORING_WARNING.new(at, {"warning": warning, **details}))

    def store_artifact(
        self,
        at: datetime,
        *,
        role: str,
        sha256: str,
        size: int,
        media_type: str,
        sm3: str | None = None,
        placements: Sequence[PlacementItem] | None = None,  # a document's resolved signature fields
    ) -> Event:
        stored: ArtifactStored = {
            "role": role,
            "sha256": sha256,
            "sm3": sm3,
            "size": size,
            "media_type": media_type,
        }
        if placements is not None:
            stored["placements"] = list(placements)
        return self._emit(ev.ARTIFACT_STORED.new(at, stored))

    def cancel(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(ev.SESSION_CANCELLED.new(at, {"reason": reason, "by": by}))

    def expire(self, at: datetime) -> Event:
        return self._emit(ev.SESSION_EXPIRED.new(at, {}))

    def fail(self, at: datetime, *, reason: str, code: str | None = None) -> Event:
        payload: SessionFailed = {"reason": reason}
        if code is not None:
            payload["code"] = code
        return self._emit(ev.SESSION_FAILED.new(at, payload))
