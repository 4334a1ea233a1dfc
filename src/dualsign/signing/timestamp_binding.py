"""The unsigned parts of an RFC 3161 token bound to the TSA certificate it was validated against.

A token's signature covers its signed attributes (and through them the TSTInfo), not the certificates
it carries nor the signer identifier: those bytes can be changed and the signature still verifies.
Here they must agree with the certificate the timestamp was checked with (``certs/tsa.pem`` of a
bundle): the signer identifier names that certificate, every carried certificate is that one or one of
its trusted issuers (or an intermediate between them), and the token is DER with nothing after it.
Any difference is a tampered token.
"""

from __future__ import annotations

from collections.abc import Sequence

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding


def _issued(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _intermediate(cert: x509.Certificate, tsa: x509.Certificate, issuers: Sequence[x509.Certificate]) -> bool:
    """An external TSA's chain certificate: it issued the TSA's and a trusted issuer issued it."""
    return _issued(tsa, cert) and any(_issued(cert, i) for i in issuers)


def binding_problem(token_der: bytes, tsa_pem: bytes, issuers_pem: Sequence[bytes] = ()) -> str | None:
    """Why the token's unsigned parts disagree with the validated TSA certificate; None when they agree."""
    try:
        tsa = x509.load_pem_x509_certificate(tsa_pem)
        issuers = [x509.load_pem_x509_certificate(p) for p in issuers_pem]
        allowed = {c.public_bytes(Encoding.DER) for c in (tsa, *issuers)}
        info = cms.ContentInfo.load(token_der, strict=True)
        if info.dump(force=True) != token_der:
            return "the timestamp token is not in canonical DER form"
        signed = info["content"]
        signers = list(signed["signer_infos"])
        if len(signers) != 1:
            return f"the timestamp token has {len(signers)} signers, not one"
        sid = signers[0]["sid"]
        if sid.name == "issuer_and_serial_number":
            named = sid.chosen
            if (
                named["serial_number"].native != tsa.serial_number
                or named["issuer"].dump() != tsa.issuer.public_bytes()
            ):
                return "the timestamp token's signer identifier names another certificate than the TSA's"
        else:
            ski = tsa.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            if sid.chosen.native != ski:
                return "the timestamp token's signer identifier names another key than the TSA's"
        for carried in signed["certificates"] or []:
            der = carried.chosen.dump(force=True)
            if der not in allowed and not _intermediate(x509.load_der_x509_certificate(der), tsa, issuers):
                return "the timestamp token carries a certificate that is not the validated TSA's"
    except (ValueError, KeyError, TypeError, IndexError, x509.ExtensionNotFound) as exc:
        return f"the timestamp token cannot be read: {exc}"
    return None
