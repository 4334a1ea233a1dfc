"""Database tables. Schemas on the wire (api/) and records in the application are separate from these."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: DateTime(timezone=True), dict[str, Any]: JSON}


class TenantRow(Base):
    __tablename__ = "tenants"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class OrganisationRow(Base):
    """A tenant's organisation that seals documents (one not revoked per credit code and tenant), with its
    current certificate and, once revoked, when, why and by whom."""

    __tablename__ = "organisations"
    __table_args__ = (
        Index(
            "uq_organisation_code_active",
            "tenant_id",
            "credit_code",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    credit_code: Mapped[str] = mapped_column(String(18))
    seal_text: Mapped[str | None] = mapped_column(String(40))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    certificate_subject: Mapped[str] = mapped_column(String(500))
    certificate_pem: Mapped[str] = mapped_column(Text)
    seal_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revocation_reason: Mapped[str | None] = mapped_column(String(40))
    revocation_comment: Mapped[str | None] = mapped_column(String(500))
    revoked_by: Mapped[str | None] = mapped_column(String(80))


class OrganisationCertificateRow(Base):
    """Every certificate issued to an organisation (registration, renewals), kept for good."""

    __tablename__ = "organisation_certificates"
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    pem: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    issued_at: Mapped[datetime]
    issued_by: Mapped[str | None] = mapped_column(String(80))
    superseded_at: Mapped[datetime | None]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class TemplateVersionRow(Base):
    __tablename__ = "template_versions"
    __table_args__ = (
        UniqueConstraint("tenant_scope", "key", "content_hash", name="uq_template_content"),
        UniqueConstraint("tenant_scope", "key", "number", name="uq_template_number"),
    )
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    # "" for built-in templates: unique constraints treat NULLs as distinct, an empty scope is not.
    tenant_scope: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]]
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_tenant_created", "tenant_id", "created_at"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    template_version_id: Mapped[str] = mapped_column(ForeignKey("template_versions.id"))
    status: Mapped[str] = mapped_column(String(32), index=True)
    signer_name: Mapped[str] = mapped_column(String(200))
    signer_id_masked: Mapped[str] = mapped_column(String(64))
    signer_id_hash: Mapped[str] = mapped_column(String(64))
    signer_phone: Mapped[str] = mapped_column(String(32))
    callback_url: Mapped[str | None] = mapped_column(String(2000))
    external_ref: Mapped[str | None] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    qc_verdict: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    review: Mapped[str | None] = mapped_column(String(16), default=None)  # approve | reject


class ReviewerRow(Base):
    __tablename__ = "reviewers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant_id: Mapped[str | None] = mapped_column(ForeignKey("tenants.id"))  # None: the platform's
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # sign-ins carry this number; sign-out and a password or role change raise it: older ones are revoked
    sign_in_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SessionEventRow(Base):
    __tablename__ = "session_events"
    __table_args__ = (UniqueConstraint("session_id", "seq", name="uq_event_seq"),)
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    payload: Mapped[dict[str, Any]]
    prev: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    sm3: Mapped[str | None] = mapped_column(String(64))


class RenderedPromptRow(Base):
    """Cache of synthesized prompts: same engine, voice, rate and text → the same audio blob."""

    __tablename__ = "rendered_prompts"
    cache_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    engine: Mapped[str] = mapped_column(String(64))
    voice: Mapped[str] = mapped_column(String(128))
    duration_s: Mapped[float]
    created_at: Mapped[datetime]


class PromptAudioOwnerRow(Base):
    """Who uploaded a prompt recording: a template may name only its own tenant's (blobs are shared by
    content, so a digest alone would reach another tenant's file)."""

    __tablename__ = "prompt_audio_owners"
    owner: Mapped[str] = mapped_column(String(40), primary_key=True)  # tenant id
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]


class SealRow(Base):
    """A session's sealed manifest: the signed, timestamped close of its evidence."""

    __tablename__ = "seals"
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), primary_key=True)
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    manifest_blob: Mapped[str] = mapped_column(String(64))
    signature_blob: Mapped[str] = mapped_column(String(64))
    timestamp_blob: Mapped[str] = mapped_column(String(64))
    chain_length: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    sealed_at: Mapped[datetime]
    report_blob: Mapped[str | None] = mapped_column(String(64))


class LogEntryRow(Base):
    """The platform-wide transparency log: one leaf per sealed manifest, append-only."""

    __tablename__ = "log_entries"
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    manifest_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class ArtifactRow(Base):
    __tablename__ = "artifacts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime]


class JobRow(Base):
    """A durable job: enqueued in the same transaction as the event that needs it, run at least once.

    ``key`` makes enqueueing idempotent (one live job per key); a running job holds a lease
    (``lease_id`` until ``locked_until``, renewed while its worker runs it) so a crashed worker's job
    is taken again when the lease runs out, and only the lease's holder can end it.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "state", "run_after"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20))  # queued | running | done | dead
    attempts: Mapped[int] = mapped_column(Integer)
    max_attempts: Mapped[int] = mapped_column(Integer)
    run_after: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    lease_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
