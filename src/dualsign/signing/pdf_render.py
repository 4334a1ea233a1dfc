"""PDF pages as PNG pictures for the signer page (phones and webviews without a PDF viewer)."""

from __future__ import annotations

import io

import pypdfium2

from dualsign.domain.errors import FieldProblem, InvalidInput

MAX_WIDTH = 2400  # a phone page zoomed 2× at device pixel ratio ~3 (the signer page asks at most this)


def render_page(pdf: bytes, page: int, width: int) -> bytes:
    """Page ``page`` (1-based) rendered ``width`` pixels wide, as PNG."""
    if not 200 <= width <= MAX_WIDTH:
        raise InvalidInput([FieldProblem("width", f"must be between 200 and {MAX_WIDTH} pixels")])
    doc = pypdfium2.PdfDocument(pdf)
    try:
        if not 1 <= page <= len(doc):
            raise InvalidInput([FieldProblem("page", f"must be between 1 and {len(doc)}")])
        p = doc[page - 1]
        scale = width / p.get_width()
        image = p.render(scale=scale).to_pil()
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=False)
        return out.getvalue()
    finally:
        doc.close()


class PdfiumPageRenderer:
    """The ``PageRenderer`` port (``application.signer.ports``) on pypdfium2."""

    def render(self, pdf: bytes, page: int, width: int) -> bytes:
        return render_page(pdf, page, width)
