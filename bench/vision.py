"""Vision throughput: frames/s per core, embedding latency, concurrent live sessions at 2 fps.

Frames are 640×480 camera-like images made from the public-domain test photos (tests/vision_media.py).
Measured on this machine with the default dlib engines:

1. detect + count + 68 landmarks per frame, one thread → frames/s per core;
2. embedding + compare latency;
3. N simulated sessions, each sending a frame every 0.5 s (random phase) into the service's monitoring
   path (``LiveMonitor.observe``: detect every frame, embed about once a second) on a pool of 2 worker
   threads; per-frame latency = done − sent. The largest N whose p95 stays under 500 ms is reported;
4. side by side, a naive configuration (detect at full resolution with upsampling, embed every frame).

Run: ``.venv/bin/python bench/vision.py [--seconds 10] [--sessions 8,16,24,32,40]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.vision_media import FACES, frame

from dualsign.application.perception.vision import LiveMonitor, analyze, reference_embedding
from dualsign.domain.templates import Monitoring
from dualsign.engines.face_dlib import DlibEmbedder, DlibFaceDetector, DlibLandmarks
from dualsign.engines.vision_base import VisionEngines

DEFAULT = VisionEngines(DlibFaceDetector(), DlibFaceDetector(800, 1), DlibLandmarks(), DlibEmbedder())
NAIVE = VisionEngines(
    DlibFaceDetector(detect_width=640, upsample=1), DlibFaceDetector(800, 1), DlibLandmarks(), DlibEmbedder()
)


def per_frame(engines: VisionEngines, images: list[np.ndarray], **kw: bool) -> float:
    start = time.perf_counter()
    for im in images:
        analyze(im, engines, **kw)
    return (time.perf_counter() - start) / len(images)


def simulate(
    n: int,
    seconds: float,
    engines: VisionEngines,
    embed_every_s: float,
    images: list[np.ndarray],
    reference: object,
) -> tuple[float, float, float]:
    pool = ThreadPoolExecutor(max_workers=2)
    monitors = [LiveMonitor(Monitoring(), engines, reference, embed_every_s=embed_every_s) for _ in range(n)]  # type: ignore[arg-type]
    locks = [threading.Lock() for _ in range(n)]
    rng = random.Random(1)
    schedule = sorted(
        (phase + k * 0.5, s)
        for s in range(n)
        for phase in [rng.uniform(0, 0.5)]
        for k in range(int(seconds * 2))
    )
    latencies: list[float] = []
    done = threading.Lock()
    t0 = time.perf_counter()
    cpu0 = time.process_time()

    def work(session: int, due: float, index: int) -> None:
        with locks[session]:  # a session's frames show one person moving a little, as in a real session
            monitors[session].observe(images[(session * 7 + index) % len(images)], due)
        with done:
            latencies.append(time.perf_counter() - (t0 + due))

    futures = []
    for i, (due, session) in enumerate(schedule):
        pause = t0 + due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        futures.append(pool.submit(work, session, due, i))
    for f in futures:
        f.result()
    wall = time.perf_counter() - t0
    pool.shutdown()
    cpu = (time.process_time() - cpu0) / wall
    return float(np.percentile(latencies, 50)), float(np.percentile(latencies, 95)), cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--sessions", default="8,16,24,32,40")
    args = parser.parse_args()
    images = [frame("obama2", seed=i, dx=(i % 7) * 3 - 9, dy=(i % 5) * 2) for i in range(30)]
    reference = reference_embedding((FACES / "obama.jpg").read_bytes(), DEFAULT)
    analyze(images[0], DEFAULT, landmarks=True, embed=True)  # load the models
    fast = per_frame(DEFAULT, images, landmarks=True)
    naive = per_frame(NAIVE, images[:10], landmarks=True)
    print("640×480 frames, one thread:")
    print(
        f"  detect + count + 68 landmarks: {fast * 1000:.1f} ms/frame = {1 / fast:.0f} frames/s per core "
        f"(naive full-resolution upsampled detection: {naive * 1000:.1f} ms, {naive / fast:.1f}× slower)"
    )
    emb_start = time.perf_counter()
    for im in images[:10]:
        a = analyze(im, DEFAULT, embed=True)
        assert a.embedding is not None
        a.embedding.distance(reference)
    emb = (time.perf_counter() - emb_start) / 10 - fast
    print(f"  embedding + compare: {emb * 1000:.1f} ms")
    print(
        f"\nsimulated sessions at 2 fps on 2 worker threads, {args.seconds:.0f} s each (target p95 < 500 ms):"
    )
    best = 0
    for n in (int(x) for x in args.sessions.split(",")):
        p50, p95, cpu = simulate(n, args.seconds, DEFAULT, 3.0, images, reference)
        ok = p95 < 0.5
        best = n if ok else best
        print(
            f"  {n:3d} sessions: p50 {p50 * 1000:6.0f} ms, p95 {p95 * 1000:6.0f} ms, CPU {cpu:.2f} cores  "
            f"{'ok' if ok else 'over'}"
        )
    print(f"\nlargest tested count within target: {best} sessions")
    p50, p95, cpu = simulate(16, args.seconds, NAIVE, 0.0, images, reference)
    print(
        f"naive (full-resolution detection, embedding every frame), 16 sessions: p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, CPU {cpu:.2f} cores"
    )
    print(
        f"per-session CPU, default: {(2 * fast + emb / 3) * 1000:.0f} ms/s (2 frames, an embedding every 3 s "
        f"or when the face changes); embedding share {emb / 3 / (2 * fast + emb / 3):.0%}"
    )


if __name__ == "__main__":
    main()
