"""PAdES signatures with pyHanko: B-T by default, B-LTA when configured.

One ``PadesSigner`` lives for the process: the CA chain, the trust root and the CRLs are converted to
pyHanko's types once, and appearances are pictures (``signing/marks.py``), so no font is read per
signature. Each signature is an incremental update: earlier signatures stay valid.

B-T: a CMS signature (ETSI.CAdES.detached) with a signature timestamp from the configured TSA.
B-LTA: B-T plus the validation data (certificates and CRLs of the chain and of the TSA, in the DSS)
and a document timestamp over everything, so the signature can be validated after the certificates
expire (a short-lived event certificate expires within the hour).

The binding to the evidence (docs/signing.md): the signature dictionary's ``/Reason`` ends with
``DualSign session <id>; evidence chain <sha256>`` — the head of the session's event chain just before
the signing — and the dictionary is covered by the signature's byte range, so the binding is signed.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from PIL import Image
from pyhanko.sign.signers.pdf_cms import Signer as SignerBase
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from dualsign.signing.authority import IssuedKey
from dualsign.signing.placement import Placement

Level = Literal["B-T", "B-LTA"]
LEVELS: tuple[Level, ...] = ("B-T", "B-LTA")


@dataclass(frozen=True)
class SignatureSpec:
    field_name: str
    placement: Placement | None  # None: an invisible signature
    appearance: Image.Image | None
    reason: str
    location: str = "DualSign"
    contact: str | None = None


def _der_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


RESERVED_HEX = {True: 2 * 6 * 1024, False: 2 * 10 * 1024}  # hex digits: ECDSA chains ~3.7 KB, RSA ~6 KB
PIXELS_PER_POINT = 4  # 288 dpi: sharp when printed, small to compress


def _sized(image: Image.Image, placement: Placement) -> Image.Image:
    x1, y1, x2, y2 = placement.box
    limit = (int((x2 - x1) * PIXELS_PER_POINT), int((y2 - y1) * PIXELS_PER_POINT))
    if image.width <= limit[0] and image.height <= limit[1]:
        return image
    smaller = image.copy()
    smaller.thumbnail(limit, Image.Resampling.LANCZOS)
    return smaller


class _LoadedKeySigner(SignerBase):
    """pyHanko's ``SimpleSigner`` re-parses its DER key for every signature (~75 ms for RSA); this one
    signs with the key object it was given."""

    def __init__(self, issued: IssuedKey, registry: object) -> None:
        self._key = issued.key
        super().__init__(signing_cert=_der_cert(issued.cert), cert_registry=registry)  # type: ignore[arg-type]

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if isinstance(self._key, ec.EllipticCurvePrivateKey):
            return self._key.sign(data, ec.ECDSA(algorithm))
        return self._key.sign(data, PKCS1v15(), algorithm)


class PadesSigner:
    def __init__(
        self,
        root: x509.Certificate,
        chain: Sequence[x509.Certificate],
        crls: Sequence[x509.CertificateRevocationList],
        timestamper: Callable[[], object],
        *,
        level: Level = "B-T",
        extra_roots: Sequence[x509.Certificate] = (),
    ) -> None:
        if level not in LEVELS:
            raise ValueError(f"signature level must be one of {LEVELS}, got {level!r}")
        self.level = level
        self._root = _der_cert(root)
        self._extra_roots = [_der_cert(c) for c in extra_roots]
        self._chain = [_der_cert(c) for c in chain]
        self._crls = [asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER)) for c in crls]
        self._timestamper = timestamper

    def validation_context(self) -> object:
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(
            trust_roots=[self._root, *self._extra_roots],
            other_certs=self._chain,
            crls=self._crls,
            allow_fetching=False,
            revocation_mode="soft-fail" if self._extra_roots else "hard-fail",
        )

    def sign(self, pdf: bytes, issued: IssuedKey, spec: SignatureSpec) -> bytes:
        from pyhanko.pdf_utils.images import PdfImage
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import fields, signers
        from pyhanko.sign.general import SigningError
        from pyhanko.stamp import StaticStampStyle
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        signer = _LoadedKeySigner(
            issued,
            SimpleCertificateStore.from_certs(self._chain),  # type: ignore[no-untyped-call]
        )
        lta = self.level == "B-LTA"
        meta = signers.PdfSignatureMetadata(
            field_name=spec.field_name,
            reason=spec.reason,
            location=spec.location,
            contact_info=spec.contact,
            subfilter=fields.SigSeedSubFilter.PADES,
            embed_validation_info=lta,
            use_pades_lta=lta,
            validation_context=self.validation_context() if lta else None,  # type: ignore[arg-type]
        )
        field_spec = None
        style = None
        if spec.placement is not None:
            field_spec = fields.SigFieldSpec(
                sig_field_name=spec.field_name,
                on_page=spec.placement.page,
                box=spec.placement.box,  # type: ignore[arg-type]  # PDF coordinates are reals
            )
            if spec.appearance is not None:
                style = StaticStampStyle(
                    background=PdfImage(_sized(spec.appearance, spec.placement)),
                    border_width=0,
                    background_opacity=1.0,
                )
        pdf_signer = signers.PdfSigner(
            meta,
            signer=signer,
            timestamper=self._timestamper(),  # type: ignore[arg-type]
            stamp_style=style,
            new_field_spec=field_spec,
        )
        # room for the CMS container, known for our chains: saves pyHanko a dry-run signature (with a
        # dummy timestamp) per document; if it ever falls short, sign again and let pyHanko measure
        reserved = RESERVED_HEX[isinstance(issued.key, ec.EllipticCurvePrivateKey)]
        try:
            out = pdf_signer.sign_pdf(
                IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), bytes_reserved=reserved
            )
        except SigningError:
            out = pdf_signer.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False))
        signed: bytes = out.getvalue()
        return signed
