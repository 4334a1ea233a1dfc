"""The evidence bundle: what is in the zip and how it is named.

```
manifest.json            canonical JSON, kind "dualsign.manifest", version 1
manifest.sig             platform signature over manifest.json (ECDSA P-256, SHA-256, DER)
manifest.tsr             RFC 3161 TimeStampToken over manifest.sig
events.jsonl             the session's event records, one canonical JSON record per line
artifacts/<sha256>       every artifact, named by its SHA-256
certs/root.pem           platform root; certs/platform.pem (manifest signer); certs/tsa.pem
log/checkpoint.txt       signed checkpoint of the platform log; log/inclusion.json (index, size, proof)
log/key.json             the log's public key (name, Ed25519 public key, base64)
README.txt               how to check the bundle with standard tools
```
"""

from __future__ import annotations

import io
import json
import mmap
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST_KIND = "dualsign.manifest"
MANIFEST_VERSION = 1
REQUIRED = ("manifest.json", "events.jsonl")  # without these nothing can be verified; the rest is a step
MAX_ENTRIES = 100_000
MAX_TOTAL = 8 * 1024**3


class MalformedBundle(Exception):
    """The input is not a readable DualSign bundle (as opposed to a bundle that does not verify)."""


Data = bytes | memoryview  # artifacts stored uncompressed are views into the archive (no copy)


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]  # every entry but the uncompressed artifacts
    manifest: dict[str, Any]
    views: dict[str, memoryview] = field(default_factory=dict)  # uncompressed artifacts, in place
    source: object = None  # what the views look into (the archive's bytes or its memory map)

    def get(self, name: str) -> bytes | None:
        return self.files.get(name)

    def data(self, name: str) -> Data | None:
        """Any entry's contents, an artifact's included (hash it, or ``bytes()`` it when small)."""
        view = self.views.get(name)
        return view if view is not None else self.files.get(name)

    @property
    def names(self) -> set[str]:
        return set(self.files) | set(self.views)


def open_bundle(path: Path) -> Bundle:
    """The bundle in the zip file at ``path``, memory-mapped: large artifacts are read as they are hashed."""
    with path.open("rb") as f:
        try:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped
            raise MalformedBundle("not a zip archive: the file is empty") from None
    return read_bundle(mapped)


def _stored_view(buffer: memoryview, info: zipfile.ZipInfo) -> memoryview:
    """The bytes of an uncompressed entry, in place: after its local header (signature, fixed 30 bytes,
    then name and extra field). Their integrity is what the SHA-256 and SM3 checks establish."""
    at = info.header_offset
    header = bytes(buffer[at : at + 30])
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise MalformedBundle(f"the local header of {info.filename!r} is damaged")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    start = at + 30 + name_len + extra_len
    if info.compress_size != info.file_size or start + info.file_size > len(buffer):
        raise MalformedBundle(f"{info.filename!r} runs past the end of the archive")
    return buffer[start : start + info.file_size]


def read_bundle(data: bytes | mmap.mmap) -> Bundle:
    buffer = memoryview(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else _MapReader(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise MalformedBundle(f"not a zip archive: {exc}") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL:
        raise MalformedBundle("the archive is larger than a bundle may be")
    files: dict[str, bytes] = {}
    views: dict[str, memoryview] = {}
    for info in infos:
        name = info.filename
        if info.is_dir():
            continue
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise MalformedBundle(f"unsafe file name in the archive: {name!r}")
        if name in files or name in views:
            raise MalformedBundle(f"duplicate file in the archive: {name!r}")
        if info.flag_bits & 0x1:
            raise MalformedBundle(f"{name!r} is encrypted")
        try:
            if name.startswith("artifacts/") and info.compress_type == zipfile.ZIP_STORED:
                views[name] = _stored_view(buffer, info)
            else:
                files[name] = archive.read(info)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
            raise MalformedBundle(f"cannot read {name!r}: {exc}") from None
    missing = [n for n in REQUIRED if n not in files]
    if missing:
        raise MalformedBundle(f"missing from the bundle: {', '.join(missing)}")
    try:
        manifest = json.loads(files["manifest.json"])
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedBundle(f"manifest.json is not JSON: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("kind") != MANIFEST_KIND:
        raise MalformedBundle("manifest.json is not a DualSign manifest")
    if manifest.get("version") != MANIFEST_VERSION:
        raise MalformedBundle(f"manifest version {manifest.get('version')!r} is not one this verifier reads")
    _check_shape(manifest)
    return Bundle(files, manifest, views, data)


class _MapReader(io.RawIOBase):
    """A read-only, seekable file over a memory map (zipfile reads the directory through it)."""

    def __init__(self, mapped: mmap.mmap) -> None:
        self.mapped = mapped
        self.pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: len(self.mapped)}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, b: Any) -> int:
        chunk = self.mapped[self.pos : self.pos + len(b)]
        b[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def _is_hex(value: object, length: int = 64) -> bool:
    return isinstance(value, str) and len(value) == length and all(c in "0123456789abcdef" for c in value)


def _check_shape(m: dict[str, Any]) -> None:
    """The manifest has the fields version 1 defines, with the right types (values are checked later)."""
    artifacts = m.get("artifacts")
    if not isinstance(artifacts, list) or not all(
        isinstance(a, dict)
        and isinstance(a.get("role"), str)
        and _is_hex(a.get("sha256"))
        and isinstance(a.get("size"), int)
        and (a.get("sm3") is None or _is_hex(a.get("sm3")))
        for a in artifacts
    ):
        raise MalformedBundle("manifest.artifacts must list {role, sha256, sm3, size} entries")
    chain = m.get("chain")
    if (
        not isinstance(chain, dict)
        or not isinstance(chain.get("length"), int)
        or not _is_hex(chain.get("head_sha256"))
    ):
        raise MalformedBundle("manifest.chain must give length and head_sha256")
    merkle = m.get("merkle")
    if not isinstance(merkle, dict) or not _is_hex(merkle.get("root")):
        raise MalformedBundle("manifest.merkle must give the root")
    if not isinstance(m.get("tsa", {}), dict):
        raise MalformedBundle("manifest.tsa must be an object")
