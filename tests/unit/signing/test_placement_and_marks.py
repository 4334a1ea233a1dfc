"""Placing signatures by anchor text (incl. Chinese and full-width punctuation) and drawing marks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from dualsign.signing import marks
from dualsign.signing.placement import PlacementError, place

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"


def pdf(lines: list[tuple[float, float, str]], pages: int = 1) -> bytes:
    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", FONT, subfontIndex=0))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    for page in range(pages):
        c.setFont("WQY", 12)
        c.drawString(72, 780, f"第 {page + 1} 页")
        if page == pages - 1:
            for x, y, text in lines:
                c.drawString(x, y, text)
        c.showPage()
    c.save()
    return buf.getvalue()


def test_a_chinese_anchor_is_found_on_the_last_page_despite_full_width_punctuation() -> None:
    doc = pdf([(72, 200, "借款人（签字）："), (320, 200, "贷款人（盖章）：")], pages=3)
    signer = place(doc, anchor="借款人(签字):")  # half-width in the template, full-width in the PDF
    assert signer.page == 2
    x1, _, _, y2 = signer.box
    assert x1 == 72 and y2 < 200  # under its anchor: to the right is the lender's text
    lender = place(doc, anchor="贷款人（盖章）：")
    x1, y1, _, y2 = lender.box
    assert lender.page == 2 and x1 > 320 + 7 * 12 and y1 < 200 < y2  # beside its anchor, on its line


def test_the_box_goes_under_the_anchor_when_text_follows_on_its_line() -> None:
    doc = pdf([(72, 300, "甲方（签章）："), (200, 300, "日期：2026 年 11 月 28 日")])
    box = place(doc, anchor="甲方（签章）：").box
    assert box[3] <= 300  # below the line: the date is not covered


def test_a_missing_anchor_falls_back_to_the_box_or_is_refused() -> None:
    doc = pdf([(72, 300, "Lessee (signature):")])
    assert place(doc, anchor="Lessor (seal):", box=(340, 56, 160, 64)).box == (340, 56, 500, 120)
    with pytest.raises(PlacementError, match="'Lessor \\(seal\\):' is not in the document"):
        place(doc, anchor="Lessor (seal):")
    with pytest.raises(PlacementError, match="page 4 does not exist"):
        place(doc, page=4, box=(1, 1, 10, 10))


def _red(png: bytes) -> int:
    a = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA")).astype(int)
    return int(((a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 3] > 128)).sum())


def test_seals_are_red_and_not_blank() -> None:
    assert _red(marks.round_seal("中国示例人寿保险股份有限公司", code="91110000MA01ABCD2X")) > 20_000
    assert _red(marks.name_seal("张三")) > 3_000
    assert _red(marks.name_seal("Zhang San")) > 3_000
    with pytest.raises(marks.MarkError):
        marks.round_seal("  ")


def test_handwriting_is_drawn_from_strokes_and_nonsense_is_refused() -> None:
    png = marks.handwriting([[[10, 10], [50, 40], [90, 10]], [[100, 30], [140, 35]]], 200, 60)
    with Image.open(io.BytesIO(png)) as img:
        assert img.width > img.height > 10
    with pytest.raises(marks.MarkError, match="too short"):
        marks.handwriting([[[1, 1], [2, 2]]], 200, 60)
    with pytest.raises(marks.MarkError, match="width and height"):
        marks.handwriting([[[1, 1]] * 10], 0, 60)
    with pytest.raises(marks.MarkError, match="not a readable image"):
        marks.image_mark(b"GIF89a not really")


def test_the_organisation_seal_has_its_name_star_text_and_code_where_gb_t_38540_puts_them() -> None:
    plain = np.asarray(
        Image.open(io.BytesIO(marks.round_seal("北京示例建设工程有限公司", "91350100M000100Y43")))
    )
    special = np.asarray(
        Image.open(
            io.BytesIO(marks.round_seal("北京示例建设工程有限公司", "91350100M000100Y43", "合同专用章"))
        )
    )
    size = plain.shape[0]
    assert plain.shape == special.shape == (size, size, 4)
    c = size // 2
    red = (plain[..., 3] > 0) & (plain[..., 0] > 150) & (plain[..., 1] < 60)
    assert red[c, c], "no star in the middle"
    assert plain[0, 0, 3] == plain[0, -1, 3] == plain[-1, 0, 3] == 0  # round: the corners are clear
    rim = int(size * 0.035)
    assert red[c, rim] and red[c, size - 1 - rim] and red[rim, c], "no ring"
    band = slice(int(size * 0.70), int(size * 0.78))  # the horizontal text line under the star
    added = (special[band, :, 3] > 0).sum() - (plain[band, :, 3] > 0).sum()
    assert added > 500, "the seal's text is not under the star"
    top_arc = red[int(size * 0.08) : int(size * 0.25), :].sum()
    assert top_arc > 2000, "the name is not along the upper arc"
