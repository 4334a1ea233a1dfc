"""Ports the use cases need; adapters in ``dualsign.storage`` (and later engines) implement them.

Data-access helpers never commit: the unit of work does, once per command.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

if TYPE_CHECKING:
    from dualsign.application.evidence.report import ReportData
    from dualsign.domain.templates import SignatureField
from dualsign.application.records import (
    ApiKey,
    Artifact,
    BlobRef,
    Job,
    RenderedPrompt,
    Reviewer,
    Seal,
    SessionFilter,
    SessionRecord,
    StoredEvent,
    TemplateVersion,
    Tenant,
)


class Clock(Protocol):
    def now(self) -> datetime: ...


class IdFactory(Protocol):
    def new_id(self, prefix: str) -> str: ...


class BlobStore(Protocol):
    def put(self, data: bytes) -> BlobRef: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> None: ...
    def retain(self, sha256: str, until: datetime) -> None:
        """Keep the blob undeletable until ``until`` where the store can enforce it (S3 Object Lock in
        COMPLIANCE mode); a store that cannot, says so in its docs and relies on the retention rules."""
        ...


class TenantRepository(Protocol):
    def add(self, tenant: Tenant) -> None: ...
    def get(self, tenant_id: str) -> Tenant | None: ...
    def list(self) -> Sequence[Tenant]: ...


class ApiKeyRepository(Protocol):
    def add(self, key: ApiKey) -> None: ...
    def get(self, key_id: str) -> ApiKey | None: ...
    def list_for(self, tenant_id: str) -> Sequence[ApiKey]: ...
    def revoke(self, key_id: str, at: datetime) -> None: ...


class TemplateRepository(Protocol):
    def add(self, version: TemplateVersion) -> None: ...
    def get(self, version_id: str) -> TemplateVersion | None: ...
    def find(self, tenant_id: str | None, key: str, content_hash: str) -> TemplateVersion | None: ...
    def versions(self, tenant_id: str | None, key: str) -> Sequence[TemplateVersion]: ...
    def latest_per_key(self, tenant_id: str | None) -> Sequence[TemplateVersion]: ...


class SessionRepository(Protocol):
    def add(self, session: SessionRecord) -> None: ...
    def get(self, session_id: str) -> SessionRecord | None: ...
    def list_for(
        self, tenant_id: str, *, status: str | None, limit: int, offset: int
    ) -> Sequence[SessionRecord]: ...
    def set_status(self, session_id: str, status: str, at: datetime) -> None: ...
    def set_qc(self, session_id: str, verdict: str | None, review: str | None) -> None: ...
    def count_by_status(self) -> Mapping[str, int]: ...
    def search(self, f: SessionFilter) -> Sequence[tuple[SessionRecord, str]]:
        """Sessions matching ``f``, newest first, each with its template key."""
        ...

    def lock(self, session_id: str) -> None:
        """Hold the session against concurrent writers until the unit of work ends (its events are
        appended one at a time: the page's uploads, the live channel and the worker never race)."""
        ...


class EventRepository(Protocol):
    def append(self, event: StoredEvent) -> None: ...
    def list(self, session_id: str) -> Sequence[StoredEvent]: ...
    def last(self, session_id: str) -> StoredEvent | None: ...


class ReviewerRepository(Protocol):
    def add(self, reviewer: Reviewer) -> None: ...
    def by_username(self, username: str) -> Reviewer | None: ...
    def get(self, reviewer_id: str) -> Reviewer | None: ...
    def list(self) -> Sequence[Reviewer]: ...
    def set_password(self, reviewer_id: str, password_hash: str) -> None:
        """Also revokes the reviewer's sign-ins (raises ``sign_in_generation``)."""
        ...

    def revoke_sign_ins(self, reviewer_id: str) -> None: ...


class PromptAudioOwners(Protocol):
    """Which tenant uploaded which prompt recording."""

    def add(self, owner: str, sha256: str, at: datetime) -> None: ...
    def owns(self, owner: str, sha256: str) -> bool: ...


class ArtifactRepository(Protocol):
    def add(self, artifact: Artifact) -> None: ...
    def list(self, session_id: str) -> Sequence[Artifact]: ...
    def used_elsewhere(self, sha256: str, session_id: str) -> bool: ...


class PromptCache(Protocol):
    def get(self, cache_key: str) -> RenderedPrompt | None: ...
    def add(self, prompt: RenderedPrompt) -> None: ...


class SealRepository(Protocol):
    def add(self, seal: Seal) -> None: ...
    def get(self, session_id: str) -> Seal | None: ...
    def set_report(self, session_id: str, report_blob: str) -> None: ...


class TransparencyLog(Protocol):
    def append(self, manifest_sha256: str, leaf_hash: str, at: datetime) -> int: ...
    def leaves(self) -> Sequence[str]: ...


class JobQueue(Protocol):
    """Durable jobs, written in the caller's transaction (see ``application/outbox/jobs.py``)."""

    def enqueue(
        self,
        kind: str,
        version: int,
        key: str,
        payload: dict[str, Any],
        run_after: datetime,
        max_attempts: int,
        *,
        reschedule: bool = False,
    ) -> bool:
        """Queue a job unless one with ``key`` is queued or running; True when a job was queued.
        With ``reschedule``, a job with ``key`` still queued is moved to ``run_after`` instead."""
        ...

    def claim(self, now: datetime, lease_seconds: float, kinds: Sequence[str]) -> Job | None:
        """Take the oldest due job (or one whose worker's lease ran out) and lease it."""
        ...

    def claim_id(self, job_id: str, now: datetime, lease_seconds: float) -> Job | None:
        """Lease this job if it is due (None when it is not: done, not yet due, or leased by another)."""
        ...

    def due_ids(self, now: datetime, kinds: Sequence[str], limit: int) -> Sequence[str]:
        """Ids of due jobs (queued and due, or leased by a worker whose lease ran out), oldest first."""
        ...

    def finish(self, job_id: str, now: datetime) -> None: ...
    def retry(self, job_id: str, run_after: datetime, error: str) -> None: ...
    def bury(self, job_id: str, now: datetime, error: str) -> None: ...
    def list(self, states: Sequence[str] = (), key_prefix: str = "") -> Sequence[Job]: ...
    def counts(self) -> Mapping[tuple[str, str], int]:
        """How many jobs of each (kind, state)."""
        ...


class UnitOfWork(Protocol):
    @property
    def tenants(self) -> TenantRepository: ...
    @property
    def api_keys(self) -> ApiKeyRepository: ...
    @property
    def templates(self) -> TemplateRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def artifacts(self) -> ArtifactRepository: ...
    @property
    def prompts(self) -> PromptCache: ...
    @property
    def seals(self) -> SealRepository: ...
    @property
    def log(self) -> TransparencyLog: ...
    @property
    def jobs(self) -> JobQueue: ...
    @property
    def reviewers(self) -> ReviewerRepository: ...
    @property
    def prompt_audio(self) -> PromptAudioOwners: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class Timestamper(Protocol):
    """An RFC 3161 timestamp authority."""

    name: str
    mode: str  # "self-attested" (the platform's own TSA) | "trusted" (an external TSA)
    root_pem: bytes | None  # the TSA's trust anchor when it is not the platform root

    def timestamp(self, data: bytes) -> bytes:
        """A DER TimeStampToken over SHA-256(data); raises on any failure."""
        ...


class EvidenceKeys(Protocol):
    """The platform's sealing key and certificates, and the transparency log's key."""

    def sign_manifest(self, data: bytes) -> bytes: ...
    def sign_checkpoint(self, origin: str, size: int, root: bytes) -> str: ...
    def certificates(self) -> dict[str, bytes]: ...  # certs/<name>.pem → PEM
    def log_key_json(self) -> bytes: ...


class ReportMaker(Protocol):
    """Renders the evidence report and signs it (PAdES with a timestamp)."""

    def make(self, data: ReportData) -> bytes: ...


class PdfFacts(Protocol):
    @property
    def pages(self) -> int: ...
    @property
    def encrypted(self) -> bool: ...
    @property
    def signatures(self) -> int: ...


class PdfInspector(Protocol):
    """Opens an uploaded PDF the way signing will, so bad documents are refused at session creation."""

    def inspect(self, data: bytes) -> PdfFacts:
        """Raises ``ValueError`` with a reason when the file cannot be read as a PDF."""
        ...

    def placements(self, data: bytes, fields: Sequence[SignatureField]) -> tuple[list[Placed], list[str]]:
        """Where each of the template's signature fields goes in this PDF, and why any cannot be placed."""
        ...


@dataclass(frozen=True)
class Placed:
    """A resolved signature field: 0-based page and box (x1, y1, x2, y2) in PDF points."""

    role: str
    page: int
    box: tuple[float, float, float, float]

    def to_payload(self) -> dict[str, object]:
        return {"role": self.role, "page": self.page, "box": list(self.box)}


@dataclass(frozen=True)
class SignedPdf:
    data: bytes
    field: str
    page: int  # 1-based
    box: tuple[float, float, float, float]
    certificate_serial: str  # hex
    certificate_subject: str
    level: str  # B-T | B-LTA


class DocumentSigner(Protocol):
    """PAdES signing of a session's documents (``signing/document_signer.py``)."""

    level: str

    def handwriting(self, strokes: Sequence[Sequence[Sequence[float]]], width: float, height: float) -> bytes:
        """The signer's mark as a PNG; ``ValueError`` names what is wrong with the strokes."""
        ...

    def picture(self, data: bytes) -> bytes:
        """An uploaded mark (PNG/JPEG) re-encoded as PNG; ``ValueError`` when it is not one."""
        ...

    def sign_as_signer(
        self,
        pdf: bytes,
        *,
        field: SignatureField | None,
        placed: Placed | None,
        field_name: str,
        marks: Sequence[bytes],
        seal_name: str | None,
        signer_name: str,
        id_hash: str,
        session_id: str,
        reason: str,
        at: datetime,
    ) -> SignedPdf: ...

    def countersign(
        self,
        pdf: bytes,
        *,
        field: SignatureField | None,
        placed: Placed | None,
        field_name: str,
        tenant_id: str,
        organisation: str,
        code: str | None,
        reason: str,
        at: datetime,
    ) -> SignedPdf: ...
