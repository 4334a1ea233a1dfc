"""Image and video decoding, done once for every vision engine.

JPEG/PNG snapshots from the signer page (Pillow) and whole recordings (webm, mp4 — PyAV) become RGB
uint8 arrays; recordings are sampled at a fixed rate with each frame's presentation time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import av
import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from dualsign.media import Image

MAX_PIXELS = 4096 * 4096


class ImageDecodeError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot decode image: {reason}")
        self.reason = reason


def decode_image(data: bytes, max_width: int | None = None) -> Image:
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise ImageDecodeError(f"{im.width}×{im.height} is larger than allowed")
            rgb = im.convert("RGB")
            if max_width and rgb.width > max_width:
                rgb = rgb.resize((max_width, round(rgb.height * max_width / rgb.width)))
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ImageDecodeError(str(exc)) from None


def encode_jpeg(image: Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(image).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def sample_frames(data: bytes, fps: float = 2.0, max_width: int = 640) -> Iterator[tuple[float, Image]]:
    """Frames of a recording at ``fps`` (the first frame at or after each tick), with their times in s."""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise ImageDecodeError(str(exc)) from None
    with container:
        if not container.streams.video:
            raise ImageDecodeError("no video stream")
        stream = container.streams.video[0]
        next_tick = 0.0
        try:
            for frame in container.decode(stream):
                if frame.time is None or frame.time + 1e-6 < next_tick:
                    continue
                while next_tick <= frame.time + 1e-6:
                    next_tick += 1.0 / fps
                image: Image = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                if image.shape[1] > max_width:
                    image = np.asarray(
                        PILImage.fromarray(image).resize(
                            (max_width, round(image.shape[0] * max_width / image.shape[1]))
                        ),
                        dtype=np.uint8,
                    )
                yield float(frame.time), image
        except av.error.FFmpegError as exc:
            raise ImageDecodeError(str(exc)) from None


def stream_spans(data: bytes) -> dict[str, float | None]:
    """Seconds covered by the audio and the video stream of a recording (from packet timestamps, no
    decoding): the two should agree; ``None`` where a stream is missing. Raises ``ValueError`` when
    the bytes are not a container FFmpeg reads."""
    spans: dict[str, list[float]] = {}
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            for packet in container.demux():
                if packet.pts is None or packet.time_base is None:
                    continue
                kind = packet.stream.type
                start = float(packet.pts * packet.time_base)
                end = start + float((packet.duration or 0) * packet.time_base)
                lo, hi = spans.setdefault(kind, [start, end])
                spans[kind] = [min(lo, start), max(hi, end)]
    except (av.error.FFmpegError, OSError) as exc:
        raise ValueError(f"not a readable recording: {exc}") from exc
    return {
        "audio_s": round(spans["audio"][1] - spans["audio"][0], 3) if "audio" in spans else None,
        "video_s": round(spans["video"][1] - spans["video"][0], 3) if "video" in spans else None,
    }
