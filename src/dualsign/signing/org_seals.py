"""The ``OrganisationKeys`` port: a registered organisation's key and certificate from the issuing CA
(``authority.IssuingAuthority.register_organisation``) and its round seal picture (``marks.round_seal``:
the name along the upper arc, the star, the seal's text under it, the credit code along the lower arc,
as GB/T 38540's seal pictures are drawn)."""

from __future__ import annotations

from datetime import datetime

from cryptography.hazmat.primitives import serialization

from dualsign.application.integrator.ports import OrganisationCertificate
from dualsign.signing import marks
from dualsign.signing.authority import IssuingAuthority


class PlatformOrganisationKeys:
    def __init__(self, authority: IssuingAuthority) -> None:
        self.authority = authority

    def issue(self, org_id: str, name: str, credit_code: str, at: datetime) -> OrganisationCertificate:
        cert = self.authority.register_organisation(org_id, name, credit_code, at).cert
        return OrganisationCertificate(
            format(cert.serial_number, "x"),
            cert.subject.rfc4514_string(),
            cert.public_bytes(serialization.Encoding.PEM).decode(),
        )

    def seal_picture(self, name: str, credit_code: str, seal_text: str | None) -> bytes:
        return marks.round_seal(name, credit_code, seal_text)
