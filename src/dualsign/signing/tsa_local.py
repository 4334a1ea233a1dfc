"""The built-in RFC 3161 timestamp authority of the embedded default — self-attested, and named so.

Genuine RFC 3161 tokens (pyHanko's ``DummyTimeStamper`` does the protocol), signed by the platform's own
TSA certificate at the current time. Anyone can check them (``openssl ts -verify``), but they prove only
what the platform says: production configures a trusted external TSA.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from asn1crypto import cms, core, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

_NO_KEY = asn1_keys.PrivateKeyInfo()  # LocalTimeStamper signs with its loaded key, never this one
# The TSA policy of the self-attested local TSA: a private OID under the UUID arc 2.25 (ITU-T X.667),
# from UUID a7e2383e-a34b-467e-a461-a2dfdece0f9b, so no registration is needed and no one else's arc is
# used. It means "DualSign local TSA, self-attested: the platform's own statement of time". Tokens made
# before it carry 1.3.6.1.4.1.4146.2.2 (pyHanko's test default); the verifier never relies on the OID.
SELF_ATTESTED_POLICY = "2.25.223155675163730761136055168213189529499"


class LocalTimeStamper(DummyTimeStamper):
    """pyHanko's RFC 3161 responder, signing with a key parsed once (pyHanko parses the DER key on every
    token: ~30 ms for RSA, the largest single cost of a signature)."""

    def __init__(self, cert: asn1_x509.Certificate, key: rsa.RSAPrivateKey, fixed_dt: datetime) -> None:
        super().__init__(tsa_cert=cert, tsa_key=_NO_KEY, fixed_dt=fixed_dt)
        self._loaded = key

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, dt: datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        info = super()._build_tst_info(message_imprint, dt, req)
        info["policy"] = tsp.ObjectIdentifier(SELF_ATTESTED_POLICY)
        return info

    def _sign_tst_info(
        self, tst_info_data: bytes, md_algorithm: str, dt: datetime
    ) -> tuple[bytes, cms.CMSAttributes]:
        digest = hashlib.new(md_algorithm, tst_info_data).digest()
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "content_type", "tst_info"
                ),
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "signing_time", cms.Time({"utc_time": core.UTCTime(dt)})
                ),
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "signing_certificate", general.as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "message_digest", digest
                ),
            ]
        )
        algorithm = get_pyca_cryptography_hash(md_algorithm.upper())
        return self._loaded.sign(signed_attrs.dump(), PKCS1v15(), algorithm), signed_attrs


class InsecureLocalTSA:
    """Self-attested: the platform timestamps its own evidence."""

    name = "local TSA (self-attested)"
    mode = "self-attested"
    root_pem: bytes | None = None  # issued by the platform root

    def __init__(self, cert: x509.Certificate, key: rsa.RSAPrivateKey, clock: object | None = None) -> None:
        self.cert = cert
        self._cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
        self._clock = clock
        self._rsa = key

    def pdf_timestamper(self) -> DummyTimeStamper:
        """The same TSA for PAdES signatures and document timestamps, at the platform clock's time."""
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)  # type: ignore[attr-defined]
        return LocalTimeStamper(self._cert, self._rsa, now)

    def timestamp(self, data: bytes) -> bytes:
        """A TimeStampToken (DER) over SHA-256(data)."""
        stamper = self.pdf_timestamper()
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
