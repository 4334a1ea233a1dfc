"""Signed PDFs in a bundle (the evidence report; signed contracts): PAdES signatures checked with pyHanko.

Each signature must be intact (the signed bytes are unchanged), valid (the signer's certificate chains to
the platform root) and cover the whole file — or, if revisions were appended after signing, the change
analysis must find nothing but permitted updates.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class PdfCheck:
    name: str
    ok: bool
    reason: str


def check_pdf(name: str, data: bytes, root: x509.Certificate) -> PdfCheck:
    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        return PdfCheck(name, False, f"not a readable PDF: {exc}")
    if not signatures:
        return PdfCheck(name, False, "not signed")
    trust = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    for sig in signatures:
        status = validate_pdf_signature(sig, ValidationContext(trust_roots=[trust]))
        if not status.intact:
            return PdfCheck(name, False, f"signature {sig.field_name}: the signed bytes were changed")
        if not status.valid or not status.trusted:
            return PdfCheck(name, False, f"signature {sig.field_name}: not valid under the platform root")
        coverage = status.coverage.name if status.coverage is not None else "?"
        if coverage != "ENTIRE_FILE" and (
            status.modification_level is None or status.modification_level.name not in ("NONE", "LTA_UPDATES")
        ):
            return PdfCheck(name, False, f"signature {sig.field_name}: content was added after signing")
    return PdfCheck(name, True, f"{len(signatures)} signature(s) intact and valid")
