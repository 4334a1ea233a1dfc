"""Where a signature goes: a template field gives a page and box, or an anchor text to sign next to.

Anchor text is found with pdfminer.six (character positions). Matching ignores spaces and width
variants (NFKC: "甲方（签章）：" matches "甲方(签章):"). The box is put to the right of the anchor's
last character on the same line, or under the anchor when the right margin is too narrow. The first
occurrence on the field's page wins; with ``page`` left at its default the whole document is searched
from the end (signature lines are usually on the last page), one page at a time.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

BOX_WIDTH = 150.0
BOX_HEIGHT = 60.0
SEAL_SIZE = 114.0  # an organisation seal spot placed by anchor: 40 mm square, the size of a 单位章
MARGIN = 18.0


@dataclass(frozen=True)
class Placement:
    page: int  # 0-based
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points


class PlacementError(ValueError):
    """A field that cannot be placed in a document; the message says which text or page is missing."""


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@dataclass(frozen=True)
class _Page:
    width: float
    height: float
    lines: list[list[tuple[str, tuple[float, float, float, float]]]]  # chars with their boxes


def _chars(item: object) -> list[tuple[str, tuple[float, float, float, float]]]:
    from pdfminer.layout import LTChar, LTContainer

    if isinstance(item, LTChar):
        return [(item.get_text(), item.bbox)]
    if isinstance(item, LTContainer):
        return [c for child in item for c in _chars(child)]
    return []


def _page(pdf: bytes, index: int) -> _Page:
    """The characters of one page, grouped into lines by their baseline (no layout analysis: pdfminer
    interprets only that page)."""
    from pdfminer.high_level import extract_pages

    for layout in extract_pages(io.BytesIO(pdf), page_numbers=[index], laparams=None):
        chars = sorted(_chars(layout), key=lambda c: (-round(c[1][1], 1), c[1][0]))
        lines: list[list[tuple[str, tuple[float, float, float, float]]]] = []
        for char in chars:
            _, y0, _, y1 = char[1]
            if lines:
                last = lines[-1][-1][1]
                if abs(last[1] - y0) <= max(y1 - y0, 1.0) * 0.3:
                    lines[-1].append(char)
                    continue
            lines.append([char])
        return _Page(layout.width, layout.height, [sorted(line, key=lambda c: c[1][0]) for line in lines])
    raise PlacementError(f"page {index + 1} cannot be read")


def _find(page: _Page, anchor: str) -> tuple[float, float, float, float] | None:
    """The box of the anchor's characters on this page, if it is there."""
    want = _norm(anchor)
    for chars in page.lines:
        normed = [(_norm(t), box) for t, box in chars]
        kept = [(t, box) for t, box in normed if t]
        text = "".join(t for t, _ in kept)
        at = text.find(want)
        if at < 0:
            continue
        spans, pos = [], 0  # characters that make up the match (NFKC may change lengths)
        for t, box in kept:
            if pos + len(t) > at and pos < at + len(want):
                spans.append(box)
            pos += len(t)
        return (
            min(b[0] for b in spans),
            min(b[1] for b in spans),
            max(b[2] for b in spans),
            max(b[3] for b in spans),
        )
    return None


def place(
    pdf: bytes,
    *,
    page: int = -1,
    box: tuple[float, float, float, float] | None = None,
    anchor: str | None = None,
    size: tuple[float, float] = (BOX_WIDTH, BOX_HEIGHT),
) -> Placement:
    """Resolve one field; raises ``PlacementError`` naming what is missing."""
    if anchor is not None:
        count = _page_count(pdf)
        order = [page - 1] if page > 0 else list(reversed(range(count)))
        if page > 0 and page > count:
            raise PlacementError(f"page {page} does not exist (the document has {count})")
        for index in order:  # from the last page: signature lines are usually there
            text = _page(pdf, index)
            found = _find(text, anchor)
            if found is not None:
                return Placement(index, _next_to(found, text, size))
        if box is None:
            raise PlacementError(f"the anchor text {anchor!r} is not in the document")
    if box is None:
        raise PlacementError("the field has neither a box nor an anchor")
    count = _page_count(pdf)
    index = page - 1 if page > 0 else count + page
    if not 0 <= index < count:
        raise PlacementError(f"page {page} does not exist (the document has {count})")
    x, y, w, h = box
    return Placement(index, (x, y, x + w, y + h))


def _next_to(
    anchor: tuple[float, float, float, float], page: _Page, size: tuple[float, float]
) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = anchor
    w, h = size
    middle = (y0 + y1) / 2
    right = (x1 + 4, middle - h / 2, x1 + 4 + w, middle + h / 2)
    if x1 + 4 + w <= page.width - MARGIN and not _covers_text(page, right):
        left, bottom = right[0], right[1]
    else:  # no room on the right (margin or other text): under the anchor
        left, bottom = max(min(x0, page.width - MARGIN - w), MARGIN), y0 - 4 - h
    bottom = min(max(bottom, MARGIN), page.height - MARGIN - h)
    return (round(left, 2), round(bottom, 2), round(left + w, 2), round(bottom + h, 2))


def _covers_text(page: _Page, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = box
    return any(b[0] < x1 and b[2] > x0 and b[1] < y1 and b[3] > y0 for chars in page.lines for _, b in chars)


def _page_count(pdf: bytes) -> int:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(io.BytesIO(pdf), strict=False).root["/Pages"]["/Count"])
