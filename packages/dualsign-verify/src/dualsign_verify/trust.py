"""The trust policy: what a verifier accepts as anchors, published by the operator, never read from a bundle.

A trust file (``dualsign keys export-trust``) is canonical JSON::

    {"kind": "dualsign.trust", "version": 1,
     "platform_roots": [{"sha256": "<hex fingerprint of the DER>", "pem": "-----BEGIN CERTIFICATE-----..."}],
     "tsa_roots":      [{"sha256": "...", "pem": "..."}],
     "logs":           [{"origin": "dualsign.local/log", "name": "<note key name>",
                         "public_key": "<base64 Ed25519>"}]}

A root may be given by its fingerprint alone (``pem`` omitted): a certificate a bundle carries is then
accepted only if its SHA-256 fingerprint is pinned. Platform roots anchor the manifest signature, the PDF
signers and the platform's own (self-attested) TSA; TSA roots anchor an external timestamp authority only;
a log key is pinned by its origin, name and key, as Go's sumdb and Rekor pin theirs.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from dualsign_verify.canonical import canonical_json

TRUST_KIND = "dualsign.trust"
TRUST_VERSION = 1
MAX_TRUST_FILE = 1024 * 1024


class TrustFileError(ValueError):
    """A trust file that cannot be read as a policy (the verifier then refuses to run)."""


def fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


@dataclass(frozen=True)
class Anchor:
    """A root pinned by its SHA-256 fingerprint, with the certificate when the trust file carries it."""

    sha256: str
    certificate: x509.Certificate | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"sha256": self.sha256}
        if self.certificate is not None:
            out["pem"] = self.certificate.public_bytes(serialization.Encoding.PEM).decode()
        return out


@dataclass(frozen=True)
class LogKey:
    origin: str
    name: str
    public_key: bytes  # raw Ed25519

    def to_dict(self) -> dict[str, str]:
        return {
            "origin": self.origin,
            "name": self.name,
            "public_key": base64.b64encode(self.public_key).decode(),
        }


ALL = frozenset({"platform", "tsa", "log"})


@dataclass(frozen=True)
class TrustPolicy:
    """``covers``: what the policy speaks for. A trust file speaks for all three (no TSA roots there means
    no external TSA is trusted); PEM roots speak for the platform only, leaving TSAs and logs unanchored
    (INDETERMINATE) rather than refused."""

    platform_roots: tuple[Anchor, ...] = ()
    tsa_roots: tuple[Anchor, ...] = ()
    logs: tuple[LogKey, ...] = ()
    covers: frozenset[str] = ALL

    def to_json(self) -> bytes:
        return canonical_json(
            {
                "kind": TRUST_KIND,
                "version": TRUST_VERSION,
                "platform_roots": [a.to_dict() for a in self.platform_roots],
                "tsa_roots": [a.to_dict() for a in self.tsa_roots],
                "logs": [k.to_dict() for k in self.logs],
            }
        )

    def merged(self, other: TrustPolicy) -> TrustPolicy:
        return TrustPolicy(
            self.platform_roots + other.platform_roots,
            self.tsa_roots + other.tsa_roots,
            self.logs + other.logs,
            self.covers | other.covers,
        )

    def log_key(self, origin: str) -> LogKey | None:
        return next((k for k in self.logs if k.origin == origin), None)


def anchored(anchors: tuple[Anchor, ...], candidates: list[x509.Certificate]) -> list[x509.Certificate]:
    """The anchors' certificates, and any candidate (carried by a bundle) whose fingerprint is pinned."""
    pinned = {a.sha256 for a in anchors}
    own = [a.certificate for a in anchors if a.certificate is not None]
    seen = {fingerprint(c) for c in own}
    return own + [c for c in candidates if fingerprint(c) in pinned and fingerprint(c) not in seen]


def anchor_of(cert: x509.Certificate) -> Anchor:
    return Anchor(fingerprint(cert), cert)


def _anchors(raw: object, field: str) -> tuple[Anchor, ...]:
    if not isinstance(raw, list):
        raise TrustFileError(f"{field} must be a list")
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256", ""), str):
            raise TrustFileError(f"{field}[{i}] must be an object with sha256 and/or pem")
        pem = entry.get("pem")
        cert = None
        if pem is not None:
            try:
                cert = x509.load_pem_x509_certificate(str(pem).encode())
            except ValueError:
                raise TrustFileError(f"{field}[{i}].pem is not a PEM certificate") from None
        stated = str(entry.get("sha256", "")).lower().replace(":", "")
        actual = fingerprint(cert) if cert is not None else stated
        if stated and stated != actual:
            raise TrustFileError(f"{field}[{i}]: the certificate's fingerprint is {actual}, not {stated}")
        if len(actual) != 64 or any(c not in "0123456789abcdef" for c in actual):
            raise TrustFileError(f"{field}[{i}].sha256 must be 64 hex digits")
        out.append(Anchor(actual, cert))
    return tuple(out)


def _logs(raw: object) -> tuple[LogKey, ...]:
    if not isinstance(raw, list):
        raise TrustFileError("logs must be a list")
    out = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("origin", "name", "public_key")
        ):
            raise TrustFileError(f"logs[{i}] must give origin, name and public_key")
        try:
            public = base64.b64decode(entry["public_key"], validate=True)
        except (ValueError, binascii.Error):
            raise TrustFileError(f"logs[{i}].public_key is not base64") from None
        if len(public) != 32:
            raise TrustFileError(f"logs[{i}].public_key is not an Ed25519 key (32 bytes)")
        out.append(LogKey(entry["origin"], entry["name"], public))
    return tuple(out)


def parse_policy(data: bytes) -> TrustPolicy:
    """A trust file's policy: a ``dualsign.trust`` JSON document, or PEM root certificates (the platform
    roots only, as ``--trust ROOT.pem`` always took: timestamps of an external TSA and the log stay
    unanchored)."""
    if len(data) > MAX_TRUST_FILE:
        raise TrustFileError("the trust file is larger than 1 MiB")
    if data.lstrip().startswith(b"-----BEGIN"):
        try:
            certs = x509.load_pem_x509_certificates(data)
        except ValueError:
            raise TrustFileError("not PEM certificates") from None
        return TrustPolicy(platform_roots=tuple(anchor_of(c) for c in certs), covers=frozenset({"platform"}))
    try:
        doc: Any = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TrustFileError(f"neither a trust file (JSON) nor PEM: {exc}") from None
    if not isinstance(doc, dict) or doc.get("kind") != TRUST_KIND:
        raise TrustFileError(f'not a trust file (kind is not "{TRUST_KIND}")')
    if doc.get("version") != TRUST_VERSION:
        raise TrustFileError(f"trust file version {doc.get('version')!r} is not one this verifier reads")
    return TrustPolicy(
        _anchors(doc.get("platform_roots", []), "platform_roots"),
        _anchors(doc.get("tsa_roots", []), "tsa_roots"),
        _logs(doc.get("logs", [])),
    )
