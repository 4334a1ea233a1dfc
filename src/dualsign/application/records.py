"""What the application layer reads and writes through its ports: plain frozen records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dualsign.domain.session import SigningSession


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class OrganisationCertificateEntry:
    """One certificate issued to an organisation (at registration or a renewal), kept for good."""

    serial: str  # hex
    subject: str  # RFC 4514
    pem: str
    sha256: str  # the fingerprint: SHA-256 of the certificate's DER
    not_before: datetime
    not_after: datetime
    issued_at: datetime
    issued_by: str | None = None  # "api_key:<id>", "operator"; None: not recorded (issued before 0008)
    superseded_at: datetime | None = None  # when a renewal replaced it


@dataclass(frozen=True)
class Organisation:
    """An organisation of a tenant that seals documents: its current certificate (issued by the
    platform's issuing CA, its key kept with the platform's signing keys), every certificate it had, its
    seal picture (a blob) and, once revoked, when, why and by whom."""

    id: str
    tenant_id: str
    name: str
    credit_code: str  # 统一社会信用代码 (GB 32100)
    seal_text: str | None  # the seal's horizontal text, e.g. 合同专用章
    certificate_serial: str  # hex: the current certificate's
    certificate_subject: str  # RFC 4514
    certificate_pem: str
    seal_sha256: str
    created_at: datetime
    certificates: tuple[OrganisationCertificateEntry, ...] = ()  # oldest first, the current one included
    revoked_at: datetime | None = None
    revocation_reason: str | None = None  # a ``domain.organisations.RevocationReason``
    revocation_comment: str | None = None
    revoked_by: str | None = None

    @property
    def certificate(self) -> OrganisationCertificateEntry | None:
        """The current certificate's entry."""
        return next((c for c in self.certificates if c.serial == self.certificate_serial), None)


@dataclass(frozen=True)
class ApiKey:
    id: str  # public part, shown in listings ("dsk_<id>")
    tenant_id: str
    secret_hash: str
    label: str
    created_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class TemplateVersion:
    id: str
    tenant_id: str | None  # None: built into the product, visible to every tenant
    key: str
    number: int  # 1, 2, 3 … per (tenant, key)
    content_hash: str
    document: dict[str, Any]
    source: str  # the YAML text as submitted
    created_at: datetime


@dataclass(frozen=True)
class SessionRecord:
    id: str
    tenant_id: str
    template_version_id: str
    status: str
    signer_name: str
    signer_id_masked: str
    signer_id_hash: str
    signer_phone: str
    callback_url: str | None
    external_ref: str | None
    summary: str
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    qc_verdict: str | None = None  # the automatic quality check's overall verdict, once evaluated
    review: str | None = None  # a reviewer's decision: approve | reject


@dataclass(frozen=True)
class Reviewer:
    id: str
    tenant_id: str | None  # None: a platform reviewer who sees every tenant
    username: str
    password_hash: str
    role: str  # admin | reviewer | auditor
    created_at: datetime
    disabled_at: datetime | None = None
    sign_in_generation: int = 0  # sign-ins issued under an older number are revoked


@dataclass(frozen=True)
class SessionFilter:
    tenant_id: str | None = None
    status: str | None = None
    qc_verdict: str | None = None
    template_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    review: str | None = None  # approve | reject | none (not yet reviewed)
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class StoredEvent:
    session_id: str
    seq: int
    kind: str
    version: int
    at: datetime
    payload: dict[str, Any]
    prev: str
    sha256: str
    sm3: str | None


@dataclass(frozen=True)
class SessionSnapshot:
    """A session aggregate kept in memory: the fold of its stored events, as stored, up to event ``seq``
    whose record digest is ``sha256`` (which, the chain being hashed, names every event before it)."""

    session: SigningSession
    seq: int
    sha256: str


@dataclass(frozen=True)
class Artifact:
    id: str
    session_id: str
    role: str  # identity_photo | document | …
    name: str
    sha256: str
    size: int
    media_type: str
    created_at: datetime


@dataclass(frozen=True)
class RenderedPrompt:
    cache_key: str
    sha256: str
    engine: str
    voice: str
    duration_s: float
    created_at: datetime


@dataclass(frozen=True)
class Seal:
    session_id: str
    manifest_sha256: str
    manifest_blob: str
    signature_blob: str
    timestamp_blob: str
    chain_length: int
    log_index: int
    sealed_at: datetime
    report_blob: str | None = None  # the signed evidence report, rendered once after sealing


@dataclass(frozen=True)
class BlobRef:
    sha256: str
    size: int
    sm3: str | None = None


@dataclass(frozen=True)
class Job:
    """A durable job as the worker sees it (see ``application/outbox/jobs.py``)."""

    id: str
    kind: str
    version: int
    key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    max_attempts: int
    run_after: datetime
    last_error: str | None
    lease: str | None = None  # the claim a worker holds while the job runs (None when not running)
