"""Opening uploaded PDFs with pyHanko's reader (the one signing uses) to refuse bad ones up front."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from dualsign.application.integrator.ports import Placed
from dualsign.domain.templates import SignatureField
from dualsign.signing.placement import PlacementError, place


@dataclass(frozen=True)
class Facts:
    pages: int
    encrypted: bool
    signatures: int


class PyHankoPdfInspector:
    def placements(self, data: bytes, fields: Sequence[SignatureField]) -> tuple[list[Placed], list[str]]:
        placed, problems = [], []
        for f in fields:
            try:
                p = place(data, page=f.page, box=f.box, anchor=f.anchor)
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
