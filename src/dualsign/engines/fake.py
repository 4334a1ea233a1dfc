"""Deterministic engines, shipped and registered like the real ones (``DUALSIGN_ASR=fake`` …).

- ``FakeTts``: a tone whose pitch depends on the text, one syllable-length per character or word.
- ``EnergyVad``: speech probability from the loudness of each 32 ms window.
- ``ScriptedAsr``: transcripts from a script — by the SHA-256 of the audio it is given, else the next
  line of a queue — so a test or a demonstration can run the whole Chinese flow without a Mandarin model.
"""

from __future__ import annotations

import hashlib
import threading
from collections import deque
from collections.abc import Iterable, Mapping

import numpy as np

from dualsign.engines.base import (
    SAMPLE_RATE,
    VAD_FRAME,
    AsrHints,
    Audio,
    Availability,
    EngineFailed,
    SpokenPrompt,
    Transcript,
)
from dualsign.engines.vision_base import Embedding, FaceBox, FaceSignature, Landmarks
from dualsign.media.audio import float_to_pcm16, to_wav


def audio_digest(audio: Audio) -> str:
    """SHA-256 of the audio as 16-bit PCM: the key of a scripted transcript."""
    return hashlib.sha256(float_to_pcm16(audio)).hexdigest()


def tone(seconds: float, hz: float = 220.0, level: float = 0.3) -> Audio:
    t = np.arange(int(seconds * SAMPLE_RATE), dtype=np.float32) / SAMPLE_RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def silence(seconds: float) -> Audio:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


class FakeTts:
    name = "fake-tts"

    def is_available(self) -> Availability:
        return Availability.yes("deterministic tones (no speech)")

    def synthesize(self, text: str, language: str, *, rate: float = 1.0) -> SpokenPrompt:
        units = len(text) if language.startswith("zh") else max(1, len(text.split()))
        seconds = max(0.3, 0.18 * units / max(rate, 0.1))
        hz = 200 + int(hashlib.sha256(text.encode()).hexdigest()[:4], 16) % 400
        return SpokenPrompt(
            wav=to_wav(tone(seconds, hz)),
            sample_rate=SAMPLE_RATE,
            duration_s=round(seconds, 3),
            engine=self.name,
            voice=f"tone@{rate:g}",
        )


class EnergyVad:
    name = "energy"

    def __init__(self, floor: float = 0.01, full: float = 0.05) -> None:
        self.floor = floor
        self.full = full

    def is_available(self) -> Availability:
        return Availability.yes("loudness threshold (deterministic)")

    def stream(self) -> EnergyStream:
        return EnergyStream(self.floor, self.full)


class EnergyStream:
    def __init__(self, floor: float, full: float) -> None:
        self.floor = floor
        self.full = full
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: Audio) -> list[float]:
        buf = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(buf) - len(buf) % VAD_FRAME
        frames = buf[:whole].reshape(-1, VAD_FRAME)
        rms = np.sqrt(np.mean(frames**2, axis=1)) if len(frames) else np.zeros(0)
        self._pending = buf[whole:]
        return [float(np.clip((r - self.floor) / (self.full - self.floor), 0.0, 1.0)) for r in rms]


class ScriptedAsr:
    name = "fake-asr"
    model_id = "scripted"

    def __init__(
        self,
        by_digest: Mapping[str, str] | None = None,
        queue: Iterable[str] = (),
        languages: Iterable[str] = ("zh", "en"),
    ) -> None:
        self.by_digest = dict(by_digest or {})
        self.queue: deque[str] = deque(queue)
        self.languages = frozenset(languages)
        self.heard: list[tuple[str, AsrHints | None]] = []  # what it was asked, for tests
        self.prepared: list[str] = []
        self._lock = threading.Lock()

    def is_available(self) -> Availability:
        return Availability.yes(f"scripted: {len(self.by_digest)} by digest, {len(self.queue)} queued")

    def prepare(self, language: str) -> None:
        """Nothing to load; what it was asked to prepare is kept for tests."""
        with self._lock:
            self.prepared.append(language)

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        digest = audio_digest(audio)
        with self._lock:
            if digest in self.by_digest:
                text = self.by_digest[digest]
            elif self.queue:
                text = self.queue.popleft()
            else:
                raise EngineFailed(self.name, f"no scripted transcript for audio {digest[:12]}")
            self.heard.append((digest, hints))
        return Transcript.of_text(
            text, language=language, engine=self.name, model=self.model_id, audio=audio, compute_s=0.0
        )


# --- vision -------------------------------------------------------------------------------------------
MARKER = np.array([0, 255, 0], dtype=np.int16)  # a "face" is a solid green square …
# … whose centre patch colour is the person (the embedding), and whose canonical landmarks are scaled in.
_CANONICAL_68 = tuple(
    (x / 100.0, y / 100.0)
    for x, y in (
        (5, 30),
        (6, 42),
        (8, 54),
        (11, 65),
        (16, 75),
        (23, 84),
        (31, 91),
        (40, 96),
        (50, 98),
        (60, 96),
        (69, 91),
        (77, 84),
        (84, 75),
        (89, 65),
        (92, 54),
        (94, 42),
        (95, 30),
        (13, 20),
        (19, 16),
        (26, 15),
        (33, 16),
        (40, 19),
        (60, 19),
        (67, 16),
        (74, 15),
        (81, 16),
        (87, 20),
        (50, 28),
        (50, 35),
        (50, 42),
        (50, 49),
        (43, 54),
        (46, 55),
        (50, 56),
        (54, 55),
        (57, 54),
        (21, 30),
        (26, 27),
        (32, 27),
        (37, 31),
        (32, 33),
        (26, 33),
        (63, 31),
        (68, 27),
        (74, 27),
        (79, 30),
        (74, 33),
        (68, 33),
        (36, 70),
        (41, 67),
        (46, 66),
        (50, 67),
        (54, 66),
        (59, 67),
        (64, 70),
        (59, 74),
        (54, 76),
        (50, 76),
        (46, 76),
        (41, 74),
        (38, 70),
        (46, 69),
        (50, 69),
        (54, 69),
        (62, 70),
        (54, 71),
        (50, 71),
        (46, 71),
    )
)


def _marker_boxes(image: np.ndarray, step: int = 4) -> list[tuple[int, int, int, int]]:
    """Bounding boxes of the green regions (4-connected, on a grid of ``step`` pixels)."""
    grid = np.all(np.abs(image[::step, ::step].astype(np.int16) - MARKER) < 40, axis=2)
    seen = np.zeros_like(grid)
    rows, cols = grid.shape
    boxes: list[tuple[int, int, int, int]] = []
    for y0, x0 in zip(*np.nonzero(grid), strict=True):
        if seen[y0, x0]:
            continue
        stack = [(int(y0), int(x0))]
        seen[y0, x0] = True
        ys, xs = [], []
        while stack:
            y, x = stack.pop()
            ys.append(y)
            xs.append(x)
            for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                if 0 <= ny < rows and 0 <= nx < cols and grid[ny, nx] and not seen[ny, nx]:
                    seen[ny, nx] = True
                    stack.append((ny, nx))
        box = (min(xs) * step, min(ys) * step, (max(xs) + 1) * step, (max(ys) + 1) * step)
        if box[2] - box[0] >= 16 and box[3] - box[1] >= 16:
            boxes.append(box)
    return boxes


class MarkerFaceDetector:
    """Deterministic detector: solid green squares are faces (for load tests and demonstrations)."""

    name = "fake-marker"

    def is_available(self) -> Availability:
        return Availability.yes("green squares are faces (deterministic)")

    def detect(self, image: np.ndarray) -> list[FaceBox]:
        return [FaceBox(x0, y0, x1, y1, 1.0) for x0, y0, x1, y1 in _marker_boxes(image)]


class MarkerLandmarks:
    name = "fake-marker"
    licence = "test double"

    def is_available(self) -> Availability:
        return Availability.yes("canonical landmarks scaled into the box")

    def landmarks(self, image: np.ndarray, box: FaceBox) -> Landmarks:
        return Landmarks(
            tuple((box.left + u * box.width, box.top + v * box.height) for u, v in _CANONICAL_68), self.name
        )


class MarkerEmbedder:
    name = "fake-marker"
    model_id = "marker-colour"
    match_threshold = 0.5

    def is_available(self) -> Availability:
        return Availability.yes("the colour of the square's centre is the identity")

    def embed(self, image: np.ndarray, box: FaceBox) -> Embedding:
        cy, cx = (box.top + box.bottom) // 2, (box.left + box.right) // 2
        patch = image[cy - 4 : cy + 4, cx - 4 : cx + 4].reshape(-1, 3).mean(axis=0) / 255.0
        return Embedding(tuple(float(v) for v in patch), self.model_id)

    def signature(self, image: np.ndarray, box: FaceBox) -> FaceSignature:
        """The centre's colour (the identity) as a unit vector: another colour is another face."""
        vector = np.asarray(self.embed(image, box).vector, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return FaceSignature(vector / norm if norm else vector)
