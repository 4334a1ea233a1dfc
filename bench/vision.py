"""Vision throughput: frames/s per core, embedding latency, concurrent live sessions at 2 fps.

Frames are 640×480 camera-like images made from the public-domain test photos (tests/vision_media.py).
Measured on this machine with the default dlib engines:

1. detect + count + 68 landmarks per frame, one thread → frames/s per core;
2. embedding + compare latency;
3. N simulated sessions, each sending a frame every 0.5 s (random phase) into the service's monitoring
   path (``LiveMonitor.observe``: detect every frame, embed when the face may have changed) on as many
   worker threads as the service's live-vision pool has; per-frame latency = done − sent. Two ways to
   begin: all N sessions in the same half second (the burst: every session's first comparison, ~70 ms
   of descriptor each, at once), and live sessions as a service has them (``--ramp``: each session
   begins at a random moment of the first R seconds, and the latencies are those of the ``--seconds``
   that follow, while all N are live). CPU is this process's and its children's (the face worker
   processes), per wall second (cores) and per session-second; the load average is printed beside each
   figure (other work on the machine);
4. side by side, a naive configuration (detect at full resolution with upsampling, embed every frame).

The same file runs against another checkout's code (``PYTHONPATH=<checkout>/src``): what that code
lacks (the face worker pool, the embedding counter) is left out, so old and new print side by side.

Run: ``.venv/bin/python bench/vision.py [--seconds 10] [--ramp 10] [--sessions 8,16,24,32,40] [--repeat 1]``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from proc_cpu import children_cpu, cpu_seconds
from tests.vision_media import FACES, frame

from dualsign.application.perception.vision import LiveMonitor, analyze, reference_embedding
from dualsign.domain.templates import Monitoring
from dualsign.engines.face_dlib import DlibEmbedder, DlibFaceDetector, DlibLandmarks
from dualsign.engines.vision_base import VisionEngines

try:  # the service's live-vision threads: two per core since the face worker pool
    from dualsign.runtime import usable_cores

    THREADS = 2 * usable_cores()
except ImportError:  # code from before the pool: two threads
    THREADS = 2


class Counted:
    """The embedder, counting its embeddings (the code before the counter had none to read)."""

    def __init__(self, inner: DlibEmbedder) -> None:
        self.inner = inner
        self.calls = 0
        self._lock = threading.Lock()

    def embed(self, image: np.ndarray, box: object) -> object:
        with self._lock:
            self.calls += 1
        return self.inner.embed(image, box)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


EMBEDDER = Counted(DlibEmbedder())
DEFAULT = VisionEngines(DlibFaceDetector(), DlibFaceDetector(800, 1), DlibLandmarks(), EMBEDDER)  # type: ignore[arg-type]
NAIVE = VisionEngines(
    DlibFaceDetector(detect_width=640, upsample=1),
    DlibFaceDetector(800, 1),
    DlibLandmarks(),
    EMBEDDER,  # type: ignore[arg-type]
)


def per_frame(engines: VisionEngines, images: list[np.ndarray], **kw: bool) -> float:
    start = time.perf_counter()
    for im in images:
        analyze(im, engines, **kw)
    return (time.perf_counter() - start) / len(images)


def detections_per_s(images: list[np.ndarray], threads: int, per_thread: int = 40) -> float:
    """Detections a second with ``threads`` threads detecting at once (GIL, one process or several)."""

    def work(k: int) -> None:
        for i in range(per_thread):
            DEFAULT.detector.detect(images[(k * per_thread + i) % len(images)])

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(work, range(threads)))
    return threads * per_thread / (time.perf_counter() - start)


def tree_cpu() -> float:
    """CPU seconds of this process and its children (the face worker processes)."""
    return cpu_seconds(os.getpid()) + children_cpu(os.getpid())


class Run:
    """One simulation: latencies, CPU per wall second (cores) and per session-second of frames sent
    (every frame is analysed, however late, so the second does not depend on the machine's load)."""

    def __init__(
        self,
        n: int,
        session_seconds: float,
        latencies: list[float],
        wall: float,
        cpu: float,
        monitors: list[LiveMonitor],
        embeddings: int,
    ):
        self.n = n
        self.p50 = float(np.percentile(latencies, 50))
        self.p95 = float(np.percentile(latencies, 95))
        self.cores = cpu / wall
        self.ms_per_session_s = cpu / session_seconds * 1000
        self.embeds = embeddings / session_seconds
        self.warnings = sum(sum(m.monitor.stats.warnings.values()) for m in monitors)
        self.load = os.getloadavg()[0]

    def line(self) -> str:
        return (
            f"{self.n:3d} sessions: p50 {self.p50 * 1000:6.0f} ms, p95 {self.p95 * 1000:6.0f} ms, "
            f"CPU {self.cores:.2f} cores = {self.ms_per_session_s:4.1f} ms per session-second, "
            f"embeddings/session-s {self.embeds:.2f}, warnings {self.warnings}, load {self.load:.2f}  "
            f"{'ok' if self.p95 < 0.5 else 'over'}"
        )


def simulate(
    n: int,
    seconds: float,
    engines: VisionEngines,
    embed_every_s: float | None,
    images: list[np.ndarray],
    reference: object,
    ramp: float = 0.0,
) -> Run:
    """Sessions begin at random moments of the first ``ramp`` seconds (0: in the same half second)
    and send frames until ``ramp + seconds``; the latencies are those of frames sent after ``ramp``."""
    pool = ThreadPoolExecutor(max_workers=THREADS)
    every = {} if embed_every_s is None else {"embed_every_s": embed_every_s}
    monitors = [LiveMonitor(Monitoring(), engines, reference, **every) for _ in range(n)]  # type: ignore[arg-type]
    locks = [threading.Lock() for _ in range(n)]
    rng = random.Random(1)
    begins = [rng.uniform(0, max(ramp, 0.5)) for _ in range(n)]
    schedule = sorted(
        (begin + k * 0.5, s)
        for s, begin in enumerate(begins)
        for k in range(int((ramp + seconds - begin) * 2))
    )
    latencies: list[float] = []
    done = threading.Lock()
    t0 = time.perf_counter()
    cpu0 = tree_cpu()
    calls0 = EMBEDDER.calls

    def work(session: int, due: float, index: int) -> None:
        with locks[session]:  # a session's frames show one person moving a little, as in a real session
            monitors[session].observe(images[(session * 7 + index) % len(images)], due)
        with done:
            if due >= ramp:
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
    sent = len(schedule) * 0.5  # session-seconds of frames
    return Run(n, sent, latencies, wall, tree_cpu() - cpu0, monitors, EMBEDDER.calls - calls0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--ramp",
        type=float,
        default=10.0,
        help="sessions begin over this many seconds before the measured ones",
    )
    parser.add_argument("--sessions", default="8,16,24,32,40")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--naive", action="store_true", help="also the naive configuration at 16 sessions")
    parser.add_argument(
        "--nice",
        type=int,
        default=None,
        help="CPU priority of the face processes instead of the service's +5 (on a machine others load)",
    )
    args = parser.parse_args()
    if args.nice is not None:  # the face worker processes (or, before them, the descriptor process)
        for module in ("dualsign.engines.face_pool", "dualsign.engines.face_dlib"):
            target = sys.modules.get(module)
            if target is not None and hasattr(target, "BACKGROUND_NICE"):
                target.BACKGROUND_NICE = args.nice
    images = [frame("obama2", seed=i, dx=(i % 7) * 3 - 9, dy=(i % 5) * 2) for i in range(30)]
    reference = reference_embedding((FACES / "obama.jpg").read_bytes(), DEFAULT)
    for im in images[:4]:  # load the models (in every face worker process)
        analyze(im, DEFAULT, landmarks=True, embed=True)
    fast = per_frame(DEFAULT, images, landmarks=True)
    nice = "+5" if args.nice is None else f"{args.nice:+d}"
    code = Path(sys.modules["dualsign"].__file__ or "").parents[1]
    print(f"code: {code}, {THREADS} frame threads, face processes at nice {nice}")
    print(f"640×480 frames, one thread (load {os.getloadavg()[0]:.2f}):")
    print(f"  detect + count + 68 landmarks: {fast * 1000:.1f} ms/frame = {1 / fast:.0f} frames/s")
    alone = detections_per_s(images, 1)
    side_by_side = detections_per_s(images, THREADS)
    print(
        f"  detections/s: {alone:.0f} on 1 thread, {side_by_side:.0f} on {THREADS} threads at once "
        f"({side_by_side / alone:.2f}×: what the threads can do together; 1× is one at a time)"
    )
    emb_start = time.perf_counter()
    for im in images[:10]:
        a = analyze(im, DEFAULT, embed=True)
        assert a.embedding is not None
        a.embedding.distance(reference)
    emb = (time.perf_counter() - emb_start) / 10 - fast
    print(f"  embedding + compare: {emb * 1000:.1f} ms")
    counts = [int(x) for x in args.sessions.split(",")]
    print(
        f"\nsimulated sessions at 2 fps on {THREADS} worker threads (target p95 < 500 ms), live: each "
        f"began at a random moment of {args.ramp:.0f} s, then {args.seconds:.0f} s measured:"
    )
    best = 0
    for _ in range(args.repeat):
        for n in counts:
            run = simulate(n, args.seconds, DEFAULT, None, images, reference, ramp=args.ramp)
            best = max(best, n) if run.p95 < 0.5 else best
            print("  " + run.line(), flush=True)
    print(f"largest tested count within target: {best} sessions")
    print(f"\nall sessions beginning in the same half second, their first {args.seconds:.0f} s:")
    for _ in range(args.repeat):
        for n in counts:
            print("  " + simulate(n, args.seconds, DEFAULT, None, images, reference).line(), flush=True)
    if args.naive:
        run = simulate(16, args.seconds, NAIVE, 0.0, images, reference)
        print("naive (full-resolution detection, embedding every frame): " + run.line())


if __name__ == "__main__":
    main()
