"""The face worker processes of the dlib engines: HOG detection and ResNet descriptors off the server's
interpreter, one process per core.

dlib holds the GIL for the whole of a detection (~7 ms for a live frame) and of a descriptor (~60–140 ms
a face): run in the server's threads, frames of every session queue behind one interpreter and one core,
whatever the machine has. Before this pool, two threads detecting at once did 0.93× the detections
of one (bench/vision.py; 2.06× through the pool), and one descriptor process behind one lock served
every session: the frame threads waited on it while a core idled.

``FacePool`` keeps ``size`` child processes (``python -m dualsign.engines.face_worker NICE``, at the
background priority of the live frames' threads), started on first use. A call takes an idle child (or
waits for one: a thread marked by ``runtime.defer_to_live_work``, the job worker re-checking a closed
recording, gets one only while no other caller waits, or once it has waited ``MAX_DEFER_S``), writes one
request, reads one answer and gives the child back; a child that died, hung
past the timeout or answered garbage is killed and replaced on the next call, and the call fails with
``EngineFailed``. The calling thread waits on a pipe, which releases the GIL: threads of the server
keep running while children compute.

The wire (pipes, little-endian):

- detect: ``b"D"`` + ``<iii`` (height, width, upsample) + the RGB bytes → ``<i`` count + count × 5
  float64 (left, top, right, bottom, score), in the sent image's pixels;
- descriptor: ``b"E"`` + a 150×150×3 aligned chip → 128 float64.
"""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar, Generic, TypeVar

import numpy as np

from dualsign.engines.base import EngineFailed
from dualsign.runtime import BACKGROUND_NICE, at_base_priority, defers_to_live_work, usable_cores

CHIP_BYTES = 150 * 150 * 3
DESCRIPTOR_BYTES = 128 * 8
BOX_BYTES = 5 * 8
TIMEOUT_S = 30.0
DETECT = b"D"
DESCRIBE = b"E"
HEADER = struct.Struct("<iii")
COUNT = struct.Struct("<i")
MAX_FACES = 1000  # an answer claiming more is garbage
# the longest a deferring caller (a recording's re-check) waits for a child behind live callers: under a
# steady live load it still advances, a call a second, instead of stopping until the load ends
MAX_DEFER_S = 1.0
T = TypeVar("T")


class Turns(Generic[T]):
    """The idle children, handed out to the callers waiting: those that do not defer first; a deferring
    caller that has waited ``max_defer_s`` is next in line, before the others."""

    def __init__(self, items: list[T], max_defer_s: float = MAX_DEFER_S) -> None:
        self._free = list(items)
        self._urgent_waiting = 0
        self._overdue = 0  # deferring callers past their limit: served before anyone else
        self._changed = threading.Condition()
        self.max_defer_s = max_defer_s

    def take(self, defer: bool) -> T:
        with self._changed:
            if not defer:
                self._urgent_waiting += 1
                try:
                    while not self._free or self._overdue:
                        self._changed.wait()
                finally:
                    self._urgent_waiting -= 1
                return self._free.pop()
            until = time.monotonic() + self.max_defer_s
            while (left := until - time.monotonic()) > 0:
                if self._free and not self._urgent_waiting:
                    return self._free.pop()
                self._changed.wait(left)
            self._overdue += 1
            try:
                while not self._free:
                    self._changed.wait()
                return self._free.pop()
            finally:
                self._overdue -= 1
                self._changed.notify_all()  # the callers it held back look again

    def give(self, item: T) -> None:
        with self._changed:
            self._free.append(item)
            self._changed.notify_all()


@dataclass
class _Child:
    process: subprocess.Popen[bytes] | None = None

    def alive(self) -> subprocess.Popen[bytes]:
        if self.process is not None and self.process.poll() is not None:
            self.stop()  # died since the last call: its pipes are closed, a new one starts
        if self.process is None:
            # started from the base priority, so it runs at base + BACKGROUND_NICE whichever thread
            # needed it (a live frame's at +5 or the job worker's at +10 would add theirs)
            self.process = at_base_priority(
                lambda: subprocess.Popen(  # noqa: S603 (this interpreter, a module of this package)
                    [sys.executable, "-m", "dualsign.engines.face_worker", str(BACKGROUND_NICE)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                )
            )
        return self.process

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


@dataclass
class FacePool:
    """``size`` face worker processes shared by every thread of this process (0: one per core)."""

    size: int = 0
    timeout_s: float = TIMEOUT_S
    _idle: Turns[_Child] = field(init=False, repr=False)
    _children: list[_Child] = field(init=False, repr=False)

    _shared: ClassVar[dict[int, FacePool]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __post_init__(self) -> None:
        self.size = self.size if self.size > 0 else usable_cores()
        self._children = [_Child() for _ in range(self.size)]
        self._idle = Turns(list(self._children))

    @classmethod
    def shared(cls, size: int = 0) -> FacePool:
        """The process's pool of ``size`` children (0: one per core), made once and kept: every engine
        of a process, however many containers it builds, shares the same children."""
        size = size if size > 0 else usable_cores()
        with cls._shared_lock:
            if size not in cls._shared:
                cls._shared[size] = FacePool(size)
            return cls._shared[size]

    def running(self) -> int:
        """Children started and alive (they start on first use)."""
        return sum(1 for c in self._children if c.process is not None and c.process.poll() is None)

    def close(self) -> None:
        for child in self._children:
            child.stop()

    def _call(self, request: bytes, read: int | None, engine: str) -> bytes:
        """One request to an idle child; ``read``: the answer's size, or None for a detection's."""
        child = self._idle.take(defers_to_live_work())
        try:
            try:
                process = child.alive()
                assert process.stdin is not None  # noqa: S101 (pipes asked for)
                assert process.stdout is not None  # noqa: S101
                process.stdin.write(request)
                process.stdin.flush()
                fd = process.stdout.fileno()
                deadline = time.monotonic() + self.timeout_s
                if read is not None:
                    return _read_exactly(fd, read, deadline)
                head = _read_exactly(fd, COUNT.size, deadline)
                (count,) = COUNT.unpack(head)
                if not 0 <= count <= MAX_FACES:
                    raise OSError(f"a face worker answered {count} faces")
                return head + _read_exactly(fd, count * BOX_BYTES, deadline)
            except (OSError, TimeoutError) as exc:
                child.stop()
                raise EngineFailed(engine, f"the face worker process failed: {exc}") from None
        finally:
            self._idle.give(child)

    def detect(self, image: np.ndarray, upsample: int) -> np.ndarray:
        """HOG detections in ``image`` (RGB uint8): an n×5 array of left, top, right, bottom, score."""
        pixels = np.ascontiguousarray(image, dtype=np.uint8)
        if pixels.ndim != 3 or pixels.shape[2] != 3:
            raise EngineFailed("dlib-hog", f"an RGB image is H×W×3, not {pixels.shape}")
        h, w = pixels.shape[:2]
        answer = self._call(DETECT + HEADER.pack(h, w, upsample) + pixels.tobytes(), None, "dlib-hog")
        return np.frombuffer(answer, dtype="<f8", offset=COUNT.size).reshape(-1, 5)

    def describe(self, chip: np.ndarray) -> tuple[float, ...]:
        """dlib's 128-d descriptor of an aligned 150×150×3 face chip."""
        data = np.ascontiguousarray(chip, dtype=np.uint8).tobytes()
        if len(data) != CHIP_BYTES:
            raise EngineFailed("dlib-resnet", f"a face chip is 150×150×3, not {chip.shape}")
        answer = self._call(DESCRIBE + data, DESCRIPTOR_BYTES, "dlib-resnet")
        return tuple(float(v) for v in np.frombuffer(answer, dtype="<f8"))


def _read_exactly(fd: int, size: int, deadline: float) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError("no answer from the face worker in time")
        part = os.read(fd, min(size - got, 1 << 20))
        if not part:
            raise OSError("the face worker process exited")
        parts.append(part)
        got += len(part)
    return b"".join(parts)
