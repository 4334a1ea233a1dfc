"""What the simulated pages of bench/load.py send: camera frames, the recording's 2-second webm chunks
and the spoken answer."""

from __future__ import annotations

import io
import itertools
import subprocess
from pathlib import Path

import numpy as np

from dualsign.media.audio import decode

ROOT = Path(__file__).resolve().parents[1]
FACE = ROOT / "tests" / "assets" / "faces" / "grace_hopper.jpg"
ANSWERS = {"en": ("en-us", "Yes, I agree."), "zh": ("cmn-latn-pinyin", "知道")}


def camera_frames(count: int = 24) -> list[bytes]:
    """What the page sends: 640×480 JPEGs at quality 75 of a face that moves slightly, with noise."""
    from PIL import Image

    face = Image.open(FACE).convert("RGB")
    face.thumbnail((400, 400))
    rng = np.random.default_rng(7)
    out = []
    for k in range(count):
        canvas = Image.new("RGB", (640, 480), (118, 112, 104))
        canvas.paste(face, (120 + int(12 * np.sin(k / 3)), 40 + int(6 * np.cos(k / 4))))
        pixels = np.asarray(canvas, dtype=np.int16) + rng.integers(-6, 7, (480, 640, 3))
        buffer = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=75)
        out.append(buffer.getvalue())
    return out


CLUSTER_ID = b"\x1f\x43\xb6\x75"  # a Matroska cluster: where MediaRecorder's 2 s chunks begin


def webm_chunks(jpegs: list[bytes], pcm: bytes, seconds: float = 180.0) -> list[bytes]:
    """A page's recording cut into its 2-second chunks: a live webm (VP8 at 10 fps of the camera frames,
    Opus audio with the answer spoken every 4 s), one cluster per chunk, the header with the first."""
    import av
    from PIL import Image

    pictures = [np.asarray(Image.open(io.BytesIO(j)).convert("RGB")) for j in jpegs]
    said = np.frombuffer(pcm, dtype="<i2")
    audio = np.zeros(int(seconds * 16000), dtype=np.int16)
    for start in range(16000, len(audio) - len(said), 4 * 16000):
        audio[start : start + len(said)] = said
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="webm", options={"live": "1"}) as out:
        video = out.add_stream("libvpx", rate=10)
        video.width, video.height, video.pix_fmt = 640, 480, "yuv420p"
        video.codec_context.gop_size = 20  # a key frame, so a cluster, every 2 s
        sound = out.add_stream("libopus", rate=48000, layout="mono")
        resample = av.AudioResampler(format=sound.codec_context.format.name, layout="mono", rate=48000)
        step = 16000 // 10
        for k in range(int(seconds * 10)):
            frame = av.VideoFrame.from_ndarray(pictures[k % len(pictures)], format="rgb24")
            frame.pts = k
            for packet in video.encode(frame):
                out.mux(packet)
            piece = av.AudioFrame.from_ndarray(audio[k * step : (k + 1) * step].reshape(1, -1), layout="mono")
            piece.sample_rate = 16000
            for resampled in resample.resample(piece):
                for packet in sound.encode(resampled):
                    out.mux(packet)
        for stream in (video, sound):
            for packet in stream.encode(None):
                out.mux(packet)
    data = buffer.getvalue()
    starts: list[int] = []
    at = data.find(CLUSTER_ID)
    while at != -1:
        starts.append(at)
        at = data.find(CLUSTER_ID, at + 1)
    # a chunk begins at the first cluster of each 2 s (a cluster's timecode follows its ID and size)
    bounds, slot = [0], 0
    for at in starts[1:]:
        size_len = 9 - int(data[at + 4]).bit_length()
        tc = at + 4 + size_len
        if data[tc] != 0xE7:
            continue  # those bytes only looked like a cluster ID
        ms = int.from_bytes(data[tc + 2 : tc + 2 + (data[tc + 1] & 0x7F)], "big")
        if ms // 2000 > slot:
            slot = ms // 2000
            bounds.append(at)
    bounds.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def answer_pcm(tmp: Path, lang: str = "en") -> tuple[bytes, float]:
    """The spoken answer as 16 kHz PCM, and the seconds of silence espeak-ng leaves after its last
    voiced sample (latency is counted from that sample, as in bench/answer_latency)."""
    wav = tmp / "yes.wav"
    voice, text = ANSWERS[lang]
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
    audio = decode(wav.read_bytes())
    voiced = np.flatnonzero(np.abs(audio) > 0.02)
    tail_s = (len(audio) - 1 - int(voiced[-1])) / 16000 if len(voiced) else 0.0
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes(), tail_s
