"""Faces with dlib (the ``dlib-bin`` wheel) and the models of ``face_recognition_models==0.3.0``.

Models (found inside the installed package with importlib; the package's ``__init__`` is never imported
because it breaks on current setuptools):

- HOG frontal face detector (built into dlib; Boost licence);
- ``shape_predictor_68_face_landmarks.dat`` — trained on iBUG 300-W, whose licence excludes commercial
  use: production deployments should use the mediapipe backend (``DUALSIGN_LANDMARKS=mediapipe``);
- ``shape_predictor_5_face_landmarks.dat`` (CC0) for alignment before embedding;
- ``dlib_face_recognition_resnet_model_v1.dat`` (CC0): 128-d embeddings, 99.38% on LFW.

Detection runs on a copy scaled to at most ``detect_width`` pixels wide (a face in a phone selfie is large);
boxes are returned in the original image's coordinates.

dlib's ResNet holds the GIL for the whole descriptor (~140 ms a face with the ``dlib-bin`` wheel, which
has no BLAS): it would stop a server's event loop and every other thread for that long. The embedder
aligns the face here (5 landmarks, a 150×150 chip: ~4 ms) and computes the descriptor in a child
process at a lower CPU priority (nice +5, as the live frames' threads), so answers being recognised
get the cores first.
"""

from __future__ import annotations

import importlib.util
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

from dualsign.engines.base import Availability, EngineFailed, EngineUnavailable
from dualsign.engines.vision_base import Embedding, FaceBox, Image, Landmarks
from dualsign.runtime import BACKGROUND_NICE

PACKAGE = "face_recognition_models"
FILES = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",
}
DESCRIPTOR_TIMEOUT_S = 30.0


def models_dir() -> Path | None:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if folder.is_dir() else None


def _availability(needs: tuple[str, ...]) -> Availability:
    if importlib.util.find_spec("dlib") is None:
        return Availability.no("dlib is not installed (pip install dlib-bin)")
    folder = models_dir()
    if folder is None:
        return Availability.no("the dlib models ship in face_recognition_models==0.3.0: pip install it")
    missing = [FILES[n] for n in needs if not (folder / FILES[n]).exists()]
    if missing:
        return Availability.no(f"missing in {folder}: {', '.join(missing)}")
    return Availability.yes(f"dlib with {', '.join(FILES[n] for n in needs) or 'HOG detector'}")


class _Models:
    """dlib models are loaded once per process and shared (read-only after loading), except the HOG
    detector: dlib's ``object_detector`` keeps its feature pyramid in a mutable member that every call
    rewrites, so two threads detecting at once corrupt each other (seen: a segmentation fault, and three
    faces found in a one-face ID photo, when session creation and the post-hoc job detected together).
    Each thread gets its own detector (made in milliseconds)."""

    _lock = threading.Lock()
    _loaded: ClassVar[dict[str, Any]] = {}
    _per_thread = threading.local()

    @classmethod
    def detector(cls) -> Any:
        detector = getattr(cls._per_thread, "detector", None)
        if detector is None:
            import dlib

            detector = cls._per_thread.detector = dlib.get_frontal_face_detector()
        return detector

    @classmethod
    def get(cls, name: str) -> Any:
        if name == "detector":
            return cls.detector()
        with cls._lock:
            if name not in cls._loaded:
                import dlib

                folder = models_dir()
                if folder is None:
                    raise EngineUnavailable("dlib", "face_recognition_models is not installed")
                path = str(folder / FILES[name])
                loader = dlib.face_recognition_model_v1 if name == "embedding" else dlib.shape_predictor
                cls._loaded[name] = loader(path)
            return cls._loaded[name]


def _rect(box: FaceBox) -> Any:
    import dlib

    return dlib.rectangle(box.left, box.top, box.right, box.bottom)


class DlibFaceDetector:
    name = "dlib-hog"

    def __init__(self, detect_width: int = 320, upsample: int = 0) -> None:
        self.detect_width = detect_width
        self.upsample = upsample

    def is_available(self) -> Availability:
        return _availability(())

    def detect(self, image: Image) -> list[FaceBox]:
        detector = _Models.get("detector")
        h, w = image.shape[:2]
        factor = 1.0
        small = image
        if w > self.detect_width:
            factor = w / self.detect_width
            step = max(1, round(factor))
            small = np.ascontiguousarray(image[::step, ::step])
            factor = w / small.shape[1]
        rects, scores, _ = detector.run(small, self.upsample, 0.0)
        boxes = [
            FaceBox(r.left(), r.top(), r.right(), r.bottom(), float(s)).scaled(factor)
            for r, s in zip(rects, scores, strict=True)
        ]
        return [
            FaceBox(max(0, b.left), max(0, b.top), min(w, b.right), min(h, b.bottom), b.score) for b in boxes
        ]


class DlibLandmarks:
    name = "dlib-68"
    licence = "iBUG 300-W: non-commercial use only"

    def is_available(self) -> Availability:
        return _availability(("landmarks68",))

    def landmarks(self, image: Image, box: FaceBox) -> Landmarks:
        shape = _Models.get("landmarks68")(image, _rect(box))
        return Landmarks(tuple((float(p.x), float(p.y)) for p in shape.parts()), self.name)


CHIP_BYTES = 150 * 150 * 3
DESCRIPTOR_BYTES = 128 * 8


class _DescriptorProcess:
    """The child process that computes descriptors (``python -m dualsign.engines.face_descriptor``),
    one per server process, started on first use. Calls are serialised; a child that died or hung is
    replaced on the next call. Chips go in as 67,500 raw bytes, descriptors come back as 128 float64."""

    _lock = threading.Lock()
    _child: ClassVar[subprocess.Popen[bytes] | None] = None

    @classmethod
    def _start(cls) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 (this interpreter, a module of this package)
            [sys.executable, "-m", "dualsign.engines.face_descriptor", str(BACKGROUND_NICE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    @classmethod
    def _stop(cls) -> None:
        child, cls._child = cls._child, None
        if child is not None:
            child.kill()
            child.wait()

    @classmethod
    def compute(cls, chip: np.ndarray) -> tuple[float, ...]:
        data = np.ascontiguousarray(chip, dtype=np.uint8).tobytes()
        if len(data) != CHIP_BYTES:
            raise EngineFailed("dlib-resnet", f"a face chip is 150×150×3, not {chip.shape}")
        with cls._lock:
            if cls._child is None or cls._child.poll() is not None:
                cls._child = cls._start()
            child = cls._child
            assert child.stdin is not None  # noqa: S101 (pipes asked for)
            assert child.stdout is not None  # noqa: S101
            try:
                child.stdin.write(data)
                child.stdin.flush()
                answer = _read_exactly(child.stdout, DESCRIPTOR_BYTES, DESCRIPTOR_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                cls._stop()
                raise EngineFailed("dlib-resnet", f"the descriptor process failed: {exc}") from None
        return tuple(float(v) for v in np.frombuffer(answer, dtype="<f8"))


def _read_exactly(stream: IO[bytes], size: int, timeout_s: float) -> bytes:
    deadline = time.monotonic() + timeout_s
    parts: list[bytes] = []
    got = 0
    fd = stream.fileno()
    while got < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"no descriptor within {timeout_s:.0f} s")
        part = os.read(fd, size - got)
        if not part:
            raise OSError("the descriptor process exited")
        parts.append(part)
        got += len(part)
    return b"".join(parts)


class DlibEmbedder:
    name = "dlib-resnet"
    model_id = "dlib_face_recognition_resnet_model_v1"
    # Measured on the test photos: same person 0.33–0.43, different people ≥ 0.73; dlib's usual 0.6 is
    # looser than needed, 0.5 keeps a margin on both sides.
    match_threshold = 0.5

    def is_available(self) -> Availability:
        return _availability(("landmarks5", "embedding"))

    def embed(self, image: Image, box: FaceBox) -> Embedding:
        import dlib

        shape = _Models.get("landmarks5")(image, _rect(box))
        chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, 150, 0.25)  # dlib's own alignment
        return Embedding(_DescriptorProcess.compute(chip), self.model_id)
