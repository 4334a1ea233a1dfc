"""The integrator capability's ports: opening an uploaded PDF and placing the template's signature
fields in it, as signing will (``signing.pdf_inspect`` implements them); an organisation's certificates
(issued, renewed, revoked) and seal picture (``signing.org_seals``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from dualsign.domain.event_payloads import PlacementItem
from dualsign.domain.templates import SignatureField


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

    def to_payload(self) -> PlacementItem:
        return {"role": self.role, "page": self.page, "box": list(self.box)}


@dataclass(frozen=True)
class OrganisationCertificate:
    serial: str  # hex
    subject: str  # RFC 4514
    pem: str
    sha256: str  # SHA-256 of the DER: the fingerprint
    not_before: datetime
    not_after: datetime


class OrganisationKeys(Protocol):
    """Keys and seal pictures of a tenant's organisations."""

    def issue(self, org_id: str, name: str, credit_code: str, at: datetime) -> OrganisationCertificate:
        """A new key for the organisation, kept with the platform's signing keys, and its certificate
        from the platform's issuing CA."""
        ...

    def renew(self, org_id: str, name: str, credit_code: str, at: datetime) -> OrganisationCertificate:
        """Another new key and certificate for a registered organisation; the keys and certificates it
        had are kept."""
        ...

    def revoke(self, serials: Sequence[str], at: datetime, reason: str) -> None:
        """Put these certificates (hex serials) on the issuing CA's revocation list with the time and the
        reason (a ``RevocationReason``), and publish the list again at once."""
        ...

    def seal_picture(self, name: str, credit_code: str, seal_text: str | None) -> bytes:
        """The organisation's round seal as a PNG (``ValueError`` naming what cannot be drawn)."""
        ...
