"""The signing-session aggregate: commands decide events, ``apply`` folds them into state.

Every change is an ``Event`` (kind, time, payload) whose next state comes from the one transition table.
The aggregate is rebuilt from its events (``replay``), so what is stored is exactly what happened. Time
is passed in by the caller; nothing here reads a clock, a file or the network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from dualsign.domain import playback, recording
from dualsign.domain.errors import (
    DecisionExists,
    FieldProblem,
    IllegalTransition,
    InvalidInput,
    ReviewIncomplete,
)
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import OnFail, Question, Template, reminder_text
from dualsign.domain.transitions import INITIAL_EVENT, INITIAL_STATE, check_after_seal, next_state
from dualsign.domain.variables import render, spoken, validate_values

JsonMap = Mapping[str, Any]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    payload: JsonMap = field(default_factory=dict)


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


class SigningSession:
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

    # --- event folding -----------------------------------------------------------------------------
    @classmethod
    def replay(cls, session_id: str, template: Template, events: Iterable[Event]) -> SigningSession:
        session = cls(session_id, template)
        for event in events:
            session._apply(event)
        return session

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
        p = event.payload
        match event.kind:
            case EventKind.SESSION_CREATED:
                declared = p.get("variables") or {}
                self.variables = {str(k): str(v["spoken"]) for k, v in dict(declared).items()}
            case EventKind.IDENTITY_ATTEMPT_FAILED | EventKind.IDENTITY_VERIFIED | EventKind.IDENTITY_FAILED:
                self.identity_attempts += 1
            case EventKind.LIVENESS_ATTEMPT_FAILED | EventKind.LIVENESS_PASSED | EventKind.LIVENESS_FAILED:
                self.liveness_attempts += 1
            case EventKind.QUESTION_ASKED:
                self.awaiting_answer = bool(p.get("expects_answer", True))
                self.awaiting_playback = not self.awaiting_answer
                self.last_asked = event
            case EventKind.ANSWER_JUDGED:
                prog = self.progress[str(p["question_id"])]
                prog.attempts += 1
                prog.verdicts.append(str(p["verdict"]))
                self.awaiting_answer = False
            case EventKind.QUESTION_PASSED | EventKind.QUESTION_FLAGGED | EventKind.QUESTION_FAILED:
                outcome = {
                    EventKind.QUESTION_PASSED: QuestionOutcome.PASSED,
                    EventKind.QUESTION_FLAGGED: QuestionOutcome.FLAGGED,
                    EventKind.QUESTION_FAILED: QuestionOutcome.FAILED,
                }[event.kind]
                self.progress[str(p["question_id"])].outcome = outcome
                self.current_index += 1
                self.awaiting_answer = False
                self.awaiting_playback = False
            case EventKind.MONITORING_WARNING:
                self.warnings += 1
            case EventKind.EVIDENCE_SEALED:
                self.sealed = True
            case EventKind.DOCUMENT_VIEWED:
                doc = str(p["document"])
                self.pages_seen.setdefault(doc, set()).add(int(p["page"]))
                self.page_counts[doc] = int(p["pages"])
                if self.review_started is None:
                    self.review_started = event.at
            case EventKind.DOCUMENT_SIGNED:
                if p.get("role") == "signer" and p["source_sha256"] not in self.signed_documents:
                    self.signed_documents.append(str(p["source_sha256"]))
            case _:
                pass
        self.events.append(event)

    def _emit(self, kind: EventKind, at: datetime, **payload: Any) -> Event:
        if self.sealed:  # checked for new events only: a stored chain always replays
            check_after_seal(kind)
        event = Event(kind, at, payload)
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
            q.id, prog.attempts + 1, q.max_attempts, text, question_text, reminder, q.expects_answer
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
    def create(self, at: datetime, details: JsonMap, variables: Mapping[str, object] | None = None) -> Event:
        """The session begins; ``variables`` are the facts of the deal the template declares, validated
        here (problems name ``variables.<name>``) and recorded with the words that will be read aloud."""
        declared = self.template.variables
        values, problems = validate_values(declared, variables or {})
        if problems:
            raise InvalidInput(problems)
        extra: dict[str, Any] = {}
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
        return self._emit(
            EventKind.SESSION_CREATED,
            at,
            template_key=self.template.key,
            template_version=self.template.content_hash(),
            **details,
            **extra,
        )

    def open(self, at: datetime, client: JsonMap | None = None) -> Event:
        return self._emit(EventKind.SIGNER_OPENED, at, client=dict(client or {}))

    def refuse_consent(self, at: datetime, reason: str = "") -> Event:
        return self._emit(EventKind.CONSENT_REFUSED, at, reason=reason)

    def give_consent(self, at: datetime, *, waive_vision_reason: str | None = None) -> list[Event]:
        """Consent to recording and to biometric processing; then the identity step begins.

        ``waive_vision_reason`` records why identity and liveness are waived (text-mode simulation,
        or a template that does not require them); the waiver is itself evidence.
        """
        consent = self.template.consent
        events = [
            self._emit(EventKind.CONSENT_GIVEN, at, recording=consent.recording, biometric=consent.biometric)
        ]
        if not self.template.identity.required:
            events.append(self._emit(EventKind.IDENTITY_WAIVED, at, reason="not required by the template"))
        elif waive_vision_reason:
            events.append(self._emit(EventKind.IDENTITY_WAIVED, at, reason=waive_vision_reason))
        else:
            return events
        events += self._after_identity(at, waive_vision_reason)
        return events

    def record_identity(self, at: datetime, *, passed: bool, details: JsonMap) -> list[Event]:
        if passed:
            events = [self._emit(EventKind.IDENTITY_VERIFIED, at, **details)]
            return events + self._after_identity(at, None)
        last = self.identity_attempts + 1 >= self.template.identity.max_attempts
        kind = EventKind.IDENTITY_FAILED if last else EventKind.IDENTITY_ATTEMPT_FAILED
        return [self._emit(kind, at, attempt=self.identity_attempts + 1, **details)]

    def _after_identity(self, at: datetime, waive_reason: str | None) -> list[Event]:
        if not self.template.liveness.required:
            return [self._emit(EventKind.LIVENESS_WAIVED, at, reason="not required by the template")]
        if waive_reason:
            return [self._emit(EventKind.LIVENESS_WAIVED, at, reason=waive_reason)]
        return []

    def issue_challenge(self, at: datetime, *, steps: Sequence[JsonMap]) -> Event:
        return self._emit(
            EventKind.LIVENESS_CHALLENGE_ISSUED,
            at,
            attempt=self.liveness_attempts + 1,
            steps=[dict(s) for s in steps],
        )

    def summarize_monitoring(self, at: datetime, stats: JsonMap) -> Event:
        return self._emit(EventKind.MONITORING_SUMMARY, at, **stats)

    def record_liveness(self, at: datetime, *, passed: bool, details: JsonMap) -> Event:
        if passed:
            return self._emit(EventKind.LIVENESS_PASSED, at, **details)
        last = self.liveness_attempts + 1 >= self.template.liveness.max_attempts
        kind = EventKind.LIVENESS_FAILED if last else EventKind.LIVENESS_ATTEMPT_FAILED
        return self._emit(kind, at, attempt=self.liveness_attempts + 1, **details)

    def ask(self, at: datetime, *, audio: Sequence[JsonMap] = ()) -> list[Event]:
        """Play the next prompt. A statement (no answer expected) passes once the page played it in full."""
        prompt = self.next_prompt()
        if prompt is None or self.prompt_pending:
            raise IllegalTransition(str(self.state), EventKind.QUESTION_ASKED.value)
        return [
            self._emit(
                EventKind.QUESTION_ASKED,
                at,
                question_id=prompt.question_id,
                attempt=prompt.attempt,
                text=prompt.text,
                reminder=prompt.reminder,
                expects_answer=prompt.expects_answer,
                audio=[dict(a) for a in audio],
            )
        ]

    def report_playback(
        self,
        at: datetime,
        *,
        question_id: str,
        attempt: int,
        parts: Sequence[JsonMap],
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
        current = (asked.payload.get("question_id"), asked.payload.get("attempt"))
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
        assessed = playback.assess(asked.payload.get("audio") or [], playback.parse_report(parts))
        full = all(a.full for a in assessed)
        events = [
            self._emit(
                EventKind.PROMPT_PLAYED,
                at,
                question_id=question_id,
                attempt=attempt,
                parts=[a.to_payload() for a in assessed],
                played_in_full=full,
                rate=rate,
                source=source,
            )
        ]
        if self.awaiting_playback and full:
            events.append(
                self._emit(EventKind.QUESTION_PASSED, at, question_id=question_id, attempts=0, statement=True)
            )
            events += self._maybe_complete(at)
        return events

    def repeat_question(self, at: datetime) -> Event:
        """The signer asked to hear the question again: not a failed attempt."""
        q = self.current_question
        if q is None:
            raise IllegalTransition(str(self.state), EventKind.QUESTION_REPEATED.value)
        return self._emit(EventKind.QUESTION_REPEATED, at, question_id=q.id)

    def answer(
        self,
        at: datetime,
        *,
        transcript: str | None,
        result: MatchResult | None,
        evidence: JsonMap | None = None,
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
        events = [
            self._emit(
                EventKind.ANSWER_JUDGED,
                at,
                question_id=q.id,
                attempt=attempt,
                transcript=transcript,
                verdict=verdict,
                explanation=explanation,
                **dict(evidence or {}),
            )
        ]
        if failure is None and result is not None and result.verdict is Verdict.ACCEPT:
            events.append(self._emit(EventKind.QUESTION_PASSED, at, question_id=q.id, attempts=attempt))
            return events + self._maybe_complete(at)
        if attempt < q.max_attempts:
            return events  # the caller asks again: next_prompt() now carries the reminder
        if q.on_fail is OnFail.MANUAL_REVIEW:
            events.append(
                self._emit(
                    EventKind.QUESTION_FLAGGED,
                    at,
                    question_id=q.id,
                    attempts=attempt,
                    reason="attempts exhausted; sent to manual review",
                )
            )
            return events + self._maybe_complete(at)
        events.append(
            self._emit(
                EventKind.QUESTION_FAILED,
                at,
                question_id=q.id,
                attempts=attempt,
                reason=f"no acceptable answer in {attempt} attempts",
            )
        )
        return events

    def _maybe_complete(self, at: datetime) -> list[Event]:
        if self.current_index < len(self.template.questions):
            return []
        return [self._emit(EventKind.QUESTIONS_COMPLETED, at, flagged=self.flagged_questions)]

    def view_document(self, at: datetime, *, document: str, page: int, pages: int) -> Event:
        return self._emit(EventKind.DOCUMENT_VIEWED, at, document=document, page=page, pages=pages)

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
        return self._emit(
            EventKind.DOCUMENTS_REVIEWED, at, documents=list(documents), seconds=round(elapsed, 1)
        )

    def sign_document(self, at: datetime, **details: Any) -> Event:
        return self._emit(EventKind.DOCUMENT_SIGNED, at, **details)

    def sign(self, at: datetime, details: JsonMap) -> Event:
        return self._emit(EventKind.SIGNATURE_APPLIED, at, **details)

    def warn(self, at: datetime, *, warning: str, details: JsonMap | None = None) -> Event:
        return self._emit(EventKind.MONITORING_WARNING, at, warning=warning, **dict(details or {}))

    def store_artifact(
        self,
        at: datetime,
        *,
        role: str,
        sha256: str,
        size: int,
        media_type: str,
        sm3: str | None = None,
        placements: Sequence[JsonMap] | None = None,  # a document's resolved signature fields
    ) -> Event:
        extra = {"placements": list(placements)} if placements is not None else {}
        return self._emit(
            EventKind.ARTIFACT_STORED,
            at,
            role=role,
            sha256=sha256,
            sm3=sm3,
            size=size,
            media_type=media_type,
            **extra,
        )

    # --- the whole-session recording -------------------------------------------------------------
    def recording_chunk_events(self) -> list[Event]:
        """The events that stored the recording's chunks, in the order they arrived."""
        return [
            e
            for e in self.events
            if e.kind is EventKind.ARTIFACT_STORED and e.payload.get("role") == recording.ROLE
        ]

    def recording_chunks(self) -> dict[tuple[int, int], recording.Chunk]:
        chunks = (recording.Chunk.from_payload(e.payload) for e in self.recording_chunk_events())
        return {(c.segment, c.index): c for c in chunks}

    @property
    def recording_closed(self) -> bool:
        return any(e.kind is EventKind.RECORDING_CLOSED for e in self.events)

    def recording_refusal(self) -> str | None:
        """Why no recording chunk may be stored now, or None when chunks are accepted."""
        if self.state in (SessionState.CREATED, SessionState.CONSENT):
            return "nothing is recorded before the signer consents"
        if self.state is SessionState.REFUSED:
            return "the signer refused consent: nothing is recorded"
        if self.sealed:
            return "the evidence of this session is sealed"
        if self.recording_closed:
            return "the recording of this session was closed"
        return None

    def chunk_is_new(self, chunk: recording.Chunk) -> bool:
        """Whether ``chunk`` would be stored (False: the same chunk is already); raises if refused."""
        refusal = self.recording_refusal()
        if refusal is not None:
            raise recording.RecordingClosed(refusal)
        stored = self.recording_chunks().get((chunk.segment, chunk.index))
        if stored is not None and stored.sha256 != chunk.sha256:
            raise recording.ChunkConflict(chunk.segment, chunk.index, stored.sha256, chunk.sha256)
        return stored is None

    def store_recording_chunk(self, at: datetime, chunk: recording.Chunk, sm3: str | None) -> Event | None:
        """Record one chunk; ``None`` when this very chunk was stored before (an idempotent retry)."""
        if not self.chunk_is_new(chunk):
            return None
        return self._emit(
            EventKind.ARTIFACT_STORED,
            at,
            role=recording.ROLE,
            sha256=chunk.sha256,
            sm3=sm3,
            size=chunk.size,
            media_type="video/webm",
            segment=chunk.segment,
            index=chunk.index,
            started_ms=chunk.started_ms,
            ended_ms=chunk.ended_ms,
        )

    def close_recording(
        self,
        at: datetime,
        *,
        by: str,
        declared: dict[int, int] | None = None,
        media: Sequence[Mapping[str, Any]] = (),  # per segment: seconds of audio and of video
    ) -> Event:
        """Assess the recording (chunks, gaps) and close it; later chunks are refused."""
        if self.recording_closed:
            raise recording.RecordingClosed("the recording of this session was already closed")
        result = recording.assess(self.recording_chunks().values(), declared)
        return self._emit(
            EventKind.RECORDING_CLOSED,
            at,
            closed_by=by,
            declared_chunks={str(k): v for k, v in sorted((declared or {}).items())},
            media=[dict(m) for m in media],
            **result.to_payload(),
        )

    def record_recording_analysis(self, at: datetime, result: Mapping[str, Any]) -> Event:
        """The recording re-checked after the session (``application.qc.post_hoc``), before its QC."""
        return self._emit(EventKind.RECORDING_ANALYSED, at, **result)

    def record_qc(self, at: datetime, result: Mapping[str, Any]) -> Event:
        """The automatic quality check's results (``domain.qc``), rule by rule."""
        return self._emit(EventKind.QC_EVALUATED, at, **result)

    def decide_review(
        self, at: datetime, *, decision: str, comment: str, by: str, role: str, override_reason: str = ""
    ) -> Event:
        """A reviewer's manual decision after looking at the session (approve or reject).

        Decisions are an append-only record: a second one must say it overrides the one before and
        why (``override_reason``); the earlier decision stays in the chain, named by the new one."""
        if decision not in ("approve", "reject"):
            raise ValueError(f"unknown review decision {decision!r}")
        previous = [e for e in self.events if e.kind is EventKind.REVIEW_DECIDED]
        details: dict[str, object] = {}
        if previous:
            last = previous[-1].payload
            if not override_reason.strip():
                raise DecisionExists(str(last.get("decision")), str(last.get("by")), len(previous))
            details = {
                "overrides": {
                    "decision": last.get("decision"),
                    "by": last.get("by"),
                    "number": len(previous),
                },
                "override_reason": override_reason.strip(),
            }
        return self._emit(
            EventKind.REVIEW_DECIDED, at, decision=decision, comment=comment, by=by, role=role, **details
        )

    def cancel(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(EventKind.SESSION_CANCELLED, at, reason=reason, by=by)

    def expire(self, at: datetime) -> Event:
        return self._emit(EventKind.SESSION_EXPIRED, at)

    def seal(self, at: datetime, **details: Any) -> Event:
        return self._emit(EventKind.EVIDENCE_SEALED, at, **details)

    def record_sealing_failure(self, at: datetime, *, reason: str) -> Event:
        return self._emit(EventKind.SEALING_FAILED, at, reason=reason)

    def place_hold(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(EventKind.LEGAL_HOLD_PLACED, at, reason=reason, by=by)

    def release_hold(self, at: datetime, *, reason: str, by: str) -> Event:
        return self._emit(EventKind.LEGAL_HOLD_RELEASED, at, reason=reason, by=by)

    @property
    def holds(self) -> int:
        placed = sum(e.kind is EventKind.LEGAL_HOLD_PLACED for e in self.events)
        return placed - sum(e.kind is EventKind.LEGAL_HOLD_RELEASED for e in self.events)

    def tombstone(self, at: datetime, **details: Any) -> Event:
        return self._emit(EventKind.EVIDENCE_DELETED, at, **details)

    def fail(self, at: datetime, *, reason: str) -> Event:
        return self._emit(EventKind.SESSION_FAILED, at, reason=reason)
