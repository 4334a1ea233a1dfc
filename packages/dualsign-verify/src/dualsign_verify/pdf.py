"""Signed PDFs in a bundle (the evidence report; signed contracts): PAdES signatures checked with pyHanko.

Each signature must be intact (the signed bytes are unchanged), valid (the signer's certificate chains to
the platform root, at the time its timestamp proves) and cover the whole file — or, if revisions were
appended after it, pyHanko's difference analysis must find nothing but later signatures (form filling)
and long-term validation data; after the last signature nothing but validation data may follow. So an
overlay stamped on after signing (an incremental update that ``pdfsig`` alone calls valid) fails. The
result names who signed: a person by name, an organisation's seal by the organisation's name and
identifier (``organizationIdentifier``, NTRCN-<unified social credit code>).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class PdfCheck:
    name: str
    ok: bool
    reason: str


def _status(sig: Any, trust: Any, stamp_roots: list[Any]) -> Any:
    """Validate at the time the signature's timestamp proves (a short-lived certificate may have expired
    since), falling back to now when there is no valid timestamp. The signer must chain to the platform
    root; timestamps may also chain to the external TSA's root."""
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signer = ValidationContext(trust_roots=[trust], allow_fetching=False)
    stamps = ValidationContext(trust_roots=[trust, *stamp_roots], allow_fetching=False)
    status = validate_pdf_signature(sig, signer, stamps)
    stamp = status.timestamp_validity
    if stamp is not None and stamp.intact and stamp.valid and stamp.trusted and not status.trusted:
        at = ValidationContext(trust_roots=[trust], allow_fetching=False, moment=stamp.timestamp)
        status = validate_pdf_signature(sig, at, stamps)
    return status


def _timestamp_status(sig: Any, trust: Any, stamp_roots: list[Any]) -> Any:
    """A document timestamp (PAdES B-LTA), valid now under the platform or the TSA's root."""
    from pyhanko.sign.validation import validate_pdf_timestamp
    from pyhanko_certvalidator import ValidationContext

    return validate_pdf_timestamp(
        sig, ValidationContext(trust_roots=[trust, *stamp_roots], allow_fetching=False)
    )


def signature_reasons(data: bytes) -> dict[str, str]:
    """Each signature field's ``/Reason`` (signed: it is inside the byte range)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(data), strict=False)
    return {str(sig.field_name): str(sig.sig_object.get("/Reason", "")) for sig in reader.embedded_signatures}


def signer_name(sig: Any) -> str:
    """Who a signature says signed: an organisation by its name and identifier (an organisation seal,
    ``organizationIdentifier`` such as NTRCN-<unified social credit code>), a person by common name."""
    subject = sig.signer_cert.subject.native
    org_id = subject.get("organization_identifier")
    if org_id:
        return f"{subject.get('organization_name', '?')} ({org_id})"
    return str(subject.get("common_name") or sig.signer_cert.subject.human_friendly)


def check_pdf(
    name: str, data: bytes, root: x509.Certificate, tsa_roots: tuple[x509.Certificate, ...] = ()
) -> PdfCheck:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return PdfCheck(name, False, f"not a readable PDF: {exc}")
    if not signatures:
        return PdfCheck(name, False, "not signed")
    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    stamp_roots = [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in tsa_roots]
    for number, sig in enumerate(signatures, 1):
        status = (
            _timestamp_status(sig, trust, stamp_roots)
            if sig.sig_object_type == "/DocTimeStamp"
            else _status(sig, trust, stamp_roots)
        )
        if not status.intact:
            return PdfCheck(name, False, f"signature {sig.field_name}: the signed bytes were changed")
        if not status.valid or not status.trusted:
            return PdfCheck(name, False, f"signature {sig.field_name}: not valid under the platform root")
        coverage = status.coverage.name if status.coverage is not None else "?"
        # later signatures count as form filling; after the last one only LTA data may follow
        allowed = (
            ("NONE", "LTA_UPDATES") if number == len(signatures) else ("NONE", "LTA_UPDATES", "FORM_FILLING")
        )
        level = status.modification_level.name if status.modification_level is not None else "?"
        if coverage != "ENTIRE_FILE" and level not in allowed:
            return PdfCheck(
                name, False, f"signature {sig.field_name}: the document was changed after signing ({level})"
            )
    stamps = sum(s.sig_object_type == "/DocTimeStamp" for s in signatures)
    extra = f" and {stamps} document timestamp(s)" if stamps else ""
    signers = ", ".join(signer_name(s) for s in signatures if s.sig_object_type != "/DocTimeStamp")
    return PdfCheck(
        name, True, f"{len(signatures) - stamps} signature(s){extra} intact and valid (by {signers})"
    )
