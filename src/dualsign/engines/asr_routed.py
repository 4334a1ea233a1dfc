"""One recogniser per language, behind the one ASR port: the bundled default.

English answers go to Whisper tiny.en, Mandarin (and any other language) to the multilingual Whisper
base; each engine loads its model on first use, so an English-only deployment never loads base.
"""

from __future__ import annotations

from collections.abc import Mapping

from dualsign.engines.base import AsrEngine, AsrHints, Audio, Availability, Transcript


class LanguageRoutedAsr:
    def __init__(self, name: str, engines: Mapping[str, AsrEngine], fallback: str) -> None:
        if fallback not in engines:
            raise ValueError(f"fallback language {fallback!r} has no engine")
        self.name = name
        self._engines = dict(engines)
        self._fallback = fallback
        self.model_id = " · ".join(f"{lang}: {e.model_id}" for lang, e in self._engines.items())
        self.languages = frozenset(self._engines)

    def engine_for(self, language: str) -> AsrEngine:
        return self._engines.get(language, self._engines[self._fallback])

    def is_available(self) -> Availability:
        found = []
        for lang, engine in self._engines.items():
            status = engine.is_available()
            if not status.ok:
                return Availability.no(f"{lang}: {status.reason}")
            found.append(f"{lang}: {status.reason}")
        return Availability.yes("; ".join(found))

    def prepare(self, language: str) -> None:
        self.engine_for(language).prepare(language)

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        return self.engine_for(language).transcribe(audio, language=language, hints=hints)
