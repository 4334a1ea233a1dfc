"""What per-message deflate would do to the live channel's messages: the bytes it saves and the CPU it
costs on each side, for the camera frames and the answer audio the signer page sends.

The messages are those ``bench/load.py`` sends (640×480 JPEG frames at quality 0.75 of a moving test
face with sensor noise; an espeak-ng answer as 50 ms pieces of 16 kHz PCM), each compressed as
permessage-deflate does it (raw deflate, 15-bit window, context kept between messages, a sync flush
per message; websockets' memLevel 5) and inflated again. CPU is process time per message, the best of
``--repeat`` passes. The service negotiates no compression on the live channel (``dualsign serve``).

Run: ``.venv/bin/python bench/live_compression.py [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_media import answer_pcm, camera_frames  # the bench's own media

PIECE_BYTES = 16000 * 2 // 20  # 50 ms of 16-bit mono at 16 kHz, as the page sends it


def deflate_pass(messages: list[bytes]) -> tuple[float, float, int]:
    """(compress ms, inflate ms) per message and the bytes sent, over one connection's messages."""
    sender = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15, 5)
    started = time.process_time()
    sent = [sender.compress(m) + sender.flush(zlib.Z_SYNC_FLUSH) for m in messages]
    compress_s = time.process_time() - started
    receiver = zlib.decompressobj(-15)
    started = time.process_time()
    for m in sent:
        receiver.decompress(m)
    inflate_s = time.process_time() - started
    return compress_s / len(messages) * 1000, inflate_s / len(messages) * 1000, sum(map(len, sent))


def report(name: str, messages: list[bytes], repeat: int) -> None:
    passes = [deflate_pass(messages) for _ in range(repeat)]
    compress_ms = min(p[0] for p in passes)
    inflate_ms = min(p[1] for p in passes)
    raw, sent = sum(map(len, messages)), passes[0][2]
    print(
        f"{name:<22} {len(messages):5d} messages, {raw / len(messages):8.0f} bytes each: deflated to "
        f"{sent / raw:6.1%} ({1 - sent / raw:5.1%} saved); compress {compress_ms:.3f} ms, "
        f"inflate {inflate_ms:.3f} ms a message"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    frames = camera_frames() * 10  # 240 frames: 2 minutes of camera at 2 fps
    with tempfile.TemporaryDirectory() as scratch:
        pcm, _tail = answer_pcm(Path(scratch))
    pieces = [pcm[i : i + PIECE_BYTES] for i in range(0, len(pcm) - PIECE_BYTES + 1, PIECE_BYTES)]
    report("camera frames (JPEG)", frames, args.repeat)
    report("answer audio (PCM)", pieces, args.repeat)


if __name__ == "__main__":
    main()
