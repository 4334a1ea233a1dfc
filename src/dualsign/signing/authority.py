"""Certificates the issuing CA gives out: event certificates (事件证书) and organisation certificates.

An event certificate is issued for one signing, to one signer, for one session: its subject names the
signer, carries the keyed hash of the ID number (never the number) as ``serialNumber`` and the session
id as ``organizationalUnitName``; it is valid for one hour around the signing, and its key exists only
in memory for that signing. The signature's timestamp proves it was used while valid.

An organisation certificate belongs to an institution (a tenant): its name and unified social credit
code; it signs the institution's counter-signature with the organisation's seal. Its key is kept under
``<data>/pki/orgs`` (an HSM in production, see docs/signing.md).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from dualsign.signing.pki import (
    CaKey,
    PlatformPki,
    crl_point,
    issue,
    new_key,
    private_pem,
    write_key,
)

EVENT_VALIDITY = dt.timedelta(hours=1)
ORG_VALIDITY = dt.timedelta(days=3 * 365)
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class IssuedKey:
    key: CaKey
    cert: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # issuing CA, root


@dataclass(frozen=True)
class Organisation:
    name: str
    code: str | None


class IssuingAuthority:
    def __init__(self, pki: PlatformPki, public_url: str) -> None:
        self.pki = pki
        self.crl = crl_point(public_url, "ca.crl")
        self.chain = (pki.ca_cert, pki.root_cert)
        self._orgs: dict[str, IssuedKey] = {}

    def _certificate(
        self, subject: x509.Name, key: CaKey, now: dt.datetime, validity: dt.timedelta
    ) -> x509.Certificate:
        return issue(
            subject,
            key.public_key(),
            self.pki.ca_cert,
            self.pki.ca_key,
            ca=False,
            now=now,
            validity=validity,
            crl_url=self.crl,
        )

    def event_certificate(
        self, signer_name: str, id_hash: str, session_id: str, now: dt.datetime
    ) -> IssuedKey:
        key = new_key(self.pki.algorithm)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, signer_name[:64]),
                x509.NameAttribute(NameOID.SERIAL_NUMBER, id_hash[:64]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DualSign event certificate"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, session_id),
            ]
        )
        return IssuedKey(key, self._certificate(subject, key, now, EVENT_VALIDITY), self.chain)

    def organisation(self, tenant_id: str, org: Organisation, now: dt.datetime) -> IssuedKey:
        """The tenant's organisation key and certificate, issued on first use and kept."""
        if not _SAFE_ID.match(tenant_id):
            raise ValueError(f"not a tenant id: {tenant_id!r}")
        cached = self._orgs.get(tenant_id)
        if cached is not None and _same_org(cached.cert, org):
            return cached
        folder = self.pki.folder / "orgs"
        folder.mkdir(exist_ok=True)
        key_path, cert_path = folder / f"{tenant_id}.key", folder / f"{tenant_id}.pem"
        issued: IssuedKey | None = None
        if key_path.exists() and cert_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            if _same_org(cert, org) and cert.not_valid_after_utc > now + dt.timedelta(days=30):
                issued = IssuedKey(key, cert, self.chain)  # type: ignore[arg-type]
        if issued is None:
            key = new_key(self.pki.algorithm)
            attrs = [
                x509.NameAttribute(NameOID.COMMON_NAME, org.name[:64]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org.name[:64]),
            ]
            if org.code:
                attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, org.code))
            cert = self._certificate(x509.Name(attrs), key, now, ORG_VALIDITY)
            write_key(key_path, private_pem(key))
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            (folder / f"{tenant_id}.json").write_text(json.dumps({"name": org.name, "code": org.code}))
            issued = IssuedKey(key, cert, self.chain)
        self._orgs[tenant_id] = issued
        return issued


def _same_org(cert: x509.Certificate, org: Organisation) -> bool:
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    codes = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return bool(names) and names[0].value == org.name[:64] and (codes[0].value if codes else None) == org.code
