"""Fake camera and microphone files for Chromium (--use-file-for-fake-video/audio-capture).

The camera file (Y4M) shows a test face photo with sensor noise on every frame (no two frames alike,
as from a real sensor), blinking and opening its mouth in a cycle, so that whichever of the two a
liveness challenge asks for happens inside its window. A segment can show another person. The
microphone file (WAV) holds espeak-ng answers at set times; Chromium loops it.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dualsign.media.audio import decode, to_wav
from tests.vision_media import H, W, edited, frame

FPS = 10
CYCLE_S = 2.0  # eyes closed 0.3–0.8 s and the mouth open 1.2–1.7 s of every cycle
# two people: the signer, nearer the camera, takes 62 % of the width (her face as large as alone) and
# opens her mouth wider (the landmarks of a face beside another measure it a little smaller: 0.31–0.33
# against 0.36 alone for the 0.3 the challenge needs)
PAIR_SHARES = (0.38, 0.62)
PAIR_GAP = 0.6


def _subsampled(c: np.ndarray) -> np.ndarray:
    """A chroma plane at half the width and height (4:2:0)."""
    out: np.ndarray = c.reshape(H // 2, 2, W // 2, 2).mean(axis=(1, 3))
    return out


def _yuv420(rgb: np.ndarray) -> bytes:
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    u = (b - y) * 0.564 + 128
    v = (r - y) * 0.713 + 128
    planes = [y, _subsampled(u), _subsampled(v)]
    return b"".join(np.clip(p, 0, 255).astype(np.uint8).tobytes() for p in planes)


def camera(path: Path, segments: Sequence[tuple[str | list[str] | None, float]]) -> Path:
    """Write a Y4M of (person, seconds) segments; person None is an empty scene. A list of people sits
    side by side: the one named first blinks and opens the mouth (the signer), the others sit still."""
    pictures: dict[tuple[str, str], object] = {}
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        i = 0
        for people, seconds in segments:
            person = people[0] if isinstance(people, list) else people
            for _ in range(int(seconds * FPS)):
                phase = (i / FPS) % CYCLE_S
                picture: object = person
                if person is not None:
                    look = "blink" if 0.3 <= phase < 0.8 else "mouth" if 1.2 <= phase < 1.7 else ""
                    if look:
                        key = (person, look)
                        if key not in pictures:
                            pictures[key] = edited(
                                person,
                                eyes_closed=look == "blink",
                                mouth_open=look == "mouth",
                                gap_share=PAIR_GAP if isinstance(people, list) else 0.45,
                            )
                        picture = pictures[key]
                shares = None
                if isinstance(people, list):  # the others first: the signer sits on the right, nearer
                    picture = [*people[1:], picture]
                    shares = PAIR_SHARES if len(people) == 2 else None
                out.write(b"FRAME\n" + _yuv420(frame(picture, seed=i, shares=shares)))  # type: ignore[arg-type]
                i += 1
    return path


def speech(text: str, tmp: Path, voice: str = "en-us") -> np.ndarray:
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
    return decode(wav.read_bytes())


def microphone(
    path: Path, answers: Sequence[tuple[float, str]], total_s: float, voice: str = "en-us"
) -> Path:
    """A 16 kHz WAV with each (time, text) answer spoken at its time, silence elsewhere."""
    audio = np.zeros(int(total_s * 16000), dtype=np.float32)
    for at, text in answers:
        clip = speech(text, path.parent, voice)
        start = int(at * 16000)
        end = min(len(audio), start + len(clip))
        audio[start:end] += clip[: end - start]
    path.write_bytes(to_wav(audio))
    return path
