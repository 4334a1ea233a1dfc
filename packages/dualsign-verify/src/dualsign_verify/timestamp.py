"""RFC 3161 timestamp tokens: check one offline (signature, imprint, signer certificate).

The token is a CMS SignedData (RFC 5652) whose content is a TSTInfo. Checked: the signed attributes'
message digest equals the digest of the TSTInfo, the signature over the signed attributes verifies with
the TSA certificate, the certificate is issued by the given issuer and allowed to timestamp
(extended key usage id-kp-timeStamping), and the TSTInfo's message imprint is the digest of the data.
The certificate the signer info names (issuer and serial, or key identifier) must be the checked one; a
certificate the token embeds for its signer must be that same certificate byte for byte, and the ESS
signing-certificate attribute, when present, must hash to it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

HASHES = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}


class TimestampError(Exception):
    pass


@dataclass(frozen=True)
class TimestampInfo:
    time: datetime
    serial: int
    policy: str
    tsa: str


def _verify_signature(
    cert: x509.Certificate, signature: bytes, data: bytes, algo: hashes.HashAlgorithm
) -> None:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), algo)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(algo))
    else:
        raise TimestampError(f"unsupported TSA key type {type(key).__name__}")


def _names_signer(sid: cms.SignerIdentifier, cert: asn1_x509.Certificate) -> bool:
    if sid.name == "issuer_and_serial_number":
        ias = sid.chosen
        return bool(
            ias["serial_number"].native == cert.serial_number and ias["issuer"].dump() == cert.issuer.dump()
        )
    return bool(sid.chosen.native == cert.key_identifier)


def _check_certificates(signed: cms.SignedData, signer: cms.SignerInfo, tsa_cert: x509.Certificate) -> None:
    """The signer info names ``tsa_cert``; what the token embeds for its signer is ``tsa_cert``."""
    der = tsa_cert.public_bytes(serialization.Encoding.DER)
    checked = asn1_x509.Certificate.load(der)
    sid = signer["sid"]
    if not _names_signer(sid, checked):
        raise TimestampError("the token's signer is not the TSA certificate checked")
    embedded = [c.chosen for c in signed["certificates"] or [] if c.name == "certificate"]
    own = [c for c in embedded if _names_signer(sid, c)]
    if embedded and not own:
        raise TimestampError("the certificates the token embeds do not include its signer's")
    if any(c.dump() != der for c in own):
        raise TimestampError("the TSA certificate embedded in the token is not the one checked")
    for attr in signer["signed_attrs"]:
        kind = attr["type"].native
        if kind not in ("signing_certificate", "signing_certificate_v2"):
            continue
        ids = attr["values"][0]["certs"]
        if not ids:
            raise TimestampError(f"the token's {kind} attribute names no certificate")
        first = ids[0]
        algo = "sha1" if kind == "signing_certificate" else first["hash_algorithm"]["algorithm"].native
        if first["cert_hash"].native != hashlib.new(algo, der).digest():
            raise TimestampError(f"the token's {kind} attribute is for another certificate")


def verify_token(
    token_der: bytes, data: bytes, tsa_cert: x509.Certificate, issuer: x509.Certificate | None = None
) -> TimestampInfo:
    try:
        content = cms.ContentInfo.load(token_der)
        signed = content["content"]
        tst = signed["encap_content_info"]["content"].parsed
        if not isinstance(tst, tsp.TSTInfo):
            raise TimestampError("the token does not hold a TSTInfo")
        signer = signed["signer_infos"][0]
        algo_name = signer["digest_algorithm"]["algorithm"].native
        algo = HASHES.get(algo_name)
        if algo is None:
            raise TimestampError(f"unsupported digest {algo_name}")
        tst_bytes = signed["encap_content_info"]["content"].contents
        attrs = signer["signed_attrs"]
        digest_attr = next(
            (a["values"][0].native for a in attrs if a["type"].native == "message_digest"), None
        )
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise TimestampError(f"malformed timestamp token: {exc}") from None
    try:
        _check_certificates(signed, signer, tsa_cert)
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        raise TimestampError(f"malformed timestamp token: {exc}") from None
    h = hashlib.new(algo_name, tst_bytes).digest()
    if digest_attr != h:
        raise TimestampError("the token's message-digest attribute does not match its TSTInfo")
    signed_attrs_der = attrs.untag().dump()
    try:
        _verify_signature(tsa_cert, signer["signature"].native, signed_attrs_der, algo)
    except InvalidSignature:
        raise TimestampError("the TSA's signature over the token does not verify") from None
    imprint = tst["message_imprint"]
    imprint_algo = imprint["hash_algorithm"]["algorithm"].native
    if imprint["hashed_message"].native != hashlib.new(imprint_algo, data).digest():
        raise TimestampError("the timestamp is over other data (message imprint mismatch)")
    try:
        eku = tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        raise TimestampError("the TSA certificate has no extended key usage") from None
    if x509.oid.ExtendedKeyUsageOID.TIME_STAMPING not in eku:
        raise TimestampError("the TSA certificate is not allowed to timestamp")
    if issuer is not None:
        try:
            tsa_cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise TimestampError("the TSA certificate is not issued by the trusted root") from None
    tsa_name = tsa_cert.subject.rfc4514_string()
    return TimestampInfo(
        tst["gen_time"].native, int(tst["serial_number"].native), str(tst["policy"].native), tsa_name
    )


def token_certificate(token_der: bytes) -> x509.Certificate | None:
    """The TSA certificate a token carries (tokens are requested with certReq), if any."""
    try:
        certs = cms.ContentInfo.load(token_der)["content"]["certificates"]
        return x509.load_der_x509_certificate(certs[0].chosen.dump()) if certs else None
    except (ValueError, KeyError, TypeError, IndexError):
        return None
