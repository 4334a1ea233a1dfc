"""The states of a signing session and the kinds of event that move it."""

from __future__ import annotations

from enum import StrEnum


class SessionState(StrEnum):
    CREATED = "created"  # link issued, not opened yet
    CONSENT = "consent"  # opened; waiting for consent to recording and biometrics
    IDENTITY = "identity"  # live face against the identity photo
    LIVENESS = "liveness"  # action challenges
    QUESTIONS = "questions"  # each attempt of each question
    DOCUMENT_REVIEW = "document_review"
    SIGNING = "signing"
    SIGNED = "signed"
    SEALED = "sealed"
    REFUSED = "refused"  # consent refused: nothing recorded
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def is_open(self) -> bool:
        """The signer can still act in this state."""
        return self in OPEN_STATES


OPEN_STATES = frozenset(
    {
        SessionState.CREATED,
        SessionState.CONSENT,
        SessionState.IDENTITY,
        SessionState.LIVENESS,
        SessionState.QUESTIONS,
        SessionState.DOCUMENT_REVIEW,
        SessionState.SIGNING,
    }
)
RECORDING_STATES = OPEN_STATES - {SessionState.CREATED, SessionState.CONSENT}
ENDED_STATES = frozenset(
    {
        SessionState.SIGNED,
        SessionState.REFUSED,
        SessionState.FAILED,
        SessionState.CANCELLED,
        SessionState.EXPIRED,
    }
)
TERMINAL_STATES = ENDED_STATES | {SessionState.SEALED}


class EventKind(StrEnum):
    SESSION_CREATED = "session_created"
    SIGNER_OPENED = "signer_opened"
    CONSENT_GIVEN = "consent_given"
    CONSENT_REFUSED = "consent_refused"
    IDENTITY_ATTEMPT_FAILED = "identity_attempt_failed"
    IDENTITY_VERIFIED = "identity_verified"
    IDENTITY_WAIVED = "identity_waived"
    IDENTITY_FAILED = "identity_failed"
    LIVENESS_CHALLENGE_ISSUED = "liveness_challenge_issued"
    LIVENESS_ATTEMPT_FAILED = "liveness_attempt_failed"
    LIVENESS_PASSED = "liveness_passed"
    LIVENESS_WAIVED = "liveness_waived"
    LIVENESS_FAILED = "liveness_failed"
    QUESTION_ASKED = "question_asked"
    QUESTION_REPEATED = "question_repeated"
    PROMPT_PLAYED = "prompt_played"  # the page's report of how much of a prompt's audio it played
    ANSWER_JUDGED = "answer_judged"
    QUESTION_PASSED = "question_passed"
    QUESTION_FLAGGED = "question_flagged"
    QUESTION_FAILED = "question_failed"
    QUESTIONS_COMPLETED = "questions_completed"
    DOCUMENT_VIEWED = "document_viewed"
    DOCUMENTS_REVIEWED = "documents_reviewed"
    DOCUMENT_SIGNED = "document_signed"  # one PAdES signature (the signer's or the institution's)
    SIGNATURE_APPLIED = "signature_applied"  # every document signed: the signing is complete
    MONITORING_WARNING = "monitoring_warning"
    MONITORING_SUMMARY = "monitoring_summary"
    ARTIFACT_STORED = "artifact_stored"
    RECORDING_CLOSED = "recording_closed"  # the whole-session recording assessed: chunks, gaps
    RECORDING_ANALYSED = "recording_analysed"  # the recording re-checked after the session: answers, faces
    QC_EVALUATED = "qc_evaluated"  # the automatic quality check, rule by rule
    REVIEW_DECIDED = "review_decided"  # a compliance reviewer approved or rejected the session
    SESSION_FAILED = "session_failed"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_EXPIRED = "session_expired"
    EVIDENCE_SEALED = "evidence_sealed"
    SEALING_FAILED = "sealing_failed"
    LEGAL_HOLD_PLACED = "legal_hold_placed"
    LEGAL_HOLD_RELEASED = "legal_hold_released"
    EVIDENCE_DELETED = "evidence_deleted"  # the tombstone: what was deleted, when, by whom, why
