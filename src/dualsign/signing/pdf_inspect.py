"""Opening uploaded PDFs with pyHanko's reader (the one signing uses) to refuse bad ones up front."""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Facts:
    pages: int
    encrypted: bool
    signatures: int


class PyHankoPdfInspector:
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
