"""Text to speech with espeak-ng (Debian package ``espeak-ng``).

Mandarin uses the ``cmn-latn-pinyin`` voice: Debian 12's ``cmn`` voice switches to English for some
characters (道 is read as the English word for its tone digit), which ``espeak-ng -x`` shows as an
``(en)`` switch in the phonemes; ``cmn-latn-pinyin`` reads the characters as Mandarin (a test checks the
phonemes). English uses ``en-us``. espeak-ng is a robotic voice: production Mandarin prompts should be
prerecorded or come from a licensed voice (templates and operators can attach recordings).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from dualsign.engines.base import Availability, EngineFailed, EngineUnavailable, SpokenPrompt
from dualsign.media.audio import wav_duration

VOICES = {"zh-CN": "cmn-latn-pinyin", "en-US": "en-us"}
BASE_WPM = {"zh-CN": 150, "en-US": 160}


class EspeakTts:
    name = "espeak-ng"

    def __init__(self, binary: str = "espeak-ng", timeout_s: float = 20.0) -> None:
        self.binary = binary
        self.timeout_s = timeout_s

    def _path(self) -> str | None:
        return shutil.which(self.binary)

    def is_available(self) -> Availability:
        path = self._path()
        if path is None:
            return Availability.no("espeak-ng is not installed (apt-get install espeak-ng)")
        return Availability.yes(f"{path}; voices {', '.join(sorted(VOICES.values()))}")

    def voice(self, language: str) -> str:
        return VOICES.get(language, VOICES["en-US"])

    def synthesize(self, text: str, language: str, *, rate: float = 1.0) -> SpokenPrompt:
        path = self._path()
        if path is None:
            raise EngineUnavailable(self.name, "espeak-ng is not installed")
        voice = self.voice(language)
        wpm = max(80, int(BASE_WPM.get(language, 160) * rate))
        with tempfile.TemporaryDirectory(prefix="dualsign-tts-") as tmp:
            out = Path(tmp) / "prompt.wav"
            try:
                done = subprocess.run(  # noqa: S603 (a fixed binary, text on stdin, no shell)
                    [path, "-v", voice, "-s", str(wpm), "-w", str(out), "--stdin"],
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=self.timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise EngineFailed(self.name, f"no audio within {self.timeout_s} s") from None
            wav = out.read_bytes() if out.exists() else b""
        if done.returncode != 0 or not wav.startswith(b"RIFF"):
            raise EngineFailed(self.name, done.stderr.decode("utf-8", "replace").strip() or "no audio")
        rate_hz, duration = wav_duration(wav)
        return SpokenPrompt(
            wav=wav,
            sample_rate=rate_hz,
            duration_s=round(duration, 3),
            engine=self.name,
            voice=f"{voice}@{wpm}wpm",
        )
