"""Content-addressed blob store on a local directory.

A blob lives at ``<root>/sha256/ab/cd/<digest>``. Writes go to a temporary file in the same directory,
are fsynced, then renamed into place (and the directory fsynced), so a crash leaves either the whole
blob or nothing. Storing the same bytes twice stores them once.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from dualsign.application.records import BlobRef
from dualsign.domain.errors import NotFound
from dualsign_verify.records import digests

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sha256").mkdir(parents=True, exist_ok=True)

    def _path(self, sha256: str) -> Path:
        if not _DIGEST.match(sha256):
            raise NotFound("blob", sha256)
        return self.root / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> BlobRef:
        d = digests(data)
        path = self._path(d.sha256)
        if not (path.exists() and path.stat().st_size == len(data)):
            self.put_named(d.sha256, data)
        return BlobRef(d.sha256, len(data), d.sm3)

    def put_named(self, sha256: str, stored: bytes) -> None:
        """Write ``stored`` as the blob named ``sha256`` (atomically; an existing one is replaced)."""
        path = self._path(sha256)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(stored)
                fh.flush()
                os.fsync(fh.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def names(self) -> Iterator[str]:
        for path in (self.root / "sha256").glob("??/??/*"):
            if _DIGEST.match(path.name):
                yield path.name

    def get(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound("blob", sha256) from None

    def delete(self, sha256: str) -> None:
        self._path(sha256).unlink(missing_ok=True)

    def retain(self, sha256: str, until: datetime) -> None:
        """A local directory cannot lock a file against its own operator: deletion before ``until`` is
        refused by the retention rules (``application/evidence/retention.py``), not by the disk. Use the S3
        store with Object Lock where the storage itself must refuse."""
        self._path(sha256)  # the digest is still checked

    def exists(self, sha256: str) -> bool:
        try:
            return self._path(sha256).exists()
        except NotFound:
            return False
