"""Camera frames for vision tests, made from the public-domain photos in tests/assets/faces.

A frame is a 640×480 canvas with a photo placed on it and sensor noise added (a real camera never
delivers two identical frames). Blinks and an opened mouth are simulated by painting over the eyes
(skin colour from under the eye) and drawing a dark opening between the lips, at the landmarks dlib
finds on the photo: these clips test the pipeline, they make no claim about accuracy on real people.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import av
import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw

from dualsign.engines.face_dlib import DlibFaceDetector, DlibLandmarks

FACES = Path(__file__).parent / "assets" / "faces"
W, H = 640, 480


@cache
def photo(name: str) -> PILImage.Image:
    return PILImage.open(FACES / f"{name}.jpg").convert("RGB")


@cache
def photo_landmarks(name: str) -> tuple[tuple[float, float], ...]:
    image = np.asarray(photo(name))
    box = DlibFaceDetector(detect_width=800, upsample=1).detect(image)[0]
    return DlibLandmarks().landmarks(image, box).points


def edited(
    name: str, *, eyes_closed: bool = False, mouth_open: bool = False, gap_share: float = 0.45
) -> tuple[str, PILImage.Image]:
    """The photo with its eyes painted shut (skin over the eye, a dark lid line) and/or mouth opened
    (by ``gap_share`` of the mouth's width)."""
    im = photo(name).copy()
    p = photo_landmarks(name)
    draw = ImageDraw.Draw(im)
    if eyes_closed:
        for eye in (range(36, 42), range(42, 48)):
            pts = [p[i] for i in eye]
            cx, cy = sum(x for x, _ in pts) / 6, sum(y for _, y in pts) / 6
            width = pts[3][0] - pts[0][0]
            skin = im.getpixel((int(cx), int(cy + 0.6 * width)))
            draw.polygon([(cx + (x - cx) * 1.2, cy + (y - cy) * 1.9) for x, y in pts], fill=skin)
            lower_mid = ((pts[4][0] + pts[5][0]) / 2, (pts[4][1] + pts[5][1]) / 2)
            draw.line([pts[0], lower_mid, pts[3]], fill=(50, 35, 30), width=1)
    if mouth_open:  # the jaw drops: everything below the lips moves down, the gap is the dark mouth
        xs = [p[i][0] for i in range(48, 60)]
        lip_line = int(sum(p[i][1] for i in (61, 62, 63, 65, 66, 67)) / 6)
        gap = int(gap_share * (max(xs) - min(xs)))
        left, right = int(min(xs) - 0.6 * (max(xs) - min(xs))), int(max(xs) + 0.6 * (max(xs) - min(xs)))
        bottom = min(im.height, int(p[8][1] + 0.3 * (max(xs) - min(xs))))
        lower = im.crop((left, lip_line, right, bottom - gap))
        im.paste(lower, (left, lip_line + gap))
        draw.ellipse((min(xs) + 2, lip_line - 2, max(xs) - 2, lip_line + gap + 2), fill=(60, 20, 25))
    return name, im


@cache
def head_box(name: str) -> tuple[int, int, int, int]:
    """The photo's face box grown to a head-and-shoulders crop, as a selfie camera frames it."""
    im = photo(name)
    if not DlibFaceDetector(detect_width=800, upsample=1).detect(np.asarray(im)):
        return (0, 0, im.width, im.height)  # no face (a cat, a cup): the whole picture
    p = photo_landmarks(name)
    xs, ys = [x for x, _ in p], [y for _, y in p]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    half = 0.95 * (max(xs) - min(xs))
    return (
        max(0, int(cx - half)),
        max(0, int(cy - 1.25 * half)),
        min(im.width, int(cx + half)),
        min(im.height, int(cy + 1.05 * half)),
    )


def frame(
    picture: str | tuple[str, PILImage.Image] | list[str] | None,
    seed: int,
    *,
    dx: int = 0,
    dy: int = 0,
    scale: float = 1.0,
    noise: float = 4.0,
    shares: tuple[float, ...] | None = None,
) -> np.ndarray:
    """A camera frame showing the named photo(s) (or an edited copy: (name, image)), or nobody; several
    sit side by side in equal widths, or in the ``shares`` of the width given."""
    canvas = PILImage.new("RGB", (W, H), (118, 124, 130))
    items = [] if picture is None else picture if isinstance(picture, list) else [picture]
    widths = [int(W * s) for s in shares] if shares else [W // max(1, len(items))] * len(items)
    for k, item in enumerate(items):
        slot, left = widths[k], sum(widths[:k])
        name, pic = (item, photo(item)) if isinstance(item, str) else item
        head = pic.crop(head_box(name))
        target_h = int(H * 0.92 * scale)
        target_w = min(slot, int(head.width * target_h / head.height))
        target_h = int(head.height * target_w / head.width)
        resized = head.resize((target_w, target_h))
        canvas.paste(resized, (left + (slot - target_w) // 2 + dx, (H - target_h) // 2 + dy))
    arr = np.asarray(canvas, dtype=np.float32)
    arr += np.random.default_rng(seed).normal(0, noise, arr.shape)
    return np.clip(arr, 0, 255).astype(np.uint8)


def jpeg(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(image).save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def encode_video(frames: list[np.ndarray], fps: int, fmt: str = "webm", codec: str = "libvpx") -> bytes:
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
