"""ASR with Vosk (Kaldi) and a grammar: the recogniser may only output the answer phrases or ``[unk]``.

Deploy a model (e.g. ``vosk-model-small-cn-0.22`` for Mandarin) and set ``DUALSIGN_ASR=vosk`` and
``DUALSIGN_ASR_MODEL_DIR``. The grammar always holds the negative answers as well as the positive ones
(see ``application.perception.speech.answer_hints``) and ``[unk]``, so that a negative answer can never
be forced onto an acceptable phrase; without hints the recogniser runs unconstrained.
"""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from typing import Any

from dualsign.engines._lazy import LazyModel
from dualsign.engines._timeout import Deadline
from dualsign.engines.base import SAMPLE_RATE, AsrHints, Audio, Availability, Transcript
from dualsign.media.audio import float_to_pcm16


class VoskAsr:
    name = "vosk"

    def __init__(self, model_dir: Path | None, *, language: str = "zh", timeout_s: float = 15.0) -> None:
        self.model_dir = model_dir
        self.model_id = f"vosk:{model_dir.name if model_dir else '?'}"
        self.languages = frozenset({language})
        self.timeout_s = timeout_s
        self._model: LazyModel[Any] = LazyModel(
            self.name, self.is_available, self._open, lambda: str(self.model_dir)
        )
        self._deadline = Deadline(self.name, 2)

    def is_available(self) -> Availability:
        if importlib.util.find_spec("vosk") is None:
            return Availability.no("the vosk package is not installed (pip install 'dualsign[vosk]')")
        if self.model_dir is None:
            return Availability.no("no model deployed: set DUALSIGN_ASR_MODEL_DIR to a Vosk model folder")
        if not (self.model_dir / "am").is_dir() or not (self.model_dir / "conf").is_dir():
            return Availability.no(f"{self.model_dir} is not a Vosk model (needs am/ and conf/)")
        return Availability.yes(f"Vosk model at {self.model_dir}")

    def load(self) -> Any:
        return self._model.get()

    def _open(self) -> Any:
        import vosk

        vosk.SetLogLevel(-1)
        return vosk.Model(str(self.model_dir))

    def prepare(self, language: str) -> None:
        self.load()

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        model = self.load()
        started = time.perf_counter()

        def run() -> Transcript:
            import vosk

            if hints and hints.phrases:
                grammar = json.dumps([*hints.phrases, "[unk]"], ensure_ascii=False)
                rec = vosk.KaldiRecognizer(model, SAMPLE_RATE, grammar)
            else:
                rec = vosk.KaldiRecognizer(model, SAMPLE_RATE)
            rec.AcceptWaveform(float_to_pcm16(audio))
            text = str(json.loads(rec.FinalResult()).get("text", "")).replace("[unk]", "").strip()
            return Transcript.of_text(
                text,
                language=language,
                engine=self.name,
                model=self.model_id,
                audio=audio,
                compute_s=time.perf_counter() - started,
            )

        return self._deadline.run(run, self.timeout_s)
