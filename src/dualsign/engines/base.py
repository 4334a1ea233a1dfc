"""Engine ports: typed Protocols and the frozen results they return.

Audio crosses every port as 16 kHz mono float32 in [-1, 1] (``SAMPLE_RATE``); decoding and resampling
happen once, in ``media.audio``. Ports return frozen dataclasses, never library objects or lazy
generators. Every engine says whether it can run here, and if not, why, in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dualsign.media import SAMPLE_RATE as SAMPLE_RATE  # the ports' audio is media's (re-exported)
from dualsign.media import Audio as Audio

VAD_FRAME = 512  # samples per VAD decision (32 ms)


@dataclass(frozen=True)
class Availability:
    ok: bool
    reason: str  # what is missing and how to provide it, or what was found

    @classmethod
    def yes(cls, found: str) -> Availability:
        return cls(True, found)

    @classmethod
    def no(cls, missing: str) -> Availability:
        return cls(False, missing)


class EngineUnavailable(Exception):
    """An engine was asked to work although ``is_available()`` says it cannot."""

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"{engine}: {reason}")
        self.engine = engine
        self.reason = reason


class EngineFailed(Exception):
    """An engine call failed or timed out; the caller records it and fails closed."""

    def __init__(self, engine: str, reason: str) -> None:
        super().__init__(f"{engine}: {reason}")
        self.engine = engine
        self.reason = reason


# --- text to speech ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpokenPrompt:
    wav: bytes  # the exact bytes played to the signer (RIFF/WAVE, PCM 16-bit mono)
    sample_rate: int
    duration_s: float
    engine: str
    voice: str


class TtsEngine(Protocol):
    name: str

    def is_available(self) -> Availability: ...

    def synthesize(self, text: str, language: str, *, rate: float = 1.0) -> SpokenPrompt:
        """``language`` is a template language (zh-CN, en-US); ``rate`` 1.0 normal, 0.8 slower."""
        ...


# --- voice activity ---------------------------------------------------------------------------------
class VadStream(Protocol):
    def feed(self, samples: Audio) -> list[float]:
        """Speech probability of every complete ``VAD_FRAME`` window the samples finish."""
        ...


class VadEngine(Protocol):
    name: str

    def is_available(self) -> Availability: ...

    def stream(self) -> VadStream: ...


# --- speech recognition -----------------------------------------------------------------------------
@dataclass(frozen=True)
class AsrHints:
    """Phrases decoding may be biased toward. Built symmetric (positive and negative answers alike)."""

    phrases: tuple[str, ...] = ()
    # answers to score against the audio (the question's acceptable answers and the opposing ones)
    candidates: tuple[str, ...] = ()
    # which texts to score for this transcript (the candidates the verdict can use, the transcript with a
    # negation put in …; empty: none), decided by the caller's rules; None: all ``candidates``. An engine
    # that can score returns one ``CandidateScore`` each, in this order
    to_score: Callable[[str], tuple[str, ...]] | None = None


@dataclass(frozen=True)
class CandidateScore:
    """How well a text explains the answer audio: its tokens' summed log-probability (teacher-forced)."""

    text: str
    logprob: float
    tokens: int


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    confidence: float  # 0..1 (engine-specific; faster-whisper: exp(avg log prob))
    no_speech_prob: float
    engine: str
    model: str
    audio_s: float
    compute_s: float
    segments: tuple[tuple[float, float, str], ...] = field(default=())
    heard_score: float | None = None  # the free transcript's own score (the null hypothesis)
    candidate_scores: tuple[CandidateScore, ...] = ()  # one per ``AsrHints.candidates``, when scored

    @classmethod
    def of_text(
        cls, text: str, *, language: str, engine: str, model: str, audio: Audio, compute_s: float
    ) -> Transcript:
        """A transcript from an engine that reports no confidence: certain if it heard words."""
        return cls(
            text=text,
            language=language,
            confidence=1.0 if text else 0.0,
            no_speech_prob=0.0 if text else 1.0,
            engine=engine,
            model=model,
            audio_s=round(len(audio) / SAMPLE_RATE, 3),
            compute_s=round(compute_s, 4),
        )


class AsrEngine(Protocol):
    name: str
    model_id: str
    languages: frozenset[str]  # language families it recognises: {"en"}, {"zh", "en"}, …

    def is_available(self) -> Availability: ...

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        """``language`` is a family ("zh", "en"). Raises ``EngineFailed`` on error or timeout."""
        ...

    def prepare(self, language: str) -> None:
        """Loads what recognising ``language`` needs and runs it once, so that the first answer does not
        wait for it. Raises what ``transcribe`` would."""
        ...
