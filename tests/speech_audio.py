"""Real audio for speech tests: espeak-ng speech, silence, noise — 16 kHz mono float32."""

from __future__ import annotations

from functools import cache
from typing import Any

import av
import numpy as np

from dualsign.engines.base import SAMPLE_RATE, Audio
from dualsign.engines.tts_espeak import EspeakTts
from dualsign.media.audio import decode, float_to_pcm16

TTS = EspeakTts()


@cache
def _spoken(text: str, language: str) -> bytes:
    return TTS.synthesize(text, language).wav


def speech(text: str, language: str = "en-US") -> Audio:
    return decode(_spoken(text, language))


def silence(seconds: float) -> Audio:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def noise(seconds: float, level: float = 0.02, seed: int = 7) -> Audio:
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(int(seconds * SAMPLE_RATE)) * level).astype(np.float32)


def answer(text: str, language: str = "en-US", lead: float = 0.5, tail: float = 1.5) -> Audio:
    """An answer as the microphone hears it: a pause, the words, then silence."""
    return np.concatenate([silence(lead), speech(text, language), silence(tail)])


def frames(audio: Audio, ms: int = 100) -> list[bytes]:
    """The audio as the signer page sends it: int16 little-endian chunks."""
    step = SAMPLE_RATE * ms // 1000
    return [b"A" + float_to_pcm16(audio[i : i + step]) for i in range(0, len(audio), step)]


def mux_audio(out: Any, audio: Audio, codec: str, rate: int) -> None:
    """Encode ``audio`` into a new mono stream of the open PyAV container ``out`` (as a browser's
    MediaRecorder would: Opus at 48 kHz, AAC at 44.1 kHz)."""
    stream = out.add_stream(codec, rate=rate, layout="mono")
    resampler = av.AudioResampler(format=stream.codec_context.format.name, layout="mono", rate=rate)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16).reshape(1, -1)
    frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    for resampled in resampler.resample(frame):
        for packet in stream.encode(resampled):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
