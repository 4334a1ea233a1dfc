"""The built-in RFC 3161 timestamp authority of the embedded default — self-attested, and named so.

Genuine RFC 3161 tokens, signed by the platform's own TSA certificate at the platform clock's time.
Anyone can check them (``openssl ts -verify``), but they prove only what the platform says: production
configures a trusted external TSA.

``LocalTimeStamper`` is a pyHanko ``TimeStamper`` (so PAdES signatures and document timestamps use it
as they use an HTTP TSA) whose transport answers the request itself. It builds the token with asn1crypto
and signs it with cryptography rather than subclassing pyHanko's test responder ``DummyTimeStamper``:
that one offers the two things this TSA needs — its own policy OID and a key parsed once — only by
overriding private methods (``_build_tst_info``, ``_sign_tst_info``).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from pyhanko.sign.general import as_signing_certificate, simple_cms_attribute
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import get_nonce
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dualsign.signing.rfc3161 import timestamp_token

# The TSA policy of the self-attested local TSA: a private OID under the UUID arc 2.25 (ITU-T X.667),
# from UUID a7e2383e-a34b-467e-a461-a2dfdece0f9b, so no registration is needed and no one else's arc is
# used. It means "DualSign local TSA, self-attested: the platform's own statement of time". Tokens made
# before it carry 1.3.6.1.4.1.4146.2.2 (pyHanko's test default); the verifier never relies on the OID.
SELF_ATTESTED_POLICY = "2.25.223155675163730761136055168213189529499"


class LocalTimeStamper(TimeStamper):
    """The platform's RFC 3161 responder at the time ``at``, signing with a key parsed once (parsing the
    DER key for every token costs ~30 ms for RSA, the largest single cost of a signature)."""

    def __init__(self, cert: asn1_x509.Certificate, key: rsa.RSAPrivateKey, at: datetime) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.tsa_cert, self._key, self.at = cert, key, at

    def respond(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """A granted answer to ``req``: a TSTInfo under the self-attested policy, signed (RFC 5652
        SignedData with the RFC 3161 / RFC 2634 signed attributes, PKCS #1 v1.5)."""
        imprint: tsp.MessageImprint = req["message_imprint"]
        md_algorithm = imprint["hash_algorithm"]["algorithm"].native
        info = {
            "version": "v1",
            "policy": tsp.ObjectIdentifier(SELF_ATTESTED_POLICY),
            "message_imprint": imprint,
            "serial_number": get_nonce(),  # type: ignore[no-untyped-call]
            "gen_time": self.at,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.tsa_cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        content = tsp.TSTInfo(info).dump()
        hash_algorithm = get_pyca_cryptography_hash(md_algorithm)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),  # type: ignore[no-untyped-call]
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "signing_time", cms.Time({"utc_time": core.UTCTime(self.at)})
                ),
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "signing_certificate", as_signing_certificate(self.tsa_cert)
                ),
                simple_cms_attribute(  # type: ignore[no-untyped-call]
                    "message_digest", hashlib.new(md_algorithm, content).digest()
                ),
            ]
        )
        digest_algorithm = algos.DigestAlgorithm({"algorithm": md_algorithm})
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                            {"issuer": self.tsa_cert.issuer, "serial_number": self.tsa_cert.serial_number}
                        )
                    }
                ),
                "digest_algorithm": digest_algorithm,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "rsassa_pkcs1v15"}),
                "signed_attrs": signed_attrs,
                "signature": self._key.sign(signed_attrs.dump(), PKCS1v15(), hash_algorithm),
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",  # for the EncapsulatedContentInfo
                "digest_algorithms": cms.DigestAlgorithms((digest_algorithm,)),
                "encap_content_info": cms.EncapsulatedContentInfo(
                    {"content_type": cms.ContentType("tst_info"), "content": cms.ParsableOctetString(content)}
                ),
                "certificates": [self.tsa_cert],
                "signer_infos": [signer],
            }
        )
        token = cms.ContentInfo({"content_type": cms.ContentType("signed_data"), "content": signed_data})
        granted = tsp.PKIStatusInfo({"status": tsp.PKIStatus("granted")})
        return tsp.TimeStampResp({"status": granted, "time_stamp_token": token})

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        """pyHanko's transport hook: the answer is made here, at once."""
        return self.respond(req)


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

    def pdf_timestamper(self) -> LocalTimeStamper:
        """The same TSA for PAdES signatures and document timestamps, at the platform clock's time."""
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)  # type: ignore[attr-defined]
        return LocalTimeStamper(self._cert, self._rsa, now)

    def timestamp(self, data: bytes) -> bytes:
        """A TimeStampToken (DER) over SHA-256(data)."""
        stamper = self.pdf_timestamper()
        token: bytes = timestamp_token(stamper, data, stamper.respond, self.name).dump()
        return token
