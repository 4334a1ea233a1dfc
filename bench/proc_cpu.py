"""CPU seconds of processes from /proc (Linux): the benchmarks count a server and its child processes
(the dlib descriptor runs in one)."""

from __future__ import annotations

import os
from pathlib import Path


def _stat(path: Path) -> tuple[int, float]:
    """A process's parent pid and CPU seconds (user + system) from its /proc stat file."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def children_cpu(pid: int) -> float:
    """CPU seconds of the process's children that are still running."""
    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent, cpu = _stat(path)
        except OSError:
            continue
        if parent == pid:
            total += cpu
    return total
