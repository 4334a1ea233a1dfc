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

from dualsign.engines._audio import float_to_pcm16, to_wav
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
        self._lock = threading.Lock()

    def is_available(self) -> Availability:
        return Availability.yes(f"scripted: {len(self.by_digest)} by digest, {len(self.queue)} queued")

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
        return Transcript(
            text=text,
            language=language,
            confidence=1.0 if text else 0.0,
            no_speech_prob=0.0 if text else 1.0,
            engine=self.name,
            model=self.model_id,
            audio_s=round(len(audio) / SAMPLE_RATE, 3),
            compute_s=0.0,
        )
