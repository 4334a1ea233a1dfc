"""The audio of every prompt the signer hears: prerecorded when the template has it, else synthesized.

Synthesized prompts are cached by a hash of (engine, voice settings, language, text): the same prompt is
rendered once and every session plays — and records as evidence — the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.application.records import RenderedPrompt
from dualsign.domain.errors import FieldProblem, InvalidInput
from dualsign.domain.event_payloads import PromptAudioItem
from dualsign.domain.session import Prompt
from dualsign.domain.templates import Template
from dualsign.engines.base import SAMPLE_RATE, TtsEngine
from dualsign.media.audio import AudioDecodeError, decode, to_wav, wav_duration


@dataclass(frozen=True)
class PromptAudio:
    role: str  # reminder | question
    sha256: str
    engine: str
    voice: str
    duration_s: float
    text: str

    def to_payload(self) -> PromptAudioItem:
        return {
            "role": self.role,
            "sha256": self.sha256,
            "engine": self.engine,
            "voice": self.voice,
            "duration_s": self.duration_s,
            "text": self.text,
        }


@dataclass(frozen=True)
class StoredRecording:
    sha256: str
    duration_s: float


def store_prompt_recording(blobs: BlobStore, data: bytes, field: str = "body") -> StoredRecording:
    """An operator's recording of a prompt, normalised to the WAV the signer page plays."""
    try:
        audio = decode(data)
    except AudioDecodeError as exc:
        raise InvalidInput([FieldProblem(field, f"not audio FFmpeg can read: {exc.reason}")]) from None
    seconds = len(audio) / SAMPLE_RATE
    if not 0.3 <= seconds <= 120:
        raise InvalidInput(
            [FieldProblem(field, f"a prompt must last 0.3 to 120 s, this one {seconds:.1f} s")]
        )
    ref = blobs.put(to_wav(audio))
    return StoredRecording(ref.sha256, round(seconds, 3))


_RECORDING_SECONDS: dict[str, float] = {}  # by digest: content-addressed, so never stale


def recording_seconds(blobs: BlobStore, sha256: str) -> float:
    """How long an operator's stored prompt recording plays (known to the playback check)."""
    if sha256 not in _RECORDING_SECONDS:
        _RECORDING_SECONDS[sha256] = round(wav_duration(blobs.get(sha256))[1], 3)
    return _RECORDING_SECONDS[sha256]


def render_text(
    uow: UnitOfWork,
    blobs: BlobStore,
    tts: TtsEngine,
    clock: Clock,
    text: str,
    language: str,
    rate: float,
    role: str,
) -> PromptAudio:
    """Synthesized audio for ``text`` (cached). Call inside an open unit of work."""
    key = hashlib.sha256(f"{tts.name}\x1f{language}\x1f{rate:.3f}\x1f{text}".encode()).hexdigest()
    cached = uow.prompts.get(key)
    if cached is not None and blobs.exists(cached.sha256):
        return PromptAudio(role, cached.sha256, cached.engine, cached.voice, cached.duration_s, text)
    spoken = tts.synthesize(text, language, rate=rate)
    ref = blobs.put(spoken.wav)
    uow.prompts.add(
        RenderedPrompt(key, ref.sha256, spoken.engine, spoken.voice, spoken.duration_s, clock.now())
    )
    return PromptAudio(role, ref.sha256, spoken.engine, spoken.voice, spoken.duration_s, text)


def render_prompt(
    uow: UnitOfWork,
    blobs: BlobStore,
    tts: TtsEngine,
    clock: Clock,
    template: Template,
    prompt: Prompt,
    *,
    rate: float | None = None,
) -> list[PromptAudio]:
    """What to play for ``prompt``, in order: the reminder (on a re-ask), then the question."""
    speed = rate if rate is not None else template.speech.speech_rate
    lang = template.language.value
    parts: list[PromptAudio] = []
    if prompt.reminder:
        parts.append(render_text(uow, blobs, tts, clock, prompt.reminder, lang, speed, "reminder"))
    recorded = template.question(prompt.question_id).prompt_audio
    if recorded and blobs.exists(recorded):
        seconds = recording_seconds(blobs, recorded)
        parts.append(
            PromptAudio(
                "question", recorded, "prerecorded", "operator recording", seconds, prompt.question_text
            )
        )
    else:
        parts.append(render_text(uow, blobs, tts, clock, prompt.question_text, lang, speed, "question"))
    return parts
