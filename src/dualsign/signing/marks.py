"""Pictures that go into signature appearances: the round red organisation seal, the signer's square name
seal, and the handwritten mark drawn on the signer's page.

All are rendered once with Pillow into transparent PNGs, so the PDF appearance is an image: no font is
embedded in the signed document, and the CJK font (WQY Zen Hei) is read once per process.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SEAL_RED = (215, 0, 15, 255)
INK = (20, 24, 60, 255)
FONT_PATHS = (Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),)
MAX_STROKES = 400
MAX_POINTS = 20_000


class MarkError(ValueError):
    """A handwritten mark that cannot be drawn; the message names what is wrong."""


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    raise FileNotFoundError("no CJK TrueType font: apt-get install fonts-wqy-zenhei")


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=3)
    return buf.getvalue()


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.382
        angle = math.radians(-90 + i * 36)
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def _glyph(char: str, size: int, angle: float) -> Image.Image:
    font = _font(size)
    tile = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
    ImageDraw.Draw(tile).text((size, size), char, font=font, fill=SEAL_RED, anchor="mm")
    return tile.rotate(angle, resample=Image.Resampling.BICUBIC)


def _arc_text(
    img: Image.Image, text: str, radius: float, size: int, span: float, *, bottom: bool = False
) -> None:
    """Characters along the circle, upright towards the centre (top) or the rim (bottom)."""
    if not text:
        return
    c = img.width / 2
    step = span / max(len(text) - 1, 1) if len(text) > 1 else 0.0
    start = -span / 2 if len(text) > 1 else 0.0
    for i, char in enumerate(text):
        theta = start + i * step  # degrees from the top (or bottom), clockwise
        if bottom:
            rad = math.radians(90 - theta)
            angle = theta
        else:
            rad = math.radians(-90 + theta)
            angle = -theta
        x, y = c + radius * math.cos(rad), c + radius * math.sin(rad)
        tile = _glyph(char, size, angle)
        img.alpha_composite(tile, (int(x - tile.width / 2), int(y - tile.height / 2)))


def round_seal(name: str, code: str | None = None, purpose: str | None = None, size: int = 480) -> bytes:
    """The standard round red seal: the organisation's name along the upper arc, a star in the middle,
    an optional purpose line under it (e.g. 合同专用章) and the optional code along the lower arc."""
    if not name.strip():
        raise MarkError("a seal needs the organisation's name")
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    ring = size * 0.035
    draw.ellipse((ring / 2, ring / 2, size - ring / 2, size - ring / 2), outline=SEAL_RED, width=int(ring))
    _star(draw, size / 2, size / 2, size * 0.16)
    chars = name.strip()
    glyph = int(size * (0.13 if len(chars) <= 12 else 0.105 if len(chars) <= 18 else 0.085))
    span = min(220.0 if len(chars) <= 18 else 240.0, 18.0 * len(chars) + 30)
    # a long name: smaller characters, so that neighbours on the arc never overlap
    arc = math.radians(span) * (size / 2 - ring - glyph * 0.75)
    glyph = max(min(glyph, int(arc / max(len(chars) - 1, 1) * 0.95)), 8)
    _arc_text(img, chars, size / 2 - ring - glyph * 0.75, glyph, span)
    if purpose:
        draw.text((size / 2, size * 0.74), purpose, font=_font(int(size * 0.075)), fill=SEAL_RED, anchor="mm")
    if code:
        small = int(size * 0.05)
        _arc_text(img, code, size / 2 - ring - small * 0.9, small, min(100.0, 5.5 * len(code)), bottom=True)
    return _png(img)


def name_seal(name: str, size: int = 240) -> bytes:
    """The signer's square name seal (私章): the name and 印 (or 之印) in a 2×2 grid."""
    chars = "".join(name.split())
    if not chars:
        raise MarkError("a name seal needs a name")
    if len(chars) == 2:
        chars += "之印"
    elif len(chars) == 3:
        chars += "印"
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    border = int(size * 0.06)
    draw.rectangle(
        (border / 2, border / 2, size - border / 2, size - border / 2), outline=SEAL_RED, width=border
    )
    if len(chars) == 4:  # read right column first, top to bottom, as seals are
        font = _font(int(size * 0.36))
        spots = ((0.72, 0.3), (0.72, 0.7), (0.28, 0.3), (0.28, 0.7))
        for char, (x, y) in zip(chars, spots, strict=True):
            draw.text((size * x, size * y), char, font=font, fill=SEAL_RED, anchor="mm")
    else:  # other names (incl. Latin ones): one word per line, as large as fits
        lines = name.split()[:3] or [chars]
        longest = max(len(line) for line in lines)
        px = int(min(size * 0.8 / len(lines), size * 1.5 / max(longest, 1)))
        font = _font(max(px, 16))
        for i, line in enumerate(lines):
            y = size / 2 + (i - (len(lines) - 1) / 2) * px * 1.05
            draw.text((size / 2, y), line, font=font, fill=SEAL_RED, anchor="mm")
    return _png(img)


def handwriting(strokes: Sequence[Sequence[Sequence[float]]], width: float, height: float) -> bytes:
    """The signer's mark from the pad's strokes (points in the pad's pixels), cropped to the ink."""
    if not 10 <= width <= 5000 or not 10 <= height <= 5000:
        raise MarkError("the signature pad's width and height must be between 10 and 5000")
    if not strokes or len(strokes) > MAX_STROKES:
        raise MarkError(f"a handwritten mark needs 1 to {MAX_STROKES} strokes")
    points = [p for s in strokes for p in s]
    if len(points) > MAX_POINTS or any(len(p) < 2 for p in points):
        raise MarkError("strokes are lists of [x, y] points")
    if len(points) < 5:
        raise MarkError("the handwritten mark is too short to be a signature")
    scale = 800 / max(width, height)
    img = Image.new("RGBA", (int(width * scale) + 20, int(height * scale) + 20), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    pen = max(int(6 * scale * max(width, height) / 800), 4)
    for stroke in strokes:
        line = [(10 + float(p[0]) * scale, 10 + float(p[1]) * scale) for p in stroke]
        if len(line) == 1:
            x, y = line[0]
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=INK)
        else:
            draw.line(line, fill=INK, width=pen, joint="curve")
    box = img.getbbox()
    if box is None:
        raise MarkError("the handwritten mark is empty")
    return _png(img.crop(box))


def image_mark(png: bytes) -> bytes:
    """A mark uploaded as a picture (PNG or JPEG, e.g. from a pad that exports images), re-encoded."""
    try:
        with Image.open(io.BytesIO(png)) as img:
            if img.format not in ("PNG", "JPEG") or img.width * img.height > 16_000_000:
                raise MarkError("the mark must be a PNG or JPEG of at most 16 megapixels")
            return _png(img.convert("RGBA"))
    except (OSError, Image.DecompressionBombError) as exc:
        raise MarkError(f"the mark is not a readable image: {exc}") from None


def compose(marks: Sequence[bytes], box: tuple[float, float], pixels_per_point: float = 4.0) -> Image.Image:
    """Marks side by side (handwriting, then seal overlapping its end), at the box's height in pixels
    (``pixels_per_point``: 4 is 288 dpi) and padded to the box's aspect."""
    images = [Image.open(io.BytesIO(m)).convert("RGBA") for m in marks]
    height = max(min(max(i.height for i in images), int(box[1] * pixels_per_point)), 1)
    scaled = [
        i.resize(
            (max(int(i.width * height / i.height), 1), height), Image.Resampling.BILINEAR, reducing_gap=2.0
        )
        for i in images
    ]
    overlap = int(height * 0.25) if len(scaled) > 1 else 0
    width = sum(i.width for i in scaled) - overlap * (len(scaled) - 1)
    canvas = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    x = 0
    for i in scaled:
        canvas.alpha_composite(i, (x, 0))
        x += i.width - overlap
    limit = int(box[0] * pixels_per_point)
    if width > limit:  # too wide for the box: scale the whole mark down once
        height = max(int(height * limit / width), 1)
        canvas = canvas.resize((limit, height), Image.Resampling.BILINEAR)
        width = limit
    # pad to the box's aspect so the mark keeps its proportions inside the field
    bw, bh = box
    target = bw / bh
    if width / height < target:
        padded = Image.new("RGBA", (int(height * target), height), (0, 0, 0, 0))
        padded.alpha_composite(canvas, (0, 0))
        return padded
    padded = Image.new("RGBA", (width, int(width / target)), (0, 0, 0, 0))
    padded.alpha_composite(canvas, (0, (padded.height - height) // 2))
    return padded
