"""Mandarin ASR with sherpa-onnx (k2-fsa), offline models on CPU.

No Mandarin model ships in any package registry, so the model is deployed by the operator:

- SenseVoice (zh/en/ja/ko/yue, recommended): download ``sherpa-onnx-sense-voice-zh-en-ja-ko-yue-*``
  from the k2-fsa sherpa-onnx releases, unpack, set ``DUALSIGN_ASR=sherpa-onnx`` and
  ``DUALSIGN_ASR_MODEL_DIR`` to the folder holding ``model.int8.onnx`` (or ``model.onnx``) and
  ``tokens.txt``.
- Paraformer (zh): ``sherpa-onnx-paraformer-zh-*``; the folder holds ``model.int8.onnx`` and
  ``tokens.txt`` and a file named ``paraformer`` (empty) or ``DUALSIGN_ASR_SHERPA_KIND=paraformer``.

The keyword spotter of sherpa-onnx is deliberately not offered as an answer recogniser: spotting "知道"
also fires inside "不知道", which is exactly the false ACCEPT this product must never make.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

from dualsign.engines._lazy import LazyModel
from dualsign.engines._timeout import Deadline
from dualsign.engines.base import SAMPLE_RATE, AsrHints, Audio, Availability, Transcript


def _model_file(folder: Path) -> Path | None:
    for name in ("model.int8.onnx", "model.onnx"):
        if (folder / name).exists():
            return folder / name
    return None


class SherpaOnnxAsr:
    name = "sherpa-onnx"

    def __init__(
        self, model_dir: Path | None, *, kind: str = "sense_voice", threads: int = 2, timeout_s: float = 15.0
    ) -> None:
        self.model_dir = model_dir
        self.kind = "paraformer" if model_dir and (model_dir / "paraformer").exists() else kind
        self.threads = threads
        self.timeout_s = timeout_s
        self.model_id = f"sherpa-onnx:{self.kind}:{model_dir.name if model_dir else '?'}"
        self.languages = frozenset({"zh", "en"}) if self.kind == "sense_voice" else frozenset({"zh"})
        self._recognizer: LazyModel[Any] = LazyModel(
            self.name,
            self.is_available,
            self._open,
            lambda: str(_model_file(self.model_dir)) if self.model_dir else "?",
        )
        self._deadline = Deadline(self.name, 2)

    def is_available(self) -> Availability:
        if importlib.util.find_spec("sherpa_onnx") is None:
            return Availability.no(
                "the sherpa-onnx package is not installed (pip install 'dualsign[sherpa]')"
            )
        if self.model_dir is None:
            return Availability.no(
                "no model deployed: set DUALSIGN_ASR_MODEL_DIR to a SenseVoice or "
                "Paraformer folder (see docs/speech.md)"
            )
        if not self.model_dir.is_dir():
            return Availability.no(f"model folder {self.model_dir} does not exist")
        if _model_file(self.model_dir) is None or not (self.model_dir / "tokens.txt").exists():
            return Availability.no(f"{self.model_dir} needs model.int8.onnx (or model.onnx) and tokens.txt")
        return Availability.yes(f"{self.kind} model at {self.model_dir}")

    def load(self) -> Any:
        return self._recognizer.get()

    def _open(self) -> Any:
        import sherpa_onnx

        assert self.model_dir is not None  # noqa: S101 (is_available checked it)
        model = str(_model_file(self.model_dir))
        tokens = str(self.model_dir / "tokens.txt")
        if self.kind == "paraformer":
            return sherpa_onnx.OfflineRecognizer.from_paraformer(
                paraformer=model, tokens=tokens, num_threads=self.threads
            )
        return sherpa_onnx.OfflineRecognizer.from_sense_voice(
            model=model, tokens=tokens, num_threads=self.threads, use_itn=True
        )

    def prepare(self, language: str) -> None:
        self.load()

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        recognizer = self.load()
        started = time.perf_counter()

        def run() -> Transcript:
            stream = recognizer.create_stream()
            stream.accept_waveform(SAMPLE_RATE, audio)
            recognizer.decode_stream(stream)
            text = str(stream.result.text).strip()
            return Transcript.of_text(
                text,
                language=language,
                engine=self.name,
                model=self.model_id,
                audio=audio,
                compute_s=time.perf_counter() - started,
            )

        return self._deadline.run(run, self.timeout_s)
