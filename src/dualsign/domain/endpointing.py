"""End of answer: when the signer started and stopped speaking, from per-window speech probabilities.

Pure logic over the VAD's output (one probability per 32 ms window), so that the rules — minimum speech,
end-of-speech silence, no-speech timeout, maximum answer length — are the same whatever engine scores
the audio, and testable without audio. ``SPECULATE`` fires part-way into the closing silence so the
recogniser can start early (``SPECULATE_EARLY`` before it, for a recogniser with nothing else to do);
``RESUMED`` withdraws it if the signer goes on speaking. Once the silence
reaches ``preview_after_ms`` the speculative verdict may be shown (``preview_due``), before
``end_silence_ms`` confirms the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FRAME_MS = 32


class Signal(StrEnum):
    STARTED = "started"
    SPECULATE_EARLY = "speculate_early"
    SPECULATE = "speculate"
    RESUMED = "resumed"
    ENDED = "ended"
    NO_SPEECH = "no_speech"
    MAX_LENGTH = "max_length"


@dataclass(frozen=True)
class EndpointConfig:
    speech_threshold: float = 0.5
    silence_threshold: float = 0.35
    min_speech_ms: int = 160
    end_silence_ms: int = 1000
    # recognition may start after this much silence when it would wait for nothing else; otherwise at
    # ``speculate_after_ms``. A pause inside an answer that long throws the recognition away: on a busy
    # recogniser such throw-aways would queue before the answers that count
    early_speculate_after_ms: int = 96
    speculate_after_ms: int = 192
    preview_after_ms: int = 256
    no_speech_timeout_ms: int = 8000
    max_answer_ms: int = 15000

    def __post_init__(self) -> None:
        if not 0 < self.silence_threshold <= self.speech_threshold < 1:
            raise ValueError("thresholds must satisfy 0 < silence_threshold <= speech_threshold < 1")
        if not self.speculate_after_ms <= self.preview_after_ms < self.end_silence_ms:
            raise ValueError("speculate_after_ms <= preview_after_ms < end_silence_ms must hold")
        if not 0 < self.early_speculate_after_ms <= self.speculate_after_ms:
            raise ValueError("0 < early_speculate_after_ms <= speculate_after_ms must hold")

    @classmethod
    def ending_after(cls, end_silence_ms: int, **settings: int) -> EndpointConfig:
        """The end confirmed after ``end_silence_ms`` of silence, recognition and the preview at their
        usual moments but never later than a third and two thirds of that silence."""
        defaults = cls()
        speculate = min(defaults.speculate_after_ms, end_silence_ms // 3)
        return cls(
            end_silence_ms=end_silence_ms,
            early_speculate_after_ms=min(defaults.early_speculate_after_ms, speculate),
            speculate_after_ms=speculate,
            preview_after_ms=min(defaults.preview_after_ms, end_silence_ms // 3 * 2),
            **settings,
        )


@dataclass(frozen=True)
class Endpoint:
    signal: Signal
    at_ms: int  # when it was decided (end of the window that decided it)
    speech_start_ms: int | None = None
    speech_end_ms: int | None = None


class Endpointer:
    def __init__(self, config: EndpointConfig | None = None) -> None:
        self.config = config or EndpointConfig()
        self.now_ms = 0
        self.start_ms: int | None = None
        self._run_ms = 0  # consecutive speech before the start is confirmed
        self._silence_ms = 0
        self._speculated = False
        self._early = False  # SPECULATE_EARLY sent in this silence
        self.done = False

    @property
    def preview_due(self) -> bool:
        """Speech was heard and the silence since is long enough to show its verdict (not yet ended)."""
        started = self.start_ms is not None and not self.done
        return started and self._silence_ms >= self.config.preview_after_ms

    @property
    def speech_end_ms(self) -> int | None:
        """When the speech heard so far ended (None: it has not started)."""
        return None if self.start_ms is None else self.now_ms - self._silence_ms

    def push(self, probability: float) -> Endpoint | None:
        """One window's speech probability; returns what it decided, if anything."""
        if self.done:
            return None
        c = self.config
        self.now_ms += FRAME_MS
        if self.start_ms is None:
            if probability >= c.speech_threshold:
                self._run_ms += FRAME_MS
                if self._run_ms >= c.min_speech_ms:
                    self.start_ms = self.now_ms - self._run_ms
                    return Endpoint(Signal.STARTED, self.now_ms, self.start_ms)
            else:
                self._run_ms = 0
            if self.now_ms >= c.no_speech_timeout_ms:
                self.done = True
                return Endpoint(Signal.NO_SPEECH, self.now_ms)
            return None
        if probability < c.silence_threshold:
            self._silence_ms += FRAME_MS
        elif self._silence_ms and probability >= c.speech_threshold:
            self._silence_ms = 0
            if self._speculated or self._early:
                self._speculated = self._early = False
                return Endpoint(Signal.RESUMED, self.now_ms, self.start_ms)
        end_ms = self.now_ms - self._silence_ms
        if self._silence_ms >= c.end_silence_ms:
            self.done = True
            return Endpoint(Signal.ENDED, self.now_ms, self.start_ms, end_ms)
        if self.now_ms - self.start_ms >= c.max_answer_ms:
            self.done = True
            return Endpoint(Signal.MAX_LENGTH, self.now_ms, self.start_ms, end_ms)
        if self._silence_ms >= c.speculate_after_ms and not self._speculated:
            self._speculated = True
            return Endpoint(Signal.SPECULATE, self.now_ms, self.start_ms, end_ms)
        early = c.early_speculate_after_ms < c.speculate_after_ms
        if early and self._silence_ms >= c.early_speculate_after_ms and not self._early:
            self._early = True
            return Endpoint(Signal.SPECULATE_EARLY, self.now_ms, self.start_ms, end_ms)
        return None
