"""Event records of a session's evidence chain.

A record is ``{kind, version, seq, time, payload, prev}``; its digest is taken over its canonical JSON.
``prev`` is the SHA-256 of the record before it (64 zeros for the first), so editing, dropping or
reordering any record breaks every link after it. SM3 digests are kept beside SHA-256 for verifiers that
work with the Chinese national algorithms.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from dualsign_verify.canonical import canonical_json

GENESIS = "0" * 64
RECORD_VERSION = 1


@dataclass(frozen=True)
class Digests:
    sha256: str
    sm3: str | None  # None where the platform's OpenSSL has no SM3


_WINDOW = 1 << 16  # bytes hashed by both before moving on: still in the CPU's cache for the second


def digests(data: bytes | memoryview) -> Digests:
    """SHA-256 and SM3 of ``data`` in one pass over it."""
    sha = hashlib.sha256()
    try:
        sm3: Any = hashlib.new("sm3")
    except ValueError:
        sm3 = None
    view = memoryview(data)
    for start in range(0, len(view), _WINDOW):
        window = view[start : start + _WINDOW]
        sha.update(window)
        if sm3 is not None:
            sm3.update(window)
    return Digests(sha.hexdigest(), sm3.hexdigest() if sm3 is not None else None)


def sm3_hex(data: bytes | memoryview) -> str | None:
    try:
        h = hashlib.new("sm3")
    except ValueError:
        return None
    h.update(data)
    return h.hexdigest()


def make_record(
    *, kind: str, seq: int, time: str, payload: dict[str, Any], prev: str, version: int = RECORD_VERSION
) -> dict[str, Any]:
    return {"kind": kind, "version": version, "seq": seq, "time": time, "payload": payload, "prev": prev}


def record_digests(record: dict[str, Any]) -> Digests:
    return digests(canonical_json(record))
