"""A face worker process of the dlib engines (see ``face_pool``): reads requests from stdin and writes
each answer to stdout, until stdin closes.

- ``D`` + ``<iii`` (height, width, upsample) + RGB bytes → ``<i`` count + count × (left, top, right,
  bottom, score) as float64: dlib's HOG frontal face detector, run as the in-process one would;
- ``E`` + an aligned 150×150×3 chip → its 128-d ResNet descriptor (float64).

Started as ``python -m dualsign.engines.face_worker NICE``; it runs apart because dlib holds the GIL
for the whole of either computation. Anything else on stdin ends the process (the pool replaces it).
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

import numpy as np

from dualsign.engines.face_dlib import _Models
from dualsign.engines.face_pool import CHIP_BYTES, COUNT, DESCRIBE, DETECT, HEADER


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def _detect(source: BinaryIO) -> bytes | None:
    header = _read(source, HEADER.size)
    if header is None:
        return None
    h, w, upsample = HEADER.unpack(header)
    if not (0 < h <= 10_000 and 0 < w <= 10_000 and 0 <= upsample <= 2):
        return None
    data = _read(source, h * w * 3)
    if data is None:
        return None
    image = np.frombuffer(data, dtype=np.uint8).reshape(h, w, 3)
    rects, scores, _ = _Models.detector().run(image, upsample, 0.0)
    boxes = np.array(
        [(r.left(), r.top(), r.right(), r.bottom(), s) for r, s in zip(rects, scores, strict=True)],
        dtype="<f8",
    ).reshape(-1, 5)
    return COUNT.pack(len(boxes)) + boxes.tobytes()


def _describe(source: BinaryIO) -> bytes | None:
    data = _read(source, CHIP_BYTES)
    if data is None:
        return None
    chip = np.frombuffer(data, dtype=np.uint8).reshape(150, 150, 3)
    vector = _Models.get("embedding").compute_face_descriptor(chip, 0)
    return np.asarray(vector, dtype="<f8").tobytes()


def main() -> None:
    if len(sys.argv) > 1:
        os.nice(int(sys.argv[1]))
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    handlers = {DETECT: _detect, DESCRIBE: _describe}
    while (op := source.read(1)) in handlers:
        answer = handlers[op](source)
        if answer is None:
            return
        sink.write(answer)
        sink.flush()


if __name__ == "__main__":
    main()
