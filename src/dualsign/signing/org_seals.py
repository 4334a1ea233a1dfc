"""The ``OrganisationKeys`` port: a registered organisation's keys and certificates from the issuing CA
(``authority.IssuingAuthority``: registered, renewed, revoked on the CA's CRL) and its round seal
picture (``marks.round_seal``: the name along the upper arc, the star, the seal's text under it, the
credit code along the lower arc, as GB/T 38540's seal pictures are drawn)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dualsign.application.integrator.ports import OrganisationCertificate
from dualsign.signing import marks
from dualsign.signing.authority import IssuingAuthority


def _described(cert: x509.Certificate) -> OrganisationCertificate:
    return OrganisationCertificate(
        format(cert.serial_number, "x"),
        cert.subject.rfc4514_string(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
        hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )


class PlatformOrganisationKeys:
    def __init__(self, authority: IssuingAuthority) -> None:
        self.authority = authority

    def issue(self, org_id: str, name: str, credit_code: str, at: datetime) -> OrganisationCertificate:
        return _described(self.authority.register_organisation(org_id, name, credit_code, at).cert)

    def renew(self, org_id: str, name: str, credit_code: str, at: datetime) -> OrganisationCertificate:
        return _described(self.authority.renew_organisation(org_id, name, credit_code, at).cert)

    def revoke(self, serials: Sequence[str], at: datetime, reason: str) -> None:
        # the domain's reasons are RFC 5280's, named as ``x509.ReasonFlags`` names them
        self.authority.revoke([int(s, 16) for s in serials], at, reason)

    def seal_picture(self, name: str, credit_code: str, seal_text: str | None) -> bytes:
        return marks.round_seal(name, credit_code, seal_text)
