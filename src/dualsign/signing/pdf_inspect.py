"""Opening uploaded PDFs with pyHanko's reader (the one signing uses) to refuse bad ones up front."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from dualsign.application.integrator.ports import Placed
from dualsign.domain.templates import SignatureField
from dualsign.signing.placement import BOX_HEIGHT, BOX_WIDTH, SEAL_SIZE, PlacementError, place


@dataclass(frozen=True)
class Facts:
    pages: int
    encrypted: bool
    signatures: int


def field_size(field: SignatureField) -> tuple[float, float]:
    """The box put next to an anchor: a 40 mm square for an organisation seal, else a signature line's."""
    return (SEAL_SIZE, SEAL_SIZE) if field.signs_as == "organisation" else (BOX_WIDTH, BOX_HEIGHT)


class PyHankoPdfInspector:
    def placements(self, data: bytes, fields: Sequence[SignatureField]) -> tuple[list[Placed], list[str]]:
        placed, problems = [], []
        for f in fields:
            try:
                p = place(data, page=f.page, box=f.box, anchor=f.anchor, size=field_size(f))
            except PlacementError as exc:
                problems.append(f"the {f.signs_as}'s signature field cannot be placed: {exc}")
            else:
                placed.append(Placed(f.signs_as, p.page, p.box))
        return placed, problems

    def inspect(self, data: bytes) -> Facts:
        from pyhanko.pdf_utils.misc import PdfError
        from pyhanko.pdf_utils.reader import PdfFileReader

        try:
            reader = PdfFileReader(io.BytesIO(data), strict=False)
            if reader.encrypted:
                return Facts(0, True, 0)
            pages = int(reader.root["/Pages"]["/Count"])
            signatures = len(reader.embedded_signatures)
        except (PdfError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
            raise ValueError(f"cannot be read as a PDF ({type(exc).__name__}: {exc})") from None
        return Facts(pages, False, signatures)
