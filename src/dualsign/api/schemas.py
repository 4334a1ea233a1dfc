"""Wire schemas: what the API sends and accepts. Never domain objects or table rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from dualsign.application.event_store import iso_time
from dualsign.application.integrator.organisations import certificate_status
from dualsign.application.integrator.sessions import SessionView
from dualsign.application.records import (
    ApiKey,
    Artifact,
    Organisation,
    OrganisationCertificateEntry,
    SessionRecord,
    StoredEvent,
    TemplateVersion,
)
from dualsign.application.signer.flow import SignerView
from dualsign.domain.organisations import CertificateStatus, RevocationReason
from dualsign.domain.outcome import ending_reason, outcome
from dualsign.domain.session import Prompt
from dualsign.domain.states import EventKind, SessionState


class ApiKeyCreate(BaseModel):
    label: str = Field(default="api key", max_length=200)


class ApiKeyOut(BaseModel):
    id: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        return cls(id=key.id, label=key.label, created_at=key.created_at, revoked_at=key.revoked_at)


class ApiKeyIssued(ApiKeyOut):
    key: str = Field(description="The whole key. Shown this once; store it now.")


class OrganisationIn(BaseModel):
    name: str = Field(max_length=400, description="the organisation's registered name, e.g. 某某建设有限公司")
    credit_code: str = Field(
        max_length=100, description="统一社会信用代码: 18 characters, the last a GB 32100 check character"
    )
    seal_text: str | None = Field(
        default=None, max_length=100, description="the seal's horizontal text, e.g. 合同专用章 (optional)"
    )


class CertificateOut(BaseModel):
    serial: str = Field(description="hex serial")
    subject: str
    sha256: str = Field(description="fingerprint: SHA-256 of the certificate's DER, hex")
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    issued_by: str | None = Field(description="api_key:<key id> | operator; null before this was recorded")
    superseded_at: datetime | None = Field(description="when a renewal replaced it")
    status: Literal["current", "superseded", "expired", "revoked"]

    @classmethod
    def of(cls, c: OrganisationCertificateEntry, status: CertificateStatus) -> CertificateOut:
        return cls(
            serial=c.serial,
            subject=c.subject,
            sha256=c.sha256,
            not_before=c.not_before,
            not_after=c.not_after,
            issued_at=c.issued_at,
            issued_by=c.issued_by,
            superseded_at=c.superseded_at,
            status=status.value,
        )


REASONS = " | ".join(r.value for r in RevocationReason)


class RevocationOut(BaseModel):
    revoked_at: datetime
    reason: str = Field(description=REASONS)
    comment: str | None
    by: str | None = Field(description="who revoked it: api_key:<key id>")


class OrganisationRevokeIn(BaseModel):
    reason: str = Field(
        max_length=100,
        description=f"{REASONS} (RFC 5280's reasons; written to the issuing CA's CRL)",
    )
    comment: str | None = Field(default=None, max_length=2000, description="kept with the revocation")


class OrganisationOut(BaseModel):
    id: str
    name: str
    credit_code: str
    seal_text: str | None
    seal_sha256: str = Field(description="SHA-256 of the seal picture (PNG)")
    seal_url: str = Field(description="the seal picture, with the same API key")
    status: Literal["active", "certificate_expired", "revoked"] = Field(
        description="active: it may seal | certificate_expired: renew it (POST …/certificate) | revoked: "
        "for good (no session may name it)"
    )
    certificate_serial: str = Field(description="hex serial of the organisation's current certificate")
    certificate_subject: str
    certificate_pem: str = Field(description="issued by the platform's issuing CA (/pki/ca.pem)")
    certificate: CertificateOut | None = Field(description="the current certificate")
    certificates: list[CertificateOut] = Field(
        description="every certificate issued to it, oldest first (the current one included)"
    )
    revocation: RevocationOut | None = Field(description="when, why and by whom it was revoked")
    created_at: datetime

    @classmethod
    def of(cls, org: Organisation, at: datetime) -> OrganisationOut:
        statuses = certificate_status(org, at)
        history = [CertificateOut.of(c, statuses[c.serial]) for c in org.certificates]
        current = next((h for h in history if h.serial == org.certificate_serial), None)
        status: Literal["active", "certificate_expired", "revoked"] = (
            "revoked" if org.revoked_at else "active"
        )
        if current is not None and current.status == "expired" and not org.revoked_at:
            status = "certificate_expired"
        revocation = None
        if org.revoked_at is not None:
            revocation = RevocationOut(
                revoked_at=org.revoked_at,
                reason=org.revocation_reason or "unspecified",
                comment=org.revocation_comment,
                by=org.revoked_by,
            )
        return cls(
            id=org.id,
            name=org.name,
            credit_code=org.credit_code,
            seal_text=org.seal_text,
            seal_sha256=org.seal_sha256,
            seal_url=f"/v1/organisations/{org.id}/seal.png",
            status=status,
            certificate_serial=org.certificate_serial,
            certificate_subject=org.certificate_subject,
            certificate_pem=org.certificate_pem,
            certificate=current,
            certificates=history,
            revocation=revocation,
            created_at=org.created_at,
        )


class TemplateSummary(BaseModel):
    key: str
    number: int
    content_hash: str
    title: str
    scenario: str
    language: str
    builtin: bool
    created_at: datetime

    @classmethod
    def of(cls, v: TemplateVersion) -> TemplateSummary:
        return cls(
            key=v.key,
            number=v.number,
            content_hash=v.content_hash,
            title=str(v.document["title"]),
            scenario=str(v.document["scenario"]),
            language=str(v.document["language"]),
            builtin=v.tenant_id is None,
            created_at=v.created_at,
        )


class TemplateDetail(TemplateSummary):
    document: dict[str, Any]

    @classmethod
    def of(cls, v: TemplateVersion) -> TemplateDetail:
        return cls(**TemplateSummary.of(v).model_dump(), document=v.document)


class PromptAudioStored(BaseModel):
    sha256: str
    duration_s: float


class TemplateProblem(BaseModel):
    field: str
    reason: str


class TemplateValidation(BaseModel):
    valid: bool
    content_hash: str | None = None
    errors: list[TemplateProblem] = []


class ArtifactOut(BaseModel):
    role: str
    name: str
    sha256: str
    size: int
    media_type: str

    @classmethod
    def of(cls, a: Artifact) -> ArtifactOut:
        return cls(role=a.role, name=a.name, sha256=a.sha256, size=a.size, media_type=a.media_type)


class SessionOut(BaseModel):
    id: str
    status: str
    template_key: str | None = None
    template_version: int | None = None
    template_hash: str | None = None
    signer_name: str
    signer_id_masked: str
    external_ref: str | None
    callback_url: str | None
    summary: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: SessionRecord, template: TemplateVersion | None = None) -> SessionOut:
        return cls(
            id=s.id,
            status=s.status,
            signer_name=s.signer_name,
            signer_id_masked=s.signer_id_masked,
            external_ref=s.external_ref,
            callback_url=s.callback_url,
            summary=s.summary,
            expires_at=s.expires_at,
            created_at=s.created_at,
            updated_at=s.updated_at,
            template_key=template.key if template else None,
            template_version=template.number if template else None,
            template_hash=template.content_hash if template else None,
        )


class SessionCreated(SessionOut):
    signer_url: str = Field(description="The link to send to the signer; valid until expires_at")
    artifacts: list[ArtifactOut]
    warnings: list[str] = Field(
        default_factory=list,
        description="Created anyway (DUALSIGN_SPEECH_LANGUAGE_CHECK=warn) although, e.g., no speech "
        "recogniser hears the template's language",
    )


class SessionDetail(SessionOut):
    artifacts: list[ArtifactOut]
    events: int
    # the state model integrators should read (``status`` is the lifecycle state, kept as it was:
    # "sealed" only ever follows "signed", a failed session stays "failed" once sealed)
    outcome: str = Field(
        "in_progress",
        description="in_progress | completed | failed | refused | cancelled | expired; never changes "
        "once the session has ended, whether or not its evidence is sealed yet",
    )
    outcome_reason: str | None = Field(
        None,
        description="why an unsigned session ended: identity | liveness | question | refused | "
        "cancelled | expired | organisation_revoked | other (the reason_code of the session.failed "
        "webhook)",
    )
    sealed: bool = Field(False, description="the evidence is sealed (true for any outcome once sealed)")

    @classmethod
    def of_view(cls, view: SessionView) -> SessionDetail:
        kinds = [EventKind(e.kind) for e in view.events]
        ended = [(EventKind(e.kind), e.payload) for e in view.events]
        state = SessionState(view.session.status)
        return cls(
            **SessionOut.of(view.session, view.template).model_dump(),
            artifacts=[ArtifactOut.of(a) for a in view.artifacts],
            events=len(view.events),
            outcome=outcome(state),
            outcome_reason=ending_reason(ended),
            sealed=EventKind.EVIDENCE_SEALED in kinds,
        )


class EventOut(BaseModel):
    seq: int
    kind: str
    version: int
    time: str = Field(description="UTC, microseconds: exactly the string the record's digest covers")
    payload: dict[str, Any]
    prev: str
    sha256: str
    sm3: str | None

    @classmethod
    def of(cls, e: StoredEvent) -> EventOut:
        return cls(
            seq=e.seq,
            kind=e.kind,
            version=e.version,
            time=iso_time(e.at),
            payload=e.payload,
            prev=e.prev,
            sha256=e.sha256,
            sm3=e.sm3,
        )


class SealOut(BaseModel):
    manifest_sha256: str
    log_index: int
    chain_length: int
    sealed_at: datetime


class ReasonIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class RetentionOut(BaseModel):
    retain_until: datetime
    legal_holds: int
    deletable: bool
    reason: str
    deleted: bool


class CancelRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


class PromptOut(BaseModel):
    question_id: str
    attempt: int
    max_attempts: int
    text: str
    question_text: str
    reminder: str | None
    expects_answer: bool
    speaker: str = "signer"  # signer | agent (the agent's introduction)

    @classmethod
    def of(cls, p: Prompt | None) -> PromptOut | None:
        if p is None:
            return None
        return cls(
            question_id=p.question_id,
            attempt=p.attempt,
            max_attempts=p.max_attempts,
            text=p.text,
            question_text=p.question_text,
            reminder=p.reminder,
            expects_answer=p.expects_answer,
            speaker=p.speaker,
        )


class PromptAudioOut(BaseModel):
    role: str
    url: str
    sha256: str
    text: str
    duration_s: float


class OrganisationShown(BaseModel):
    name: str
    credit_code: str
    seal_role: str  # legal_representative | authorised_agent


class SignerState(BaseModel):
    session_id: str
    state: str
    summary: str
    signer_name: str
    prompt: PromptOut | None
    prompt_audio: list[PromptAudioOut] = []
    last_verdict: dict[str, Any] | None = None
    language: str = "zh-CN"
    title: str = ""
    consent_recording: str = ""
    consent_biometric: str = ""
    speech_rate: float = 1.0
    questions: int = 0  # how many questions the session asks (for a progress bar)
    agent_on_camera: bool = False  # the template puts an agent on camera beside the signer
    agent_label: str | None = None  # how the page names that agent (the template's 销售人员, 客户经理)
    question_number: int = 0  # 1-based number of the current question
    ended_reason: str | None = None  # how an unsigned session ended: identity, liveness, question, ...
    sealed: bool = False
    organisation: OrganisationShown | None = None  # whose seal the signer applies at signing, and as what


def signer_state(view: SignerView, token: str) -> SignerState:
    verdict = next(
        (dict(e.payload) for e in reversed(view.events) if e.kind is EventKind.ANSWER_JUDGED), None
    )
    audio = [
        PromptAudioOut(
            role=str(a["role"]),
            sha256=str(a["sha256"]),
            text=str(a.get("text", "")),
            duration_s=float(a.get("duration_s") or 0.0),
            url=f"/signer/v1/prompt-audio/{a['sha256']}?token={token}",
        )
        for a in view.prompt_audio
    ]
    t = view.template
    extra: dict[str, Any] = {}
    if t is not None:
        extra = {
            "language": t.language.value,
            "title": t.title,
            "consent_recording": t.consent.recording,
            "consent_biometric": t.consent.biometric,
            "speech_rate": t.speech.speech_rate,
            "questions": len(t.questions),
            "agent_on_camera": t.has_agent,
            "agent_label": t.agent.label if t.agent is not None else None,
        }
        if view.prompt is not None:
            ids = [q.id for q in t.questions]
            extra["question_number"] = ids.index(view.prompt.question_id) + 1
    return SignerState(
        **extra,
        session_id=view.record.id,
        state=view.state,
        summary=view.record.summary,
        signer_name=view.record.signer_name,
        prompt=PromptOut.of(view.prompt),
        prompt_audio=audio,
        last_verdict=verdict,
        ended_reason=view.ended_reason,
        sealed=view.sealed,
        organisation=OrganisationShown(
            name=org["name"], credit_code=org["credit_code"], seal_role=org["seal_role"]
        )
        if (org := view.organisation) is not None
        else None,
    )


class ConsentRequest(BaseModel):
    agree: bool
    reason: str = Field(default="", max_length=500)


class TextAnswer(BaseModel):
    text: str = Field(max_length=500)


class PlayedPartIn(BaseModel):
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    played_s: float = Field(ge=0, le=600, description="seconds of the media played (media time)")
    ended: bool = Field(description="playback reached the end of this part")


class PlaybackReport(BaseModel):
    """What the page played of the current prompt, part by part (reminder, question)."""

    question_id: str = Field(max_length=100)
    attempt: int = Field(ge=1, le=100)
    parts: list[PlayedPartIn] = Field(default_factory=list, max_length=10)
    rate: float = Field(default=1.0, gt=0, le=4)


class DocumentOut(BaseModel):
    index: int
    name: str
    sha256: str
    pages: int
    pages_seen: list[int]
    signed_sha256: str | None


class PageViewed(BaseModel):
    page: int = Field(ge=1, le=100_000)


class SignatureRequest(BaseModel):
    """The signer's handwritten mark: pad strokes (each a list of [x, y] points in the pad's pixels),
    or a PNG/JPEG picture of the mark as base64."""

    strokes: list[list[list[float]]] | None = Field(default=None, max_length=400)
    width: float = Field(default=0, ge=0, le=5000)
    height: float = Field(default=0, ge=0, le=5000)
    image_base64: str | None = Field(default=None, max_length=8_000_000)
