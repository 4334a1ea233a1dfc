"""Voice activity with Silero VAD: the ONNX model shipped in faster-whisper's assets, run by onnxruntime.

faster-whisper only scores a whole recording at once; answers arrive live, so this adapter runs the same
model one 32 ms window at a time, carrying the recurrent state and the 64-sample context between calls
(the per-window probabilities equal faster-whisper's batch scores: a test checks it). No torch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from dualsign.engines._lazy import LazyModel
from dualsign.engines.base import VAD_FRAME, Audio, Availability

CONTEXT = 64


def silero_model_path() -> Path | None:
    spec = importlib.util.find_spec("faster_whisper")
    if spec is None or not spec.submodule_search_locations:
        return None
    assets = Path(next(iter(spec.submodule_search_locations))) / "assets"
    found = sorted(assets.glob("silero_vad*.onnx"))
    return found[-1] if found else None


class SileroVad:
    name = "silero"

    def __init__(self, model_path: Path | None = None) -> None:
        self.model_path = model_path or silero_model_path()
        self._session: LazyModel[Any] = LazyModel(self.name, self.is_available, self._open)

    def is_available(self) -> Availability:
        if importlib.util.find_spec("onnxruntime") is None:
            return Availability.no("onnxruntime is not installed")
        if self.model_path is None or not self.model_path.exists():
            return Availability.no(
                "the Silero VAD model ships with faster-whisper: pip install faster-whisper"
            )
        return Availability.yes(f"{self.model_path.name} (faster-whisper assets)")

    def _load(self) -> Any:
        return self._session.get()

    def _open(self) -> Any:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 4
        return onnxruntime.InferenceSession(
            str(self.model_path), providers=["CPUExecutionProvider"], sess_options=opts
        )

    def stream(self) -> SileroStream:
        return SileroStream(self._load())


class SileroStream:
    def __init__(self, session: Any) -> None:
        self._session = session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def feed(self, samples: Audio) -> list[float]:
        buf = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        whole = len(buf) - len(buf) % VAD_FRAME
        probs: list[float] = []
        for start in range(0, whole, VAD_FRAME):
            window = buf[start : start + VAD_FRAME]
            x = np.concatenate([self._context, window])[None, :]
            out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
            probs.append(float(np.asarray(out).reshape(-1)[0]))
            self._context = window[-CONTEXT:]
        self._pending = buf[whole:]
        return probs
