"""Vision ports: face detection, landmarks, face embeddings, passive liveness — and their frozen results.

Images cross every port as RGB uint8 arrays (H×W×3); decoding happens once in ``media.video``.
Landmarks use the 68-point iBUG layout (eyes 36–47, mouth 48–67, nose 30, jaw 0–16), whatever the
backend, so that the liveness and quality rules in the domain read the same points.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from dualsign.engines.base import Availability
from dualsign.media import Image as Image  # the ports' pictures are media's (re-exported)

Point = tuple[float, float]


@dataclass(frozen=True)
class FaceBox:
    left: int
    top: int
    right: int
    bottom: int
    score: float = 1.0

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def scaled(self, factor: float) -> FaceBox:
        return FaceBox(
            int(self.left * factor),
            int(self.top * factor),
            int(self.right * factor),
            int(self.bottom * factor),
            self.score,
        )


@dataclass(frozen=True)
class Landmarks:
    points: tuple[Point, ...]  # 68 points, iBUG order
    engine: str


@dataclass(frozen=True)
class Embedding:
    vector: tuple[float, ...]
    model: str

    def distance(self, other: Embedding) -> float:
        if self.model != other.model:
            raise ValueError(f"embeddings of different models ({self.model}, {other.model}) do not compare")
        a = np.asarray(self.vector)
        b = np.asarray(other.vector)
        return float(np.linalg.norm(a - b))


@dataclass(frozen=True, eq=False)
class FaceSignature:
    """A cheap picture of one face for telling, between two embeddings, whether the face in view is
    still the one last compared: a unit vector, so ``similarity`` is a cosine (1: the same); a picture
    made with ``of`` has its mean taken off first (a correlation). Made by the embedder, which knows
    how to align its faces."""

    values: np.ndarray

    @classmethod
    def of(cls, picture: np.ndarray) -> FaceSignature:
        flat = np.asarray(picture, dtype=np.float32).ravel()
        flat = flat - flat.mean()
        norm = float(np.linalg.norm(flat))
        return cls(flat / norm if norm else flat)

    def similarity(self, other: FaceSignature) -> float:
        if self.values.shape != other.values.shape:
            return 0.0
        return float(np.dot(self.values, other.values))


class FaceDetector(Protocol):
    name: str

    def is_available(self) -> Availability: ...

    def detect(self, image: Image) -> list[FaceBox]: ...


class LandmarkEngine(Protocol):
    name: str
    licence: str  # the model's licence, shown by `models check`

    def is_available(self) -> Availability: ...

    def landmarks(self, image: Image, box: FaceBox) -> Landmarks: ...


class FaceEmbedder(Protocol):
    name: str
    model_id: str
    match_threshold: float  # distance at or below which two faces are the same person (conservative)

    def is_available(self) -> Availability: ...

    def embed(self, image: Image, box: FaceBox) -> Embedding: ...

    def signature(self, image: Image, box: FaceBox) -> FaceSignature:
        """A fraction of a millisecond's look at the face: two of the same face ≥ ``SAME_FACE`` (0.85)
        in ``application.perception.vision``, two people below it."""
        ...


class PassiveLiveness(Protocol):
    """A single-frame anti-spoofing model (printed photo, screen replay). None ships in a registry."""

    name: str

    def is_available(self) -> Availability: ...

    def spoof_score(self, image: Image, box: FaceBox) -> float: ...


@dataclass(frozen=True)
class VisionEngines:
    detector: FaceDetector  # fast: live frames
    photo_detector: FaceDetector  # thorough: ID photos (upsampled, full resolution)
    landmarks: LandmarkEngine
    embedder: FaceEmbedder


@dataclass(frozen=True)
class AuthorityResult:
    passed: bool
    score: float  # the provider's similarity score, on its own scale
    provider: str
    reference: str  # the provider's transaction id, kept as evidence


class IdentityAuthority(Protocol):
    """A national identity service (e.g. a 公安部 citizen-photo comparison through a licensed provider).

    Contract: given the signer's name, ID number and one live face image (JPEG), the provider compares
    the face with its registered photo and answers pass/fail with a score and a transaction id. It is
    called once, after the local 1:1 check has passed, with the best live frame; its answer is an event.
    No such service is reachable from this workplace, so no adapter ships yet; one implements this port.
    """

    name: str

    def is_available(self) -> Availability: ...

    def verify(self, *, name: str, id_number: str, live_face_jpeg: bytes) -> AuthorityResult: ...
