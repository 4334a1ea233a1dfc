"""The platform's keys: a root CA, an issuing CA, the manifest signer, the local TSA and the log key.

``dualsign keys init`` (or the first start) creates them under ``<data>/pki`` (private keys 0600) and
later starts load them. The root and the issuing CA use ECDSA P-256 by default or RSA 3072
(``--algorithm rsa``); the choice is kept in ``pki.json``. The issuing CA signs the short-lived event
certificates of signers and the organisation certificates of institutions (``signing/authority.py``);
the root signs the issuing CA, the evidence-sealing certificate (always ECDSA P-256: the bundle format
says so) and the local TSA. Both CAs publish CRLs (``root.crl``, ``ca.crl``, served at ``/pki/…``) and
every certificate they issue names its CRL. Production keeps the root offline and may keep the issuing
key in an HSM (see docs/signing.md).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOG_KEY_NAME = "dualsign.local/log"
ALGORITHMS = ("ec", "rsa")
CRL_DAYS = 7

CaKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


@dataclass(frozen=True)
class PlatformPki:
    root_cert: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    signer_cert: x509.Certificate
    tsa_key: rsa.RSAPrivateKey
    tsa_cert: x509.Certificate
    log_key: Ed25519PrivateKey
    log_name: str
    ca_key: CaKey
    ca_cert: x509.Certificate
    root_crl: x509.CertificateRevocationList
    ca_crl: x509.CertificateRevocationList
    algorithm: str
    folder: Path

    def pem(self, cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    def log_public_json(self) -> bytes:
        import base64

        public = self.log_key.public_key().public_bytes_raw()
        return json.dumps(
            {"name": self.log_name, "algorithm": "ed25519", "public_key": base64.b64encode(public).decode()}
        ).encode()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DualSign platform"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def write_key(path: Path, pem: bytes) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(pem)


def private_pem(key: CaKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def new_key(algorithm: str) -> CaKey:
    if algorithm == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    return ec.generate_private_key(ec.SECP256R1())


def crl_point(public_url: str, name: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                [x509.UniformResourceIdentifier(f"{public_url}/pki/{name}")], None, None, None
            )
        ]
    )


def key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _issue(
    subject: str,
    public: object,
    issuer: x509.Certificate | None,
    issuer_key: CaKey,
    *,
    ca: bool,
    path_length: int | None = None,
    eku: list[x509.ObjectIdentifier] | None,
    now: dt.datetime,
    years: int,
    crl_url: x509.CRLDistributionPoints | None = None,
) -> x509.Certificate:
    """A platform certificate (O=DualSign platform, CN=subject), valid for ``years``."""
    validity = dt.timedelta(days=365 * years)
    return issue(_name(subject), public, issuer, issuer_key, ca=ca, path_length=path_length, eku=eku,
                 now=now, validity=validity, crl_url=crl_url)  # fmt: skip


def issue(
    subject: x509.Name,
    public: object,
    issuer: x509.Certificate | None,
    issuer_key: CaKey,
    *,
    ca: bool,
    path_length: int | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
    now: dt.datetime,
    validity: dt.timedelta,
    crl_url: x509.CRLDistributionPoints | None = None,
) -> x509.Certificate:
    """Any certificate the platform's CAs sign (self-signed when ``issuer`` is None): key usage by role,
    key identifiers, the issuer's CRL, valid from five minutes before ``now``."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(key_usage(ca=ca), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)  # type: ignore[arg-type]
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    if crl_url is not None:
        builder = builder.add_extension(crl_url, critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Revoked:
    """A certificate on a CA's revocation list: since when and why."""

    serial: int
    at: dt.datetime | None = None  # None: listed before times were kept (the CRL gives its issue time)
    reason: str | None = None  # an ``x509.ReasonFlags`` name (key_compromise …); None: no reason code


def make_crl(
    issuer: x509.Certificate, key: CaKey, revoked: list[Revoked], now: dt.datetime, number: int | None = None
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - dt.timedelta(minutes=5))
        .next_update(now + dt.timedelta(days=CRL_DAYS))
        .add_extension(x509.CRLNumber(number or int(now.timestamp())), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    for entry in revoked:
        revoked_cert = x509.RevokedCertificateBuilder().serial_number(entry.serial)
        revoked_cert = revoked_cert.revocation_date(entry.at or now)
        if entry.reason is not None and entry.reason != "unspecified":  # RFC 5280: omit "unspecified"
            revoked_cert = revoked_cert.add_extension(x509.CRLReason(x509.ReasonFlags[entry.reason]), False)
        builder = builder.add_revoked_certificate(revoked_cert.build())
    return builder.sign(key, hashes.SHA256())


_FILES = (
    "root.key",
    "root.pem",
    "ca.key",
    "ca.pem",
    "signer.key",
    "signer.pem",
    "tsa.key",
    "tsa.pem",
    "log.key",
)


def init_pki(
    folder: Path,
    algorithm: str = "ec",
    public_url: str = "http://127.0.0.1:8000",
    now: dt.datetime | None = None,
) -> bool:
    """Create the platform PKI if it does not exist yet; True when something was created.

    An existing PKI is never replaced (evidence already sealed depends on it). A folder from before the
    issuing CA existed gets one under its existing root.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    folder.mkdir(parents=True, exist_ok=True)
    files = {n: folder / n for n in _FILES}
    if all(p.exists() for p in files.values()):
        return False
    now = now or dt.datetime.now(dt.UTC)
    config = folder / "pki.json"
    if config.exists():
        algorithm = json.loads(config.read_text())["algorithm"]
    if files["root.key"].exists():
        root_key = _load_ca_key(files["root.key"])
        root = x509.load_pem_x509_certificate(files["root.pem"].read_bytes())
    else:
        root_key = new_key(algorithm)
        root = _issue(
            "DualSign platform root", root_key.public_key(), None, root_key,
            ca=True, path_length=1, eku=None, now=now, years=20,
        )  # fmt: skip
        write_key(files["root.key"], private_pem(root_key))
        files["root.pem"].write_bytes(root.public_bytes(serialization.Encoding.PEM))
    root_crl = crl_point(public_url, "root.crl")
    if not files["ca.key"].exists():
        ca_key = new_key(algorithm)
        ca = _issue(
            "DualSign issuing CA", ca_key.public_key(), root, root_key,
            ca=True, path_length=0, eku=None, now=now, years=10, crl_url=root_crl,
        )  # fmt: skip
        write_key(files["ca.key"], private_pem(ca_key))
        files["ca.pem"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    if not files["signer.key"].exists():
        signer_key = ec.generate_private_key(ec.SECP256R1())
        signer = _issue(
            "DualSign evidence sealing", signer_key.public_key(), root, root_key,
            ca=False, eku=None, now=now, years=10, crl_url=root_crl,
        )  # fmt: skip
        write_key(files["signer.key"], private_pem(signer_key))
        files["signer.pem"].write_bytes(signer.public_bytes(serialization.Encoding.PEM))
    if not files["tsa.key"].exists():
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa = _issue(
            "DualSign local TSA (self-attested)", tsa_key.public_key(), root, root_key,
            ca=False, eku=[ExtendedKeyUsageOID.TIME_STAMPING], now=now, years=10, crl_url=root_crl,
        )  # fmt: skip
        write_key(files["tsa.key"], private_pem(tsa_key))
        files["tsa.pem"].write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
    if not files["log.key"].exists():
        write_key(files["log.key"], private_pem(Ed25519PrivateKey.generate()))
    if not config.exists():
        config.write_text(json.dumps({"algorithm": algorithm, "public_url": public_url}))
    return True


def _load_ca_key(path: Path) -> CaKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError(f"{path} is not an ECDSA or RSA key")
    return key


def revoked_entries(folder: Path, by: str) -> list[Revoked]:
    """The certificates on a CA's list (``root`` or ``ca``), with the time and reason kept for each."""
    path = folder / "revoked.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    details = data.get("details", {}).get(by, {})
    out = []
    for serial in data.get(by, []):
        d = details.get(str(serial), {})
        at = dt.datetime.fromisoformat(d["at"]) if d.get("at") else None
        out.append(Revoked(serial, at, d.get("reason")))
    return out


def revoke(
    folder: Path, serial: int, by: str = "ca", *, at: dt.datetime | None = None, reason: str | None = None
) -> None:
    """Add a certificate to its CA's revocation list, revoked at ``at`` (default now) for ``reason`` (an
    ``x509.ReasonFlags`` name, checked here); the CRLs are re-issued on the next load
    (``publish_ca_crl`` does it at once). A certificate listed already keeps its first time and reason."""
    if reason is not None and reason not in x509.ReasonFlags.__members__:
        raise ValueError(f"not an RFC 5280 revocation reason: {reason!r}")
    path = folder / "revoked.json"
    data = json.loads(path.read_text()) if path.exists() else {"root": [], "ca": []}
    data.setdefault(by, [])
    if serial not in data[by]:
        data[by].append(serial)
        when = (at or dt.datetime.now(dt.UTC)).isoformat()
        data.setdefault("details", {}).setdefault(by, {})[str(serial)] = {"at": when, "reason": reason}
    tmp = folder / f".revoked.json.{os.getpid()}"  # atomic: other processes read it
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _write_crl(folder: Path, name: str, crl: x509.CertificateRevocationList) -> None:
    tmp = folder / f".{name}.{os.getpid()}"  # atomic: other processes read it
    tmp.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    tmp.replace(folder / name)


def _crl_number(folder: Path, name: str, now: dt.datetime) -> int:
    """The next CRL number: the time in seconds, above the number of the list published last."""
    number = int(now.timestamp())
    try:
        last = x509.load_der_x509_crl((folder / name).read_bytes())
        previous = last.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (OSError, ValueError, x509.ExtensionNotFound):
        return number
    return max(number, previous + 1)


def publish_ca_crl(pki: PlatformPki, now: dt.datetime) -> x509.CertificateRevocationList:
    """Issue the issuing CA's CRL again from the revocation list and publish it (``ca.crl``, which
    ``/pki/ca.crl`` serves): a revocation is public at once, in every process."""
    crl = make_crl(
        pki.ca_cert,
        pki.ca_key,
        revoked_entries(pki.folder, "ca"),
        now,
        _crl_number(pki.folder, "ca.crl", now),
    )
    _write_crl(pki.folder, "ca.crl", crl)
    return crl


def load_or_create(
    folder: Path, now: dt.datetime | None = None, public_url: str = "http://127.0.0.1:8000"
) -> PlatformPki:
    now = now or dt.datetime.now(dt.UTC)
    init_pki(folder, public_url=public_url, now=now)

    def load_key(name: str) -> object:
        return serialization.load_pem_private_key((folder / name).read_bytes(), password=None)

    def load_cert(name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((folder / name).read_bytes())

    signer_loaded, tsa_loaded, log_loaded = load_key("signer.key"), load_key("tsa.key"), load_key("log.key")
    if not (
        isinstance(signer_loaded, ec.EllipticCurvePrivateKey)
        and isinstance(tsa_loaded, rsa.RSAPrivateKey)
        and isinstance(log_loaded, Ed25519PrivateKey)
    ):
        raise ValueError(f"the keys in {folder} are not of the expected types")
    root, ca = load_cert("root.pem"), load_cert("ca.pem")
    root_key, ca_key = _load_ca_key(folder / "root.key"), _load_ca_key(folder / "ca.key")
    root_crl = make_crl(
        root, root_key, revoked_entries(folder, "root"), now, _crl_number(folder, "root.crl", now)
    )
    ca_crl = make_crl(ca, ca_key, revoked_entries(folder, "ca"), now, _crl_number(folder, "ca.crl", now))
    for name, crl in (("root.crl", root_crl), ("ca.crl", ca_crl)):
        _write_crl(folder, name, crl)
    algorithm = json.loads((folder / "pki.json").read_text())["algorithm"]
    return PlatformPki(
        root,
        signer_loaded,
        load_cert("signer.pem"),
        tsa_loaded,
        load_cert("tsa.pem"),
        log_loaded,
        LOG_KEY_NAME,
        ca_key,
        ca,
        root_crl,
        ca_crl,
        algorithm,
        folder,
    )
