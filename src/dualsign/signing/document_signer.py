"""The ``DocumentSigner`` port: a session's PAdES signatures with event and organisation certificates.

Placement comes from the template field (``signing/placement.py``); a role without a field signs in
the default box of the last page. The signer's appearance is the handwritten mark, with the name seal
beside it when the template asks for a seal; the institution's is its round seal; an organisation seal
spot gets the session's organisation's seal picture, signed with that organisation's certificate.
Seals are drawn once per name and kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

from PIL import Image

from dualsign.application.integrator.ports import Placed
from dualsign.application.signer.ports import SignedPdf
from dualsign.domain.templates import SignatureField
from dualsign.signing import marks
from dualsign.signing.authority import IssuedKey, IssuingAuthority, Organisation
from dualsign.signing.pades import PadesSigner, SignatureSpec
from dualsign.signing.pdf_inspect import field_size
from dualsign.signing.placement import Placement, place

DEFAULT_BOXES = {"signer": (72.0, 56.0, 160.0, 64.0), "institution": (340.0, 56.0, 160.0, 64.0)}


@lru_cache(maxsize=256)
def _round_seal(name: str, code: str | None) -> bytes:
    return marks.round_seal(name, code)


@lru_cache(maxsize=1024)
def _name_seal(name: str) -> bytes:
    return marks.name_seal(name)


def _placement(pdf: bytes, field: SignatureField | None, role: str, placed: Placed | None) -> Placement:
    if placed is not None:  # resolved when the session was created
        return Placement(placed.page, placed.box)
    if field is None:
        return place(pdf, page=-1, box=DEFAULT_BOXES[role])
    return place(pdf, page=field.page, box=field.box, anchor=field.anchor, size=field_size(field))


def _appearance(pngs: Sequence[bytes], placement: Placement) -> Image.Image:
    x1, y1, x2, y2 = placement.box
    return marks.compose(pngs, (x2 - x1, y2 - y1))


def _signed(data: bytes, name: str, placement: Placement, issued: IssuedKey, level: str) -> SignedPdf:
    return SignedPdf(
        data,
        name,
        placement.page + 1,
        placement.box,
        format(issued.cert.serial_number, "x"),
        issued.cert.subject.rfc4514_string(),
        level,
    )


class PadesDocumentSigner:
    def __init__(self, authority: IssuingAuthority, pades: PadesSigner) -> None:
        self.authority = authority
        self.pades = pades
        self.level: str = pades.level

    def handwriting(self, strokes: Sequence[Sequence[Sequence[float]]], width: float, height: float) -> bytes:
        return marks.handwriting(strokes, width, height)

    def picture(self, data: bytes) -> bytes:
        return marks.image_mark(data)

    def sign_as_signer(
        self,
        pdf: bytes,
        *,
        field: SignatureField | None,
        placed: Placed | None,
        field_name: str,
        marks: Sequence[bytes],
        seal_name: str | None,
        signer_name: str,
        id_hash: str,
        session_id: str,
        reason: str,
        at: dt.datetime,
    ) -> SignedPdf:
        placement = _placement(pdf, field, "signer", placed)
        pictures = list(marks) + ([_name_seal(seal_name)] if seal_name else [])
        issued = self.authority.event_certificate(signer_name, id_hash, session_id, at)
        spec = SignatureSpec(field_name, placement, _appearance(pictures, placement), reason)
        return _signed(self.pades.sign(pdf, issued, spec), field_name, placement, issued, self.level)

    def seal_as_organisation(
        self,
        pdf: bytes,
        *,
        field: SignatureField,
        placed: Placed | None,
        field_name: str,
        organisation_id: str,
        certificate_serial: str,
        seal: bytes,
        reason: str,
        at: dt.datetime,
    ) -> SignedPdf:
        placement = _placement(pdf, field, "signer", placed)
        issued = self.authority.organisation_key(organisation_id, certificate_serial)
        if not issued.cert.not_valid_before_utc <= at <= issued.cert.not_valid_after_utc:
            raise ValueError(f"the certificate of organisation {organisation_id} is not valid at {at}")
        if self.authority.is_revoked(issued.cert.serial_number):  # a second guard: never seal under it
            raise ValueError(
                f"the certificate {certificate_serial} of organisation {organisation_id} is revoked"
            )
        spec = SignatureSpec(field_name, placement, _appearance([seal], placement), reason)
        return _signed(self.pades.sign(pdf, issued, spec), field_name, placement, issued, self.level)

    def countersign(
        self,
        pdf: bytes,
        *,
        field: SignatureField | None,
        placed: Placed | None,
        field_name: str,
        tenant_id: str,
        organisation: str,
        code: str | None,
        reason: str,
        at: dt.datetime,
    ) -> SignedPdf:
        placement = _placement(pdf, field, "institution", placed)
        issued = self.authority.organisation(tenant_id, Organisation(organisation, code), at)
        seal = _round_seal(organisation, code)
        spec = SignatureSpec(field_name, placement, _appearance([seal], placement), reason)
        return _signed(self.pades.sign(pdf, issued, spec), field_name, placement, issued, self.level)
