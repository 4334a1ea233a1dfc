"""Post-hoc analysis cost: what re-checking a closed recording takes, per minute recorded.

Builds a recording as the page uploads it (webm: VP8 video of the test face at 15 fps with sensor noise,
Opus audio with an espeak-ng "Yes, I agree." every 20 s) and runs what the ``analyse_recording`` job
runs, with the default engines (Silero VAD, Whisper tiny.en, dlib): every answer window re-recognised,
and the face-monitoring rules over the frames at the template's 2 fps. Side by side, the baseline: only
decoding the same recording (audio, and video frames at 2 fps).

Printed: recorded seconds, answers, frames, wall and CPU seconds of each part and of the decode-only
baseline, and CPU seconds per recorded minute (what sizes the workers: a 2-core worker re-checks
about 120 / that many recorded minutes a minute).

Run: ``.venv/bin/python bench/post_hoc.py [--minutes 2]``.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from proc_cpu import children_cpu, cpu_seconds
from tests.speech_audio import mux_audio, silence, speech
from tests.vision_media import FACES, H, W, frame

from dualsign.application.perception.vision import reference_embedding
from dualsign.application.qc.rerecognition import rerecognize
from dualsign.application.qc.video_analysis import analyze_recording
from dualsign.domain.recording_time import AnswerWindow
from dualsign.domain.templates import parse_template
from dualsign.engines.asr_faster_whisper import FasterWhisperAsr
from dualsign.engines.registry import VisionSettings, build_vision
from dualsign.engines.vad_silero import SileroVad
from dualsign.media.audio import decode
from dualsign.media.video import sample_frames

FPS = 15
ANSWER_EVERY_S = 20.0
TEMPLATE = parse_template(
    {
        "key": "bench-post-hoc",
        "title": "post-hoc bench",
        "scenario": "other",
        "language": "en-US",
        "consent": {"recording": "Recorded.", "biometric": "Your face is watched."},
        "identity": {"required": False},
        "liveness": {"required": False},
        "questions": [
            {"id": "q", "category": "other", "prompt": "Do you agree?", "acceptable": ["yes", "I agree"]}
        ],
    },
    "bench",
)


def recording(seconds: float) -> tuple[bytes, list[AnswerWindow]]:
    said = speech("Yes, I agree.")
    audio = silence(seconds)
    windows = []
    t = ANSWER_EVERY_S - 5
    while t + 3 < seconds:
        start = int(t * 16000)
        audio[start : start + len(said)] = said[: len(audio) - start]
        windows.append(AnswerWindow("q", len(windows) + 1, t - 2.0, t + len(said) / 16000 + 1.0, "ACCEPT"))
        t += ANSWER_EVERY_S
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="webm") as out:
        video = out.add_stream("libvpx", rate=FPS)
        video.width, video.height, video.pix_fmt = W, H, "yuv420p"
        mux_audio(out, audio, "libopus", 48000)
        pictures = [frame("grace_hopper", seed, dx=seed % 5) for seed in range(8)]
        for i in range(int(seconds * FPS)):
            for packet in video.encode(av.VideoFrame.from_ndarray(pictures[i % 8], format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    return buf.getvalue(), windows


def tree_cpu() -> float:
    """CPU seconds of this process and its children (the dlib descriptor runs in a child process)."""
    return cpu_seconds(os.getpid()) + children_cpu(os.getpid())


def measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), tree_cpu()
    result = fn()
    return result, time.perf_counter() - wall, tree_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    seconds = args.minutes * 60
    data, windows = recording(seconds)
    vad, asr = SileroVad(), FasterWhisperAsr()
    vision = build_vision(VisionSettings(face="dlib", landmarks="dlib", landmarks_model=None))
    reference = reference_embedding((FACES / "grace_hopper.jpg").read_bytes(), vision)
    rerecognize(data, windows[:1], TEMPLATE, vad, asr)  # models loaded before timing

    _, dec_a_wall, dec_a_cpu = measure(lambda: decode(data))
    frames, dec_v_wall, dec_v_cpu = measure(lambda: sum(1 for _ in sample_frames(data, fps=2.0)))
    heard, ans_wall, ans_cpu = measure(lambda: rerecognize(data, windows, TEMPLATE, vad, asr))
    seen, face_wall, face_cpu = measure(lambda: analyze_recording(data, TEMPLATE, vision, reference))
    accepted = sum(1 for r in heard if r.result is not None and r.result.verdict.value == "ACCEPT")
    per_minute = (ans_cpu + face_cpu) / args.minutes
    print(f"recording            {seconds:.0f} s, {len(data) / 1e6:.1f} MB webm, {FPS} fps video")
    print(f"answers re-heard     {len(heard)} windows, {accepted} ACCEPT")
    looked = getattr(seen, "looked_at", seen.frames)  # code from before the every-other-frame look: all
    print(f"frames analysed      {seen.frames}, faces detected on {looked} (decoded at 2 fps: {frames})")
    print(f"decode audio         {dec_a_wall:.2f} s wall, {dec_a_cpu:.2f} s CPU (baseline)")
    print(f"decode video, 2 fps  {dec_v_wall:.2f} s wall, {dec_v_cpu:.2f} s CPU (baseline)")
    print(f"answers (VAD+ASR)    {ans_wall:.2f} s wall, {ans_cpu:.2f} s CPU")
    print(f"faces (2 fps)        {face_wall:.2f} s wall, {face_cpu:.2f} s CPU")
    print(f"analysis / decode    {(ans_cpu + face_cpu) / max(dec_a_cpu + dec_v_cpu, 1e-6):.1f}x CPU")
    print(
        f"per recorded minute  {per_minute:.2f} CPU-s (faces {face_cpu / args.minutes:.2f}); "
        f"realtime factor {(ans_wall + face_wall) / seconds:.3f}; load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
