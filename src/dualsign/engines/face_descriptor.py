"""The descriptor process of the dlib embedder: reads aligned 150×150×3 face chips from stdin and
writes each one's 128-d dlib descriptor (float64, little-endian) to stdout, until stdin closes.

Started by ``face_dlib`` as ``python -m dualsign.engines.face_descriptor NICE``; it runs apart because
dlib's ResNet holds the GIL for the whole computation.
"""

from __future__ import annotations

import os
import sys
from typing import BinaryIO

import numpy as np

from dualsign.engines.face_dlib import CHIP_BYTES, _Models


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def main() -> None:
    if len(sys.argv) > 1:
        os.nice(int(sys.argv[1]))
    model = _Models.get("embedding")
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    while (data := _read(source, CHIP_BYTES)) is not None:
        chip = np.frombuffer(data, dtype=np.uint8).reshape(150, 150, 3)
        vector = np.asarray(model.compute_face_descriptor(chip, 0), dtype="<f8")
        sink.write(vector.tobytes())
        sink.flush()


if __name__ == "__main__":
    main()
