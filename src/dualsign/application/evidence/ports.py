"""The evidence capability's ports: the platform's keys, the timestamp authority, the report maker, and
what the report says (``ReportData``, gathered by ``evidence.report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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


@dataclass(frozen=True)
class ReportData:
    language: str  # zh | en
    session_id: str
    tenant: str
    signer_name: str
    signer_id_masked: str
    scenario: str
    template: str
    state: str
    created_at: str
    sealed_at: str
    manifest_sha256: str
    merkle_root: str
    tsa: str
    tsa_mode: str
    timestamp_time: str
    log_index: int
    verify_url: str
    consent: list[str]
    identity: str
    liveness: str
    questions: list[dict[str, Any]]  # {id, prompt, attempts: [{attempt, transcript, verdict}]}
    warnings: list[str]
    timeline: list[tuple[str, str, str]]  # (time, kind, detail)
    artifacts: list[dict[str, Any]]  # {role, sha256, sm3, size}
    face_snapshot: bytes | None = None
    reasks: int = 0
    qc: dict[str, Any] = field(default_factory=dict)  # the automatic quality check: ruleset, verdict, rules
    extra: dict[str, str] = field(default_factory=dict)
    # the template's variables as recorded at creation: (name — label, value, the words read aloud)
    variables: list[tuple[str, str, str]] = field(default_factory=list)
