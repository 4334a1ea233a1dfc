"""The built-in RFC 3161 timestamp authority of the embedded default — self-attested, and named so.

Genuine RFC 3161 tokens (pyHanko's ``DummyTimeStamper`` does the protocol), signed by the platform's own
TSA certificate at the current time. Anyone can check them (``openssl ts -verify``), but they prove only
what the platform says: production configures a trusted external TSA.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper


class InsecureLocalTSA:
    """Self-attested: the platform timestamps its own evidence."""

    name = "local TSA (self-attested)"
    mode = "self-attested"
    root_pem: bytes | None = None  # issued by the platform root

    def __init__(self, cert: x509.Certificate, key: rsa.RSAPrivateKey, clock: object | None = None) -> None:
        self.cert = cert
        self._cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        self._key = asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self._clock = clock

    def timestamp(self, data: bytes) -> bytes:
        """A TimeStampToken (DER) over SHA-256(data)."""
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)  # type: ignore[attr-defined]
        stamper = DummyTimeStamper(tsa_cert=self._cert, tsa_key=self._key, fixed_dt=now)
        request = tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": hashlib.sha256(data).digest(),
                },
                "nonce": secrets.randbits(63),
                "cert_req": True,
            }
        )
        response = stamper.request_tsa_response(request)
        if response["status"]["status"].native != "granted":
            raise RuntimeError(f"the local TSA refused: {response['status'].native}")
        token: bytes = response["time_stamp_token"].dump()
        return token
