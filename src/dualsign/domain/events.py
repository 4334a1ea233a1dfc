"""Session events: what happened, when, with which payload — and the payload type of each kind.

An ``Event`` is a kind, a time and a payload (the JSON object of its record in the hash chain). Each
kind has exactly one payload type (``domain.event_payloads``), bound to it here by an ``EventType``:
``QUESTION_ASKED.new(at, {...})`` makes an event whose payload is checked against ``QuestionAsked`` by
the type checker, and ``QUESTION_ASKED.of(event)`` reads an event of that kind as its payload type.
Payloads are plain dicts, so what is hashed is exactly what was built (or what was stored, for an
event read back): typing them changes no byte of the chain.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, cast

from dualsign.domain import event_payloads as p
from dualsign.domain.states import EventKind, SessionState

JsonMap = Mapping[str, Any]


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: datetime
    payload: JsonMap = field(default_factory=dict)


class EventLog(ABC):
    """What every part of the session aggregate shares: the events applied so far, in order, the state
    they led to, whether the evidence is sealed, and ``_emit``, the one way to add an event (checked
    against the transition table, then applied). ``domain.session`` holds the whole aggregate."""

    events: list[Event]
    state: SessionState | None
    sealed: bool

    @abstractmethod
    def _emit(self, event: Event) -> Event: ...


P = TypeVar("P", bound=Mapping[str, object])


@dataclass(frozen=True)
class EventType(Generic[P]):
    """One kind of event and the type of its payload."""

    kind: EventKind
    payload: type[P]

    def new(self, at: datetime, payload: P) -> Event:
        """An event of this kind at ``at`` (the payload is copied: the event owns its own)."""
        return Event(self.kind, at, dict(payload))

    def of(self, event: Event) -> P:
        """``event``'s payload as this kind's type (as stored: an old event may lack a key its version
        did not write, so ``NotRequired`` keys are read with ``get``)."""
        if event.kind is not self.kind:
            raise ValueError(f"a {event.kind.value} event read as {self.kind.value}")
        return cast(P, event.payload)


SESSION_CREATED = EventType(EventKind.SESSION_CREATED, p.SessionCreated)
SIGNER_OPENED = EventType(EventKind.SIGNER_OPENED, p.SignerOpened)
CONSENT_GIVEN = EventType(EventKind.CONSENT_GIVEN, p.ConsentGiven)
CONSENT_REFUSED = EventType(EventKind.CONSENT_REFUSED, p.ConsentRefused)
IDENTITY_ATTEMPT_FAILED = EventType(EventKind.IDENTITY_ATTEMPT_FAILED, p.IdentityAttemptFailed)
IDENTITY_VERIFIED = EventType(EventKind.IDENTITY_VERIFIED, p.IdentityVerified)
IDENTITY_WAIVED = EventType(EventKind.IDENTITY_WAIVED, p.IdentityWaived)
IDENTITY_FAILED = EventType(EventKind.IDENTITY_FAILED, p.IdentityFailed)
LIVENESS_CHALLENGE_ISSUED = EventType(EventKind.LIVENESS_CHALLENGE_ISSUED, p.LivenessChallengeIssued)
LIVENESS_ATTEMPT_FAILED = EventType(EventKind.LIVENESS_ATTEMPT_FAILED, p.LivenessAttemptFailed)
LIVENESS_PASSED = EventType(EventKind.LIVENESS_PASSED, p.LivenessPassed)
LIVENESS_WAIVED = EventType(EventKind.LIVENESS_WAIVED, p.LivenessWaived)
LIVENESS_FAILED = EventType(EventKind.LIVENESS_FAILED, p.LivenessFailed)
QUESTION_ASKED = EventType(EventKind.QUESTION_ASKED, p.QuestionAsked)
QUESTION_REPEATED = EventType(EventKind.QUESTION_REPEATED, p.QuestionRepeated)
PROMPT_PLAYED = EventType(EventKind.PROMPT_PLAYED, p.PromptPlayed)
ANSWER_JUDGED = EventType(EventKind.ANSWER_JUDGED, p.AnswerJudged)
QUESTION_PASSED = EventType(EventKind.QUESTION_PASSED, p.QuestionPassed)
QUESTION_FLAGGED = EventType(EventKind.QUESTION_FLAGGED, p.QuestionFlagged)
QUESTION_FAILED = EventType(EventKind.QUESTION_FAILED, p.QuestionFailed)
QUESTIONS_COMPLETED = EventType(EventKind.QUESTIONS_COMPLETED, p.QuestionsCompleted)
DOCUMENT_VIEWED = EventType(EventKind.DOCUMENT_VIEWED, p.DocumentViewed)
DOCUMENTS_REVIEWED = EventType(EventKind.DOCUMENTS_REVIEWED, p.DocumentsReviewed)
DOCUMENT_SIGNED = EventType(EventKind.DOCUMENT_SIGNED, p.DocumentSigned)
SIGNATURE_APPLIED = EventType(EventKind.SIGNATURE_APPLIED, p.SignatureApplied)
MONITORING_WARNING = EventType(EventKind.MONITORING_WARNING, p.MonitoringWarning)
MONITORING_SUMMARY = EventType(EventKind.MONITORING_SUMMARY, p.MonitoringSummary)
ARTIFACT_STORED = EventType(EventKind.ARTIFACT_STORED, p.ArtifactStored)
RECORDING_CLOSED = EventType(EventKind.RECORDING_CLOSED, p.RecordingClosed)
RECORDING_ANALYSED = EventType(EventKind.RECORDING_ANALYSED, p.RecordingAnalysed)
QC_EVALUATED = EventType(EventKind.QC_EVALUATED, p.QcEvaluated)
REVIEW_DECIDED = EventType(EventKind.REVIEW_DECIDED, p.ReviewDecided)
SESSION_FAILED = EventType(EventKind.SESSION_FAILED, p.SessionFailed)
SESSION_CANCELLED = EventType(EventKind.SESSION_CANCELLED, p.SessionCancelled)
SESSION_EXPIRED = EventType(EventKind.SESSION_EXPIRED, p.SessionExpired)
EVIDENCE_SEALED = EventType(EventKind.EVIDENCE_SEALED, p.EvidenceSealed)
SEALING_FAILED = EventType(EventKind.SEALING_FAILED, p.SealingFailed)
LEGAL_HOLD_PLACED = EventType(EventKind.LEGAL_HOLD_PLACED, p.LegalHoldPlaced)
LEGAL_HOLD_RELEASED = EventType(EventKind.LEGAL_HOLD_RELEASED, p.LegalHoldReleased)
EVIDENCE_DELETED = EventType(EventKind.EVIDENCE_DELETED, p.EvidenceDeleted)

EVENT_TYPES: Mapping[EventKind, EventType[Any]] = {
    t.kind: t
    for t in (
        SESSION_CREATED,
        SIGNER_OPENED,
        CONSENT_GIVEN,
        CONSENT_REFUSED,
        IDENTITY_ATTEMPT_FAILED,
        IDENTITY_VERIFIED,
        IDENTITY_WAIVED,
        IDENTITY_FAILED,
        LIVENESS_CHALLENGE_ISSUED,
        LIVENESS_ATTEMPT_FAILED,
        LIVENESS_PASSED,
        LIVENESS_WAIVED,
        LIVENESS_FAILED,
        QUESTION_ASKED,
        QUESTION_REPEATED,
        PROMPT_PLAYED,
        ANSWER_JUDGED,
        QUESTION_PASSED,
        QUESTION_FLAGGED,
        QUESTION_FAILED,
        QUESTIONS_COMPLETED,
        DOCUMENT_VIEWED,
        DOCUMENTS_REVIEWED,
        DOCUMENT_SIGNED,
        SIGNATURE_APPLIED,
        MONITORING_WARNING,
        MONITORING_SUMMARY,
        ARTIFACT_STORED,
        RECORDING_CLOSED,
        RECORDING_ANALYSED,
        QC_EVALUATED,
        REVIEW_DECIDED,
        SESSION_FAILED,
        SESSION_CANCELLED,
        SESSION_EXPIRED,
        EVIDENCE_SEALED,
        SEALING_FAILED,
        LEGAL_HOLD_PLACED,
        LEGAL_HOLD_RELEASED,
        EVIDENCE_DELETED,
    )
}
