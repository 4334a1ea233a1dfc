"""The platform's keys: a root CA, the manifest signer, the local TSA and the transparency-log key.

Created on first start under ``<data>/pki`` (private keys 0600) and loaded afterwards. Production keeps
the root offline and may hold the signing keys in an HSM (PKCS#11); that path comes with e-signature work.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOG_KEY_NAME = "dualsign.local/log"


@dataclass(frozen=True)
class PlatformPki:
    root_cert: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey
    signer_cert: x509.Certificate
    tsa_key: rsa.RSAPrivateKey
    tsa_cert: x509.Certificate
    log_key: Ed25519PrivateKey
    log_name: str

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


def _write_key(path: Path, pem: bytes) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(pem)


def _private_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _issue(
    subject: str,
    public: object,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
    eku: list[x509.ObjectIdentifier] | None,
    now: dt.datetime,
    years: int,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=not ca,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


def load_or_create(folder: Path, now: dt.datetime | None = None) -> PlatformPki:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        n: folder / n
        for n in ("root.key", "root.pem", "signer.key", "signer.pem", "tsa.key", "tsa.pem", "log.key")
    }
    if not all(p.exists() for p in files.values()):
        now = now or dt.datetime.now(dt.UTC)
        root_key = ec.generate_private_key(ec.SECP256R1())
        root = _issue(
            "DualSign platform root",
            root_key.public_key(),
            None,
            root_key,
            ca=True,
            eku=None,
            now=now,
            years=20,
        )
        signer_key = ec.generate_private_key(ec.SECP256R1())
        signer = _issue(
            "DualSign evidence sealing",
            signer_key.public_key(),
            root,
            root_key,
            ca=False,
            eku=None,
            now=now,
            years=10,
        )
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        tsa = _issue(
            "DualSign local TSA (self-attested)",
            tsa_key.public_key(),
            root,
            root_key,
            ca=False,
            eku=[ExtendedKeyUsageOID.TIME_STAMPING],
            now=now,
            years=10,
        )
        log_key = Ed25519PrivateKey.generate()
        for name, key in (
            ("root.key", root_key),
            ("signer.key", signer_key),
            ("tsa.key", tsa_key),
            ("log.key", log_key),
        ):
            _write_key(files[name], _private_pem(key))
        for name, cert in (("root.pem", root), ("signer.pem", signer), ("tsa.pem", tsa)):
            files[name].write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def load_key(name: str) -> object:
        return serialization.load_pem_private_key(files[name].read_bytes(), password=None)

    def load_cert(name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate(files[name].read_bytes())

    signer_loaded, tsa_loaded, log_loaded = load_key("signer.key"), load_key("tsa.key"), load_key("log.key")
    if not (
        isinstance(signer_loaded, ec.EllipticCurvePrivateKey)
        and isinstance(tsa_loaded, rsa.RSAPrivateKey)
        and isinstance(log_loaded, Ed25519PrivateKey)
    ):
        raise ValueError(f"the keys in {folder} are not of the expected types")
    return PlatformPki(
        load_cert("root.pem"),
        signer_loaded,
        load_cert("signer.pem"),
        tsa_loaded,
        load_cert("tsa.pem"),
        log_loaded,
        LOG_KEY_NAME,
    )
