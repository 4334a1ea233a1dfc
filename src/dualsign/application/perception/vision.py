"""What the camera shows: frame analysis, identity against the ID photo, liveness samples, monitoring.

Engines do the looking (detector, landmarks, embedder); the domain decides (``monitoring``,
``liveness``); this module measures image quality, picks the signer's face and keeps the per-connection
state of a live session (when to embed, which frames belong to a challenge).
"""

from __future__ import annotations

import hashlib
import random
import statistics
from dataclasses import dataclass, field, replace
from functools import lru_cache

import numpy as np

from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign.domain.event_payloads import IdentityCheck
from dualsign.domain.liveness import FaceFeatures, Sample, features
from dualsign.domain.monitoring import FaceMonitor, FaceWarning, Observation
from dualsign.domain.templates import Monitoring
from dualsign.engines.vision_base import Embedding, FaceBox, FaceSignature, Image, VisionEngines
from dualsign.media.video import ImageDecodeError, decode_image

MIN_FACE_SHARE = 0.12  # face width / frame width below which the face is too small
MIN_BRIGHTNESS = 45.0  # mean luminance of the face (0–255)
MIN_SHARPNESS = 15.0  # variance of the Laplacian of the face, grey levels²
MIN_SCORE = 0.3  # detector confidence for a face to count


@dataclass(frozen=True)
class Quality:
    face_share: float
    brightness: float
    sharpness: float

    @property
    def too_small(self) -> bool:
        return self.face_share < MIN_FACE_SHARE

    @property
    def too_dark(self) -> bool:
        return self.brightness < MIN_BRIGHTNESS

    @property
    def blurred(self) -> bool:
        return self.sharpness < MIN_SHARPNESS

    @property
    def good(self) -> bool:
        return not (self.too_small or self.too_dark or self.blurred)


@dataclass(frozen=True)
class FrameAnalysis:
    faces: tuple[FaceBox, ...]
    main: FaceBox | None  # the largest face: the signer's, when there is one
    quality: Quality | None
    features: FaceFeatures | None = None
    embedding: Embedding | None = None
    signature: FaceSignature | None = None  # the lone face's, when it is compared with a signer


def shows_the_same(a: FrameAnalysis, b: FrameAnalysis) -> bool:
    """The monitoring rules would judge the two frames alike: as many faces, the same quality
    problems, and a lone face that stayed in place (no jump, no change of size) and is the same face
    (signatures ≥ ``SAME_FACE``; both without one when nobody is compared)."""
    if len(a.faces) != len(b.faces) or _problems(a.quality) != _problems(b.quality):
        return False
    if a.main is None or b.main is None or len(a.faces) > 1:
        return True
    if a.signature is None or b.signature is None:
        return a.signature is None and b.signature is None and not _moved(a.main, b.main)
    return not _moved(a.main, b.main) and a.signature.similarity(b.signature) >= SAME_FACE


def _problems(q: Quality | None) -> tuple[bool, bool, bool]:
    return (False, False, False) if q is None else (q.too_small, q.too_dark, q.blurred)


def _grey(image: Image) -> np.ndarray:
    grey: np.ndarray = image[..., 0] * 0.299 + image[..., 1] * 0.587 + image[..., 2] * 0.114
    return grey


def quality(image: Image, box: FaceBox) -> Quality:
    crop = _grey(image[box.top : box.bottom, box.left : box.right]).astype(np.float32)
    if crop.size == 0:
        return Quality(0.0, 0.0, 0.0)
    lap = crop[1:-1, 1:-1] * -4 + crop[:-2, 1:-1] + crop[2:, 1:-1] + crop[1:-1, :-2] + crop[1:-1, 2:]
    return Quality(box.width / image.shape[1], float(crop.mean()), float(lap.var()) if lap.size else 0.0)


def _face_digest(image: Image, box: FaceBox) -> str:
    crop = image[box.top : box.bottom, box.left : box.right]
    return hashlib.sha256(np.ascontiguousarray(crop).tobytes()).hexdigest()[:32]


def analyze(
    image: Image, engines: VisionEngines, *, landmarks: bool = False, embed: bool = False
) -> FrameAnalysis:
    faces = tuple(
        sorted(
            (b for b in engines.detector.detect(image) if b.score >= MIN_SCORE),
            key=lambda b: b.width * b.height,
            reverse=True,
        )
    )
    if not faces:
        return FrameAnalysis((), None, None)
    main = faces[0]
    feats = None
    if landmarks:
        marks = engines.landmarks.landmarks(image, main)
        feats = features(marks.points) if len(marks.points) == 68 else None
    # only a lone face is compared with the signer: with several, "several faces" is the warning
    emb = engines.embedder.embed(image, main) if embed and len(faces) == 1 else None
    return FrameAnalysis(faces, main, quality(image, main), feats, emb)


@lru_cache(maxsize=256)
def _photo_embedding(photo: bytes, engines: VisionEngines, where: str) -> Embedding:
    try:
        image = decode_image(photo, max_width=1200)
    except ImageDecodeError as exc:
        raise InvalidInput([FieldProblem(where, exc.reason)]) from None
    faces = [b for b in engines.photo_detector.detect(image) if b.score >= MIN_SCORE]
    if not faces:
        raise InvalidInput([FieldProblem(where, "no face found in the identity photo")])
    if len(faces) > 1:
        raise InvalidInput([FieldProblem(where, f"{len(faces)} faces in the identity photo; one expected")])
    return engines.embedder.embed(image, faces[0])


def reference_embedding(photo: bytes, engines: VisionEngines, where: str = "identity_photo") -> Embedding:
    """The embedding of the one face in an identity photo (``InvalidInput`` naming ``where`` otherwise):
    the signer's, or the agent's (``agent_photo``)."""
    return _photo_embedding(photo, engines, where)


@dataclass(frozen=True)
class IdentityOutcome:
    passed: bool
    reason: str
    distances: tuple[float, ...]
    threshold: float
    frames: int
    good_frames: int
    best_frame: int | None  # index of the closest good frame: the snapshot kept as evidence
    # what the signer is told: matched | not_the_signer (a clear face that is someone else) |
    # poor_frames (too few usable frames: light, blur, distance) | several_faces; with an agent:
    # agent_missing (one face only) | extra_face (a third) | not_the_agent
    code: str = "matched"
    agent_distances: tuple[float, ...] | None = None  # with an agent on camera: theirs, frame by frame

    def to_payload(self) -> IdentityCheck:
        payload: IdentityCheck = {
            "method": "face_1to1",
            "code": self.code,
            "reason": self.reason,
            "distances": list(self.distances),
            "threshold": self.threshold,
            "frames": self.frames,
            "good_frames": self.good_frames,
            "median_distance": _median(self.distances),
        }
        if self.agent_distances is not None:
            agent = self.agent_distances
            payload["agent"] = {"distances": list(agent), "median_distance": _median(agent)}
        return payload


def _median(values: tuple[float, ...]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def verify_identity(
    images: list[Image], reference: Embedding, engines: VisionEngines, min_good_frames: int
) -> IdentityOutcome:
    """1:1 against the ID photo over several frames: enough good single-face frames, all matching."""
    threshold = engines.embedder.match_threshold
    distances: list[float] = []
    indices: list[int] = []
    several = 0
    for i, image in enumerate(images):
        a = analyze(image, engines, embed=True)
        if len(a.faces) > 1:
            several += 1
            continue
        if a.embedding is None or a.quality is None or not a.quality.good:
            continue
        distances.append(round(a.embedding.distance(reference), 4))
        indices.append(i)
    best = indices[distances.index(min(distances))] if distances else None
    rounded = tuple(distances)
    if several:
        return IdentityOutcome(
            False,
            f"several faces on {several} frames",
            rounded,
            threshold,
            len(images),
            len(distances),
            best,
            "several_faces",
        )
    if len(distances) < min_good_frames:
        return IdentityOutcome(
            False,
            f"{len(distances)} usable frames of {min_good_frames} needed",
            rounded,
            threshold,
            len(images),
            len(distances),
            best,
            "poor_frames",
        )
    worst = max(distances)
    if worst > threshold:
        return IdentityOutcome(
            False,
            f"not the person in the ID photo (distance {worst:.3f} > {threshold})",
            rounded,
            threshold,
            len(images),
            len(distances),
            best,
            "not_the_signer",
        )
    return IdentityOutcome(
        True, "matches the ID photo", rounded, threshold, len(images), len(distances), best
    )


def _moved(a: FaceBox, b: FaceBox) -> bool:
    """The main face jumped or changed size: possibly someone else, so compare again now."""
    shift = (
        abs((a.left + a.right) - (b.left + b.right)) / 2 + abs((a.top + a.bottom) - (b.top + b.bottom)) / 2
    )
    return shift > 0.25 * b.width or abs(a.width - b.width) > 0.25 * b.width


# signature similarity (``FaceSignature``: the face aligned by the embedder's landmarks) below which
# the face is compared with the signer again: the same face moved, rescaled or re-noised measures
# ≥ 0.97 on the test photos, other people ≤ 0.51 (tests/integration/test_face_tracking.py)
SAME_FACE = 0.85
# a lone face that stayed the same face (no jump, no change of size, signature ≥ SAME_FACE) is compared
# again after this long all the same
REFRESH_S = 10.0
# the first of those comparisons comes after a share of REFRESH_S drawn from [FIRST_REFRESH_SHARE, 1]
# (never later than REFRESH_S): sessions that began together (a room of signers, a load test) would
# otherwise all ask for their ~70 ms embedding in the same second, every REFRESH_S
FIRST_REFRESH_SHARE = 0.5


@dataclass
class LiveMonitor:
    """One per live connection (and one per recording re-checked): samples frames at the template's
    rate and compares the lone face with the signer only when the tracked face may have changed — it
    appears (after no face or several), jumps, changes size, or its signature no longer resembles the
    one of the last comparison (another person) — and every ``embed_every_s`` otherwise. An embedding
    costs about eight detections, the signature a fraction of one. ``embeddings`` counts them.
    ``first_refresh_s``: when the first of the every-``embed_every_s`` comparisons comes, after the
    first comparison (drawn from the last half of ``embed_every_s`` unless given), so that the
    sessions' refreshes spread out instead of queueing together."""

    thresholds: Monitoring
    engines: VisionEngines
    reference: Embedding | None
    embed_every_s: float = REFRESH_S
    agent_reference: Embedding | None = None  # an agent on camera too: two faces are expected
    first_refresh_s: float | None = None
    monitor: FaceMonitor = field(init=False)
    embeddings: int = 0
    _last_t: float | None = None
    _last_embed_t: float | None = None
    _interval: float = REFRESH_S  # from the last comparison to the next refresh
    _refresh_after: float = REFRESH_S  # what ``_interval`` becomes at the next comparison
    _last_box: FaceBox | None = None
    _last_count: int = -1
    _signature: FaceSignature | None = None
    _signatures: list[FaceSignature] = field(default_factory=list)  # with the agent: each face's, by place

    def __post_init__(self) -> None:
        self.monitor = FaceMonitor(self.thresholds, 1 if self.agent_reference is None else 2)
        if self.first_refresh_s is None:
            share = random.uniform(FIRST_REFRESH_SHARE, 1.0)  # noqa: S311 (spreading load, not a secret)
            self.first_refresh_s = share * self.embed_every_s
        self._refresh_after = self.first_refresh_s  # after the next comparison: the next refresh

    def _compared(self, t: float) -> None:
        """A comparison was made at ``t``: the next refresh is due ``_interval`` later."""
        self._last_embed_t = t
        self._interval, self._refresh_after = self._refresh_after, self.embed_every_s

    @property
    def warning_building_up(self) -> bool:
        """A condition began and has not lasted its threshold yet: one of the next frames may raise a
        warning (the live channel analyses such frames before routine ones)."""
        return bool(self.monitor.building_up)

    @property
    def participants(self) -> tuple[str, ...]:
        return ("signer",) if self.agent_reference is None else ("signer", "agent")

    def due(self, t: float) -> bool:
        return self._last_t is None or t - self._last_t >= 1.0 / self.thresholds.sample_fps - 1e-3

    def _wants_embedding(self, t: float, faces: tuple[FaceBox, ...], signature: FaceSignature) -> bool:
        if (
            self._last_embed_t is None
            or self._last_box is None
            or self._last_count != 1
            or self._signature is None
        ):
            return True
        changed = signature.similarity(self._signature) < SAME_FACE
        return changed or t - self._last_embed_t >= self._interval or _moved(faces[0], self._last_box)

    def look(self, image: Image) -> FrameAnalysis:
        """What the frame shows before any comparison: faces, quality, the lone face's signature."""
        a = analyze(image, self.engines)
        # only a lone face is compared with the signer: with several, "several faces" is the warning
        if a.main is not None and len(a.faces) == 1 and self.reference is not None:
            a = replace(a, signature=self.engines.embedder.signature(image, a.main))
        return a

    def observe(
        self, image: Image, t: float, look: FrameAnalysis | None = None
    ) -> tuple[FrameAnalysis, list[FaceWarning]]:
        """Judge the frame at ``t`` (``look``: what ``look`` already found in it)."""
        if self.agent_reference is not None and self.reference is not None:
            return self._observe_pair(image, t, self.reference, self.agent_reference, look)
        self._last_t = t
        a = look if look is not None else self.look(image)
        signer: bool | None = None
        distance = None
        reference = self.reference
        lone, signature = a.main, a.signature
        if (
            lone is not None
            and reference is not None
            and signature is not None
            and self._wants_embedding(t, a.faces, signature)
        ):
            embedding = self.engines.embedder.embed(image, lone)
            a = replace(a, embedding=embedding)
            self.embeddings += 1
            self._compared(t)
            self._signature = signature
            distance = embedding.distance(reference)
            signer = distance <= self.engines.embedder.match_threshold
        return a, self._judge(a, t, signer=signer, distance=distance)

    def _observe_pair(
        self,
        image: Image,
        t: float,
        signer_ref: Embedding,
        agent_ref: Embedding,
        look: FrameAnalysis | None = None,
    ) -> tuple[FrameAnalysis, list[FaceWarning]]:
        """Two faces expected: each is compared with both photos when the faces come or go, jump, or
        every ``embed_every_s``; which is whose is the pairing with the smaller distances."""
        self._last_t = t
        a = look if look is not None else analyze(image, self.engines)
        signer: bool | None = None
        agent: bool | None = None
        # left to right, so that each face is held against the one in its place before
        signatures = [
            self.engines.embedder.signature(image, b) for b in sorted(a.faces, key=lambda b: b.left)
        ]
        changed = len(signatures) != len(self._signatures) or any(
            x.similarity(y) < SAME_FACE for x, y in zip(signatures, self._signatures, strict=False)
        )
        due = (
            self._last_embed_t is None
            or changed
            or len(a.faces) != self._last_count
            or t - self._last_embed_t >= self._interval
            or (a.main is not None and self._last_box is not None and _moved(a.main, self._last_box))
        )
        if 1 <= len(a.faces) <= 2 and due:
            embeddings = [self.engines.embedder.embed(image, box) for box in a.faces]
            self.embeddings += len(embeddings)
            to_signer = [e.distance(signer_ref) for e in embeddings]
            to_agent = [e.distance(agent_ref) for e in embeddings]
            i, j = pair_faces(to_signer, to_agent)
            threshold = self.engines.embedder.match_threshold
            signer, agent = to_signer[i] <= threshold, to_agent[j] <= threshold
            self._compared(t)
            self._signatures = signatures
        return a, self._judge(a, t, signer=signer, agent=agent)

    def _judge(
        self,
        a: FrameAnalysis,
        t: float,
        *,
        signer: bool | None,
        distance: float | None = None,
        agent: bool | None = None,
    ) -> list[FaceWarning]:
        """The monitoring rules on what the frame showed (and whose the faces are, when compared)."""
        self._last_box, self._last_count = a.main, len(a.faces)
        q = a.quality
        obs = Observation(
            t=t,
            faces=len(a.faces),
            signer=signer,
            distance=distance,
            agent=agent,
            too_small=bool(q and q.too_small),
            too_dark=bool(q and q.too_dark),
            blurred=bool(q and q.blurred),
        )
        return self.monitor.observe(obs)


def pair_faces(to_signer: list[float], to_agent: list[float]) -> tuple[int, int]:
    """Which face is the signer's and which the agent's (indices): of two faces, the assignment whose
    distances add up to less; one face is compared with both (0, 0)."""
    if len(to_signer) < 2 or to_signer[0] + to_agent[1] <= to_signer[1] + to_agent[0]:
        return 0, min(1, len(to_agent) - 1)
    return 1, 0


def liveness_sample(
    image: Image, t: float, engines: VisionEngines, signer_face: SignerFace | None = None
) -> Sample:
    """The features of the signer's face for a challenge or a nod; with the agent on camera too
    (``signer_face``), of the face that is the signer's, not of whichever is alone."""
    a = analyze(image, engines, landmarks=signer_face is None)
    if signer_face is not None:
        box = signer_face.pick(image, a.faces)
        marks = engines.landmarks.landmarks(image, box) if box is not None else None
        feats = features(marks.points) if marks is not None and len(marks.points) == 68 else None
        return Sample(t, feats, _face_digest(image, box) if box is not None else "")
    single = a.features if len(a.faces) == 1 else None
    # the face region's digest: an exact repeat betrays a replayed frame (only challenges need it)
    return Sample(t, single, _face_digest(image, a.main) if a.main is not None else "")


@dataclass
class SignerFace:
    """Which face is the signer's while the agent is on camera too: compared with the signer's photo on
    the first frame with faces (and again whenever it is lost), then followed by its position."""

    engines: VisionEngines
    reference: Embedding
    _center: tuple[float, float] | None = None

    @staticmethod
    def _middle(box: FaceBox) -> tuple[float, float]:
        return ((box.left + box.right) / 2, (box.top + box.bottom) / 2)

    def pick(self, image: Image, faces: tuple[FaceBox, ...]) -> FaceBox | None:
        if not faces:
            self._center = None
            return None
        if self._center is None:
            distances = [self.engines.embedder.embed(image, b).distance(self.reference) for b in faces]
            best = faces[distances.index(min(distances))]
        else:
            cx, cy = self._center
            best = min(faces, key=lambda b: (self._middle(b)[0] - cx) ** 2 + (self._middle(b)[1] - cy) ** 2)
            if abs(self._middle(best)[0] - cx) > best.width:  # jumped: whose is it now? compare again
                self._center = None
                return self.pick(image, faces)
        self._center = self._middle(best)
        return best
