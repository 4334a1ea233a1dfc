"""The payload of each kind of session event: one ``TypedDict`` per kind, named after it.

A payload is the JSON object that goes into the event's record, and so into the hash chain
(``{kind, version, seq, time, payload, prev}`` in canonical JSON). A ``TypedDict`` is that object and
nothing more: building a payload with one writes the same keys and values the evidence format always
had, and a payload read back from storage is the dict that was stored, whatever version wrote it.

Keys marked ``NotRequired`` are absent from some stored events: they are written only when they apply
(a document's ``placements``, a review that ``overrides`` an earlier one), or a version before the key
existed did not write it (``continues_session`` of a session created before 2026-11-28, as in the
golden bundle). ``domain.events`` binds each kind to its payload; nested items (an element of a
payload's list or map) are typed here too, with the suffix ``Item``.
"""

# No ``from __future__ import annotations`` here: Python 3.11 only sees ``NotRequired`` in evaluated
# annotations, and ``__required_keys__`` / ``__optional_keys__`` must tell the truth at run time.
from typing import NotRequired, TypedDict

# --- a session is created and opened ---------------------------------------------------------------


class VariableItem(TypedDict):
    """A template variable's value, as given, canonical, and in the words read aloud."""

    type: str
    value: str
    spoken: str


class OrganisationItem(TypedDict):
    """The organisation whose seal the signer applies, and the signer's authority to apply it."""

    id: str
    name: str
    credit_code: str
    certificate_serial: str
    certificate_subject: str
    seal_sha256: str  # the seal picture, stored as an ``organisation_seal`` artifact
    seal_role: str  # legal_representative | authorised_agent
    authorisation_ref: str | None  # the authorisation (授权委托书) as the integrator names it
    authorisation_sha256: str | None  # the uploaded authorisation (a ``seal_authorisation`` artifact)


class AgentRecord(TypedDict):
    """The agent on camera with the signer (``domain.participants``): registered at session creation."""

    label: str  # the template's role label (销售人员, 客户经理)
    name: str
    number: str  # licence or staff number (a resident ID number is kept masked)
    photo_sha256: str  # the agent's photo, stored as the artifact ``agent_photo``


class SessionDetails(TypedDict, total=False):
    """What the creator of a session records about it (the integrator's API, or ``simulate``)."""

    tenant_id: str
    signer_name: str
    signer_id_masked: str
    signer_id_hmac: str  # HMAC-SHA256 of the ID number under the platform's PII key
    expires_at: str
    contract_term_months: int | None
    continues_session: str | None  # since 2026-11-28
    external_ref: str | None
    summary: str
    speech_warnings: list[str]  # created although its answers cannot all be recognised (by option)
    simulation: bool  # ``dualsign simulate``: no tenant, no signer link
    time_zone: str  # IANA name of the signer's local time (the report's times); since 2026-12-06
    organisation: OrganisationItem  # whose seal the signer applies; only when the session names one
    agent: AgentRecord  # the template declares an agent on camera; since 2026-12-06


class DeclaredVariables(TypedDict, total=False):
    variables: dict[str, VariableItem]  # only when the template declares variables


class SessionCreated(SessionDetails, DeclaredVariables):
    template_key: str
    template_version: str  # the template's content hash


class SignerOpened(TypedDict):
    client: dict[str, object]  # what the page says about itself (user agent, language)


class ConsentGiven(TypedDict):
    recording: str  # the consent texts the signer agreed to
    biometric: str


class ConsentRefused(TypedDict):
    reason: str


# --- identity and liveness -------------------------------------------------------------------------


class AgentMatch(TypedDict):
    """The agent's face against the agent's photo, on the same frames as the signer's."""

    distances: list[float]
    median_distance: float | None


class IdentityCheck(TypedDict):
    """The 1:1 comparison of live frames with the ID photo (``application.vision``)."""

    method: str
    code: str
    reason: str
    distances: list[float]
    threshold: float
    frames: int
    good_frames: int
    median_distance: float | None
    snapshot_sha256: NotRequired[str]  # the best frame, stored as a face snapshot (when there was one)
    agent: NotRequired[AgentMatch]  # with an agent on camera: their face against their photo


class IdentityVerified(IdentityCheck):
    pass


class IdentityAttemptFailed(IdentityCheck):
    attempt: int


class IdentityFailed(IdentityCheck):
    attempt: int  # the last one the template allows


class IdentityWaived(TypedDict):
    reason: str


class ChallengeStepItem(TypedDict):
    action: str
    start_s: float
    end_s: float


class LivenessChallengeIssued(TypedDict):
    attempt: int
    steps: list[ChallengeStepItem]


class LivenessStepItem(TypedDict):
    action: str
    passed: bool
    reason: str
    measured: float


class LivenessCheck(TypedDict):
    mode: str
    frames: int
    steps: list[LivenessStepItem]
    frame_sha256: NotRequired[str]  # a frame of the challenge with a face, stored as evidence


class LivenessPassed(LivenessCheck):
    pass


class LivenessAttemptFailed(LivenessCheck):
    attempt: int


class LivenessFailed(LivenessCheck):
    attempt: int


class LivenessWaived(TypedDict):
    reason: str


# --- questions and answers -------------------------------------------------------------------------


class PromptAudioItem(TypedDict):
    """One part of a prompt's audio (the reminder, then the question). The service stores it as a blob
    (``sha256``); ``dualsign simulate --prompts-out`` writes it to a ``file`` and stores nothing."""

    role: str
    sha256: NotRequired[str]
    engine: str
    voice: str
    duration_s: float
    text: NotRequired[str]
    file: NotRequired[str]


class QuestionAsked(TypedDict):
    question_id: str
    attempt: int
    text: str
    reminder: str | None
    expects_answer: bool
    audio: list[PromptAudioItem]


class QuestionRepeated(TypedDict):
    question_id: str


class PlaybackItem(TypedDict):
    """How much of one part of a prompt the page played (``domain.playback``)."""

    sha256: str
    role: str
    duration_s: float
    played_s: float
    ended: bool
    full: bool


class PromptPlayed(TypedDict):
    question_id: str
    attempt: int
    parts: list[PlaybackItem]
    played_in_full: bool
    rate: float
    source: str  # page | simulation


class AnswerEvidence(TypedDict, total=False):
    """How an answer arrived, beside its verdict: the input, the stored audio, the recogniser's figures."""

    input: str  # speech | text | nod
    audio_sha256: str
    speech_start_ms: int | None
    speech_end_ms: int | None
    endpoint_wait_ms: int
    previewed_ms: int  # end of speech → the same verdict shown to the signer, before the end was confirmed
    previews_withdrawn: int  # verdicts shown, then withdrawn because the signer spoke again
    engine: str
    model: str
    confidence: float
    no_speech_prob: float
    asr_compute_s: float
    frames: int  # a nod: the frames it was seen in


class AnswerJudged(AnswerEvidence):
    question_id: str
    attempt: int
    transcript: str | None
    verdict: str
    explanation: dict[str, object]  # the matcher's rule and figures (``MatchResult.to_dict``)


class QuestionPassed(TypedDict):
    question_id: str
    attempts: int
    statement: NotRequired[bool]  # a statement, passed when the page played it in full


class QuestionFlagged(TypedDict):
    question_id: str
    attempts: int
    reason: str


class QuestionFailed(TypedDict):
    question_id: str
    attempts: int
    reason: str


class QuestionsCompleted(TypedDict):
    flagged: list[str]


# --- documents -------------------------------------------------------------------------------------


class DocumentViewed(TypedDict):
    document: str  # the document's SHA-256
    page: int
    pages: int


class DocumentsReviewed(TypedDict):
    documents: list[str]
    seconds: float


class SealedFor(TypedDict, total=False):
    """A signature of role organisation: whose seal, applied by the signer in which capacity."""

    organisation_id: str
    seal_role: str  # legal_representative | authorised_agent


class DocumentSigned(SealedFor):
    role: str  # signer | organisation (its seal, applied by the signer) | institution
    document: int
    source_sha256: str
    field: str
    page: int
    box: list[float]
    certificate_serial: str
    certificate_subject: str
    level: str
    chain_head: str  # the chain's head the signature is bound to
    revision_sha256: str
    revision_size: int


class SignatureApplied(TypedDict):
    documents: list[str]  # the signed documents' digests
    level: str
    mark_sha256: str | None


# --- the camera while recording --------------------------------------------------------------------


class WarningDetails(TypedDict):
    since_s: float
    raised_at_s: float
    after_s: float
    stream_time_s: float
    snapshot_sha256: str


class MonitoringWarning(WarningDetails):
    warning: str


class MonitoringFigures(TypedDict):
    """A connection's face-monitoring statistics (``domain.monitoring``)."""

    observed_s: float
    face_present_ratio: float
    longest_absence_s: float
    several_faces_s: float
    mismatch_s: float
    frames: int
    warnings: dict[str, int]
    presence: list[list[float | str]]  # runs [start_s, end_s, who]
    # with an agent on camera: who was expected, and the time one of them was missing; the present
    # ratio is then of the time both were, several faces of a third face, mismatch of an unknown one
    participants: NotRequired[list[str]]
    missing_s: NotRequired[float]


class MonitoringSummary(MonitoringFigures):
    started_ms: int | None  # the page's clock at the connection's t = 0
    frames_skipped: NotRequired[int]  # since 2026-12-01


# --- artifacts and the recording -------------------------------------------------------------------


class PlacementItem(TypedDict):
    role: str
    page: int
    box: list[float]


class ArtifactStored(TypedDict):
    role: str
    sha256: str
    sm3: NotRequired[str | None]  # the SM3 of the content, when the store computed it
    size: int
    media_type: str
    placements: NotRequired[list[PlacementItem]]  # a document: where its signatures go
    segment: NotRequired[int]  # a recording chunk: its number and the page's times
    index: NotRequired[int]
    started_ms: NotRequired[int]
    ended_ms: NotRequired[int]
    batch: NotRequired[int]  # an operation trace batch: its number and how many entries it holds
    entries: NotRequired[int]


class GapItem(TypedDict):
    segment: int
    kind: str  # missing_chunks | missing_segment | between_segments
    missing_indexes: NotRequired[list[int]]
    seconds: NotRequired[float]


class RecordingAssessment(TypedDict):
    """What the chunks of a recording reveal (``domain.recording.assess``)."""

    segments: int
    chunks: int
    bytes: int
    recorded_seconds: float
    complete: bool
    gaps: list[GapItem]


class SegmentMediaItem(TypedDict):
    """Per segment, the seconds its audio and video cover, or why they could not be read."""

    segment: int
    audio_s: NotRequired[float | None]
    video_s: NotRequired[float | None]
    error: NotRequired[str]


class RecordingClosed(RecordingAssessment):
    closed_by: str  # signer | timeout
    declared_chunks: dict[str, int]
    media: list[SegmentMediaItem]


class ReheardAnswerItem(TypedDict):
    question_id: str
    attempt: int
    segment: int
    window_s: list[float]
    live: str | None
    recording: str | None
    transcript: str | None
    speech_s: float
    engine: str | None
    error: str | None


class RecordingAnalysed(TypedDict):
    answers: list[ReheardAnswerItem]
    unplaced_answers: list[list[object]]  # [question_id, attempt] of answers outside the recording
    faces: dict[str, object] | None
    errors: list[str]
    compute_s: float


# --- after the session -----------------------------------------------------------------------------


class QcRuleItem(TypedDict):
    rule: str
    title: str
    clause: str
    verdict: str
    detail: str  # the finding in English words
    finding: NotRequired[str]  # the finding's code (``domain.qc_wording``); since 2026-12-06
    facts: NotRequired[dict[str, object]]  # the figures it is worded from


class QcEvaluated(TypedDict):
    ruleset: str
    verdict: str
    rules: list[QcRuleItem]


class ReviewOverride(TypedDict):
    decision: str | None
    by: str | None
    number: int


class ReviewDecided(TypedDict):
    decision: str  # approve | reject
    comment: str
    by: str
    role: str
    overrides: NotRequired[ReviewOverride]  # a later decision names the one it overrides
    override_reason: NotRequired[str]


class SessionFailed(TypedDict):
    reason: str
    code: NotRequired[str]  # one of ``outcome.FAILURE_CODES`` when the failure has its own reason code


class SessionCancelled(TypedDict):
    reason: str
    by: str


class SessionExpired(TypedDict):
    pass


class EvidenceSealed(TypedDict):
    manifest_sha256: str
    log_index: int
    merkle_root: str
    tsa_mode: str


class SealingFailed(TypedDict):
    reason: str


class LegalHoldPlaced(TypedDict):
    reason: str
    by: str


class LegalHoldReleased(TypedDict):
    reason: str
    by: str


class EvidenceDeleted(TypedDict):
    deleted: list[str]
    kept_shared: list[str]  # digests other sessions still use
    reason: str
    by: str
    retain_until: str
