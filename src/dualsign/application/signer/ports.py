"""The signer capability's ports: signing the session's documents (``signing.document_signer``),
showing their pages as pictures (``signing.pdf_render``), and sealing a session the moment it ends (the
container, through ``evidence.sealing``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dualsign.application.integrator.ports import Placed
from dualsign.domain.templates import SignatureField


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

    def seal_as_organisation(
        self,
        pdf: bytes,
        *,
        field: SignatureField,
        placed: Placed | None,
        field_name: str,
        organisation_id: str,
        certificate_serial: str,
        seal: bytes,
        reason: str,
        at: datetime,
    ) -> SignedPdf:
        """The organisation's seal picture at its spot, signed with the organisation's certificate of
        this serial (the signature's signer is the organisation); fails when the organisation has no such
        certificate and key, or the certificate is not valid at ``at`` (never with another key)."""
        ...

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


class PageRenderer(Protocol):
    """A PDF's pages as pictures, for phones and webviews without a PDF viewer."""

    def render(self, pdf: bytes, page: int, width: int) -> bytes:
        """Page ``page`` (1-based), ``width`` pixels wide, as PNG; ``InvalidInput`` names a page or a width
        out of range."""
        ...


class Sealer(Protocol):
    """Seals a session that has just ended, after its ending events are committed. Its seal job was
    queued with the ending event (``event_store.persist``): a seal that cannot happen now is recorded and
    retried by the job runner, never lost."""

    def seal_ended(self, session_id: str) -> None: ...
