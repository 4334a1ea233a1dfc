"""Cheaper face monitoring on the real dlib engines, held to the same findings.

- The face signature (what tells, between embeddings, that the face is still the one compared) on the
  test photos: the same face moved, rescaled and re-noised stays above ``SAME_FACE``, other people fall
  below it.
- The recording re-check looks at every other sampled frame (and at the one between two looks that
  differ): on a recording with a face swap, a second person and an absence it finds what analysing
  every frame finds.
- The face worker processes: several at once, a dead one replaced, how many a setting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dualsign.application.perception.vision import REFRESH_S, SAME_FACE, LiveMonitor, reference_embedding
from dualsign.application.qc.video_analysis import analyze_recording
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import vision_from
from dualsign.domain.templates import parse_template
from dualsign.engines.base import EngineFailed
from dualsign.engines.face_dlib import DlibEmbedder, DlibFaceDetector, DlibLandmarks
from dualsign.engines.face_pool import FacePool
from dualsign.engines.vision_base import VisionEngines
from dualsign.media.video import sample_frames
from dualsign.runtime import usable_cores
from tests.vision_media import FACES, encode_video, frame

ENGINES = VisionEngines(
    DlibFaceDetector(), DlibFaceDetector(detect_width=800, upsample=1), DlibLandmarks(), DlibEmbedder()
)
PEOPLE = ["obama", "obama2", "biden", "grace_hopper", "astronaut"]
TEMPLATE = parse_template(
    {
        "key": "tracking-check",
        "title": "t",
        "scenario": "other",
        "language": "en-US",
        "consent": {"recording": "r", "biometric": "b"},
        "questions": [{"id": "q", "category": "other", "prompt": "?", "acceptable": ["yes"]}],
    }
)


def signatures(name: str) -> list[Any]:
    out = []
    for i in range(5):
        image = frame(name, seed=i, dx=(i % 3) * 12 - 12, dy=(i % 2) * 8, scale=1.0 - 0.06 * (i % 3))
        boxes = ENGINES.detector.detect(image)
        assert len(boxes) == 1
        out.append(ENGINES.embedder.signature(image, boxes[0]))
    return out


def test_the_signature_tells_the_same_face_from_another_person() -> None:
    seen = {name: signatures(name) for name in PEOPLE}
    same = [a.similarity(b) for s in seen.values() for i, a in enumerate(s) for b in s[i + 1 :]]
    other = [
        a.similarity(b)
        for x in PEOPLE
        for y in PEOPLE
        if x < y and {x, y} != {"obama", "obama2"}  # two photos of one man are two looks, either way
        for a in seen[x]
        for b in seen[y]
    ]
    print(f"same face moved/rescaled ≥ {min(same):.3f}, other people ≤ {max(other):.3f}, limit {SAME_FACE}")
    assert min(same) >= SAME_FACE + 0.05
    assert max(other) < SAME_FACE


def every_frame(recording: bytes, reference: Any) -> tuple[dict[str, Any], list[str]]:
    """The rules run on every sampled frame, as before looking at every other one."""
    # the refreshes at the re-check's moments, so that both see the same comparisons
    monitor = LiveMonitor(TEMPLATE.monitoring, ENGINES, reference, first_refresh_s=REFRESH_S)
    kinds = []
    for t, image in sample_frames(recording, fps=TEMPLATE.monitoring.sample_fps):
        kinds += [w.kind.value for w in monitor.observe(image, t)[1]]
    return dict(monitor.monitor.stats.to_dict()), kinds


@pytest.mark.parametrize(
    "script",
    [
        [("obama", 4), ("biden", 3), ("obama", 2), (["obama", "biden"], 2), (None, 3), ("obama", 2)],
        [("obama", 3), (["obama", "grace_hopper"], 1.4), ("obama", 3), ("grace_hopper", 2.4), ("obama", 2)],
    ],
    ids=["swap-second-person-absence", "odd-lengths"],
)
def test_the_recording_recheck_finds_what_every_frame_finds(script: list[tuple[Any, float]]) -> None:
    frames = [
        frame(who, seed=k * 100 + i)
        for k, (who, seconds) in enumerate(script)
        for i in range(int(seconds * 5))
    ]
    recording = encode_video(frames, fps=5)
    reference = reference_embedding((FACES / "obama.jpg").read_bytes(), ENGINES)
    result = analyze_recording(recording, TEMPLATE, ENGINES, reference)
    full, full_kinds = every_frame(recording, reference)
    print(f"looked at {result.looked_at} of {result.frames} frames; {result.stats} vs {full}")
    assert [w.kind.value for w in result.warnings] == full_kinds
    assert "not_the_signer" in full_kinds and "several_faces" in full_kinds  # the swap, the second person
    for measure in ("observed_s", "several_faces_s", "mismatch_s", "longest_absence_s"):
        assert result.stats[measure] == pytest.approx(full[measure], abs=1e-6), measure
    assert result.stats["presence"] == full["presence"]
    assert result.looked_at < result.frames


def test_face_workers_run_side_by_side_and_a_dead_one_is_replaced() -> None:
    image = frame("grace_hopper", seed=1)[::2, ::2]
    pool = FacePool(2)
    try:
        alone = pool.detect(image, 0)
        with ThreadPoolExecutor(4) as threads:
            found = list(threads.map(lambda _: pool.detect(image, 0), range(16)))
        assert all(np.array_equal(f, alone) for f in found)
        assert pool.running() == 2  # both children served
        for child in pool._children:
            assert child.process is not None
            os.kill(child.process.pid, signal.SIGKILL)
            child.process.wait()
        assert np.array_equal(pool.detect(image, 0), alone)  # a child found dead is started anew
    finally:
        pool.close()
    one = FacePool(1)
    try:
        one._children[0].process = _dying()
        with pytest.raises(EngineFailed, match="face worker"):
            one.detect(image, 0)
        assert np.array_equal(one.detect(image, 0), alone)  # the next call has a new child
    finally:
        one.close()


def _dying() -> Any:
    """A process that looks alive to the pool and exits on its first request."""
    return subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.buffer.read(1)"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )


def test_the_number_of_face_workers_is_a_setting(tmp_path: Path) -> None:
    env = {"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_FACE_PROCESSES": "3"}
    engines = vision_from(load_settings(env))
    assert isinstance(engines.detector, DlibFaceDetector)
    assert isinstance(engines.embedder, DlibEmbedder)
    assert engines.detector.pool is engines.embedder.pool is FacePool.shared(3)
    assert engines.detector.pool is not None and engines.detector.pool.size == 3
    default = vision_from(load_settings({"DUALSIGN_DATA_DIR": str(tmp_path)}))
    assert isinstance(default.detector, DlibFaceDetector)
    assert default.detector.pool is not None and default.detector.pool.size == usable_cores()
    with pytest.raises(SystemExit, match="DUALSIGN_FACE_PROCESSES"):
        load_settings({**env, "DUALSIGN_FACE_PROCESSES": "two"})
