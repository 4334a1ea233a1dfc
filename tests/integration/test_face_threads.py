"""dlib's HOG detector is used from several threads at once (live frames, session creation, the
post-hoc job): each thread must get what it would get alone, and the post-hoc job of an API process
lets live frames go first at the face workers."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from dualsign.engines.face_dlib import DlibFaceDetector
from dualsign.engines.face_pool import FacePool
from dualsign.runtime import BACKGROUND_NICE, JOB_NICE, defers_to_live_work, lower_thread_priority
from tests.conftest import FixedClock, make_container
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


def test_the_api_process_job_worker_defers_and_a_standalone_worker_does_not(
    tmp_path: Path, clock: FixedClock
) -> None:
    """`serve` runs its job worker in the background of the live sessions, below their threads on the
    CPU; `dualsign worker` has no live sessions to wait for."""
    c = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock, DUALSIGN_WORKER="off")
    try:
        marks = {}
        for name, background in (("in the API process", True), ("standalone", False)):
            start = c.worker_loop(1.0, background=background).on_start

            def run(start: Callable[[], None] | None = start, name: str = name) -> None:
                if start is not None:
                    start()
                nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
                marks[name] = (defers_to_live_work(), nice)

            thread = threading.Thread(target=run)
            thread.start()
            thread.join()
        base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        # the API process's job worker yields the CPU to the live frames' threads too (they run at +5)
        assert marks == {
            "in the API process": (True, min(19, base + JOB_NICE)),
            "standalone": (False, base),
        }
    finally:
        c.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_face_worker_started_for_the_job_worker_runs_at_the_live_frames_priority() -> None:
    """Face worker processes serve every caller; the first to need one (here the job worker, +10) does not
    set its priority: it runs at the live frames' +5."""
    photo = np.asarray(Image.open(FACES / "grace_hopper.jpg").convert("RGB"))[::4, ::4]
    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    pool = FacePool(1)
    try:
        with ThreadPoolExecutor(1, initializer=lambda: lower_thread_priority(JOB_NICE)) as job:
            job.submit(pool.detect, photo, 0).result(30)
        child = pool._children[0].process
        assert child is not None
        assert os.getpriority(os.PRIO_PROCESS, child.pid) == min(19, base + BACKGROUND_NICE)
    finally:
        pool.close()
