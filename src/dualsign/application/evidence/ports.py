"""The evidence capability's ports: the platform's keys, the timestamp authority, the report maker, and
what the report says (``ReportData``, gathered by ``evidence.report``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dualsign.domain.trace import TraceSummary


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
    """The facts of the report as codes and figures; the renderer words them in ``language``."""

    language: str  # zh | en
    time_zone: str  # IANA name: every time is shown in it, with its UTC offset
    session_id: str
    tenant: str
    signer_name: str
    signer_id_masked: str
    scenario: str
    template: str
    state: str  # the sealed state's code (signed, failed, cancelled …)
    created_at: datetime
    sealed_at: datetime
    manifest_sha256: str
    merkle_root: str
    tsa: str
    tsa_mode: str
    timestamp_time: datetime
    log_index: int
    verify_url: str
    consent: list[str]  # the consent texts the signer agreed to, in the session's language
    consent_refused: str | None  # the reason, when consent was refused
    # the last identity decision: kind, code, largest distance, threshold, frames compared; None: none
    identity: dict[str, Any] | None
    # the last liveness decision: kind, attempt, steps [(action, passed)], reason; None: none
    liveness: dict[str, Any] | None
    # {id, prompt, clause, audio, attempts: [{attempt, transcript, verdict, input}]}
    questions: list[dict[str, Any]]
    warnings: list[tuple[datetime, str, float | None]]  # (when, warning code, seconds the condition lasted)
    timeline: list[tuple[datetime, str, str]]  # (time, event kind, question id or reason)
    artifacts: list[dict[str, Any]]  # {role, sha256, sm3, size}
    id_photo: bytes | None = None  # the identity photo the integrator supplied
    face_snapshot: bytes | None = None  # the live frame the identity decision kept
    liveness_frame: bytes | None = None  # a frame of the liveness actions
    reasks: int = 0
    qc: dict[str, Any] = field(default_factory=dict)  # the automatic quality check: ruleset, verdict, rules
    # the template's variables as recorded at creation: (name — label, value, the words read aloud)
    variables: list[tuple[str, str, str]] = field(default_factory=list)
    # whose seal the signer applied and the authority recorded at creation: name, credit_code,
    # certificate_serial, seal_role, authorisation_ref, authorisation_sha256; None: no organisation
    organisation: dict[str, Any] | None = None
    organisation_seal: bytes | None = None  # the seal picture applied
    # the page's operation trace summarised (None: the page sent none), or why it could not be read
    trace: TraceSummary | None = None
    trace_error: str | None = None
    # the agent on camera with the signer: label, name, number, largest face distance; None: signer alone
    agent: dict[str, Any] | None = None
    agent_photo: bytes | None = None  # the agent's photo the integrator supplied
    # who was on camera, from the monitoring's presence runs: (who, seconds), longest first
    on_camera: list[tuple[str, float]] = field(default_factory=list)
