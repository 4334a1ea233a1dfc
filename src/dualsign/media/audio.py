"""Audio decoding and conversion, done once for every engine.

Anything PyAV (FFmpeg) can read — WAV, browser recordings in webm/opus, ogg/opus, mp4/aac — becomes
16 kHz mono float32. WAV files the product writes (prompts, answer segments) are PCM 16-bit mono.
"""

from __future__ import annotations

import io
import wave

import av
import numpy as np

from dualsign.media import SAMPLE_RATE, Audio


class AudioDecodeError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot decode audio: {reason}")
        self.reason = reason


def decode(data: bytes, *, start_s: float = 0.0, end_s: float | None = None) -> Audio:
    """Decode any container/codec FFmpeg knows to 16 kHz mono float32, optionally a time window."""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise AudioDecodeError(str(exc)) from None
    with container:
        if not container.streams.audio:
            raise AudioDecodeError("no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as exc:
            raise AudioDecodeError(str(exc)) from None
    pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    audio = pcm16_to_float(pcm.astype(np.int16).tobytes())
    first = int(start_s * SAMPLE_RATE)
    last = None if end_s is None else int(end_s * SAMPLE_RATE)
    return audio[first:last]


def pcm16_to_float(pcm: bytes) -> Audio:
    """Little-endian signed 16-bit PCM (what the signer page sends) to float32 in [-1, 1]."""
    usable = len(pcm) - len(pcm) % 2
    return (np.frombuffer(pcm[:usable], dtype="<i2").astype(np.float32) / 32768.0).astype(np.float32)


def float_to_pcm16(audio: Audio) -> bytes:
    return (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def to_wav(audio: Audio, sample_rate: int = SAMPLE_RATE) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(float_to_pcm16(audio))
    return buf.getvalue()


def wav_duration(wav_bytes: bytes) -> tuple[int, float]:
    """Sample rate and duration of a PCM WAV."""
    with wave.open(io.BytesIO(wav_bytes), "rb") as w:
        return w.getframerate(), w.getnframes() / float(w.getframerate())
