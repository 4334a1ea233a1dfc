"""dlib's HOG detector is used from several threads at once (live frames, session creation, the
post-hoc job): each thread must get what it would get alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from dualsign.engines.face_dlib import DlibFaceDetector
from tests.vision_media import FACES


def test_concurrent_detections_find_the_same_single_face() -> None:
    photo = np.asarray(Image.open(FACES / "grace_hopper.jpg").convert("RGB"))
    detector = DlibFaceDetector(detect_width=800, upsample=1)  # as the ID photo is checked
    alone = detector.detect(photo)
    assert len(alone) == 1

    def detect(_: int) -> list[tuple[int, int, int, int]]:
        return [(b.left, b.top, b.right, b.bottom) for b in detector.detect(photo)]

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(detect, range(120)))
    expected = [(b.left, b.top, b.right, b.bottom) for b in alone]
    assert all(f == expected for f in found), {tuple(f) for f in found}
