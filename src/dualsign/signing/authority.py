"""Certificates the issuing CA gives out: event certificates (事件证书) and organisation certificates.

An event certificate is issued for one signing, to one signer, for one session: its subject names the
signer, carries the keyed hash of the ID number (never the number) as ``serialNumber`` and the session
id as ``organizationalUnitName``; it is valid for one hour around the signing, and its key exists only
in memory for that signing. The signature's timestamp proves it was used while valid.

An organisation certificate belongs to an institution (a tenant): its name and unified social credit
code; it signs the institution's counter-signature with the organisation's seal. Its key is kept under
``<data>/pki/orgs`` (an HSM in production, see docs/signing.md).

A tenant's organisations (``/v1/organisations``) get theirs when they are registered
(``register_organisation``): subject ``C=CN, O=<name>, CN=<name>, organizationIdentifier=NTRCN-<credit
code>`` (ETSI EN 319 412-1's semantics for a legal person), kept under ``<data>/pki/orgs/<org id>``; a
seal spot of the organisation is signed with it. A renewal (``renew_organisation``) adds another key and
certificate, ``<data>/pki/orgs/<org id>-<serial>``; the earlier ones stay. A seal is made with the
certificate the caller names by its serial (``organisation_key``), never another. Revoking
(``revoke``) lists certificates on the issuing CA's CRL with the time and reason and re-issues it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from dualsign.signing.pki import (
    CaKey,
    PlatformPki,
    crl_point,
    issue,
    new_key,
    private_pem,
    publish_ca_crl,
    revoke,
    revoked_entries,
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
        self._orgs: dict[str, IssuedKey] = {}  # institutions' (tenants'), by tenant id
        self._registered: dict[tuple[str, str], IssuedKey] = {}  # registered organisations', by (id, serial)

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

    def _org_folder(self, org_id: str) -> Path:
        if not _SAFE_ID.match(org_id):
            raise ValueError(f"not an organisation id: {org_id!r}")
        folder = self.pki.folder / "orgs"
        folder.mkdir(exist_ok=True)
        return folder

    def _keep(self, org_id: str, stem: Path, name: str, credit_code: str, now: dt.datetime) -> IssuedKey:
        """A new key and certificate for the organisation, written as ``<stem>-<serial>`` (or ``<stem>``
        for the first: a stem without the placeholder)."""
        key = new_key(self.pki.algorithm)
        cert = self._certificate(org_subject(name, credit_code), key, now, ORG_VALIDITY)
        serial = format(cert.serial_number, "x")
        stem = stem.with_name(stem.name.replace("{serial}", serial))
        write_key(stem.with_suffix(".key"), private_pem(key))
        stem.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued = IssuedKey(key, cert, self.chain)
        self._registered[(org_id, serial)] = issued
        return issued

    def register_organisation(self, org_id: str, name: str, credit_code: str, now: dt.datetime) -> IssuedKey:
        """A new key and certificate for a registered organisation, written beside the other keys."""
        folder = self._org_folder(org_id)
        if (folder / f"{org_id}.key").exists():
            raise ValueError(f"organisation {org_id} already has a key")
        return self._keep(org_id, folder / org_id, name, credit_code, now)

    def renew_organisation(self, org_id: str, name: str, credit_code: str, now: dt.datetime) -> IssuedKey:
        """Another key and certificate for a registered organisation (``<org id>-<serial>``); the keys
        and certificates it had are kept."""
        folder = self._org_folder(org_id)
        if not (folder / f"{org_id}.key").exists():
            raise ValueError(f"organisation {org_id} was never registered here")
        return self._keep(org_id, folder / f"{org_id}-{{serial}}", name, credit_code, now)

    def organisation_key(self, org_id: str, serial: str) -> IssuedKey:
        """A registered organisation's key and certificate with this (hex) serial; ``FileNotFoundError``
        when there is none, ``ValueError`` when the files on disk are not that certificate and its key
        (its seal cannot be applied: fail closed, never with another key)."""
        cached = self._registered.get((org_id, serial))
        if cached is not None:
            return cached
        folder = self._org_folder(org_id)
        stem = folder / f"{org_id}-{serial}"  # a renewal's; the registration's is <org id>.key/.pem
        if not stem.with_suffix(".pem").exists():
            stem = folder / org_id
        key_path, cert_path = stem.with_suffix(".key"), stem.with_suffix(".pem")
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        if format(cert.serial_number, "x") != serial:
            raise FileNotFoundError(f"organisation {org_id} has no certificate with serial {serial}")
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} is not an ECDSA or RSA key")
        if key.public_key().public_numbers() != cert.public_key().public_numbers():  # type: ignore[union-attr]
            raise ValueError(f"{key_path} does not belong to the certificate {cert_path}")
        issued = IssuedKey(key, cert, self.chain)
        self._registered[(org_id, serial)] = issued
        return issued

    def is_revoked(self, serial: int) -> bool:
        """Whether the issuing CA's revocation list has this certificate (read from disk: any process, or
        the operator's ``dualsign keys revoke``, may have listed it)."""
        return any(r.serial == serial for r in revoked_entries(self.pki.folder, "ca"))

    def revoke(
        self, serials: list[int], at: dt.datetime, reason: str | None
    ) -> x509.CertificateRevocationList:
        """List these certificates on the issuing CA's CRL, revoked at ``at`` for ``reason`` (an RFC 5280
        reason by ``x509.ReasonFlags`` name; None: none given), and publish the CRL again now."""
        for serial in serials:
            revoke(self.pki.folder, serial, at=at, reason=reason)
        return publish_ca_crl(self.pki, at)


def org_subject(name: str, credit_code: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, f"NTRCN-{credit_code}"),
        ]
    )


def _same_org(cert: x509.Certificate, org: Organisation) -> bool:
    names = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    codes = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return bool(names) and names[0].value == org.name[:64] and (codes[0].value if codes else None) == org.code
