"""The evidence bundle: what is in the zip, how it is named, and how it is read safely.

```
manifest.json            canonical JSON, kind "dualsign.manifest", version 1
manifest.sig             platform signature over manifest.json (ECDSA P-256, SHA-256, DER)
manifest.tsr             RFC 3161 TimeStampToken over manifest.sig
events.jsonl             the session's event records up to the seal (the chain whose head the manifest
                         names), one canonical JSON record per line ("\\n" ends each)
artifacts/<sha256>       every artifact, named by its SHA-256
certs/root.pem           platform root; certs/platform.pem (manifest signer); certs/tsa.pem (the signing
                         TSA's certificate as the token carries it, else the platform's own TSA's)
certs/tsa-root.pem       an external TSA's root (for people: an anchor only if the trust policy pins it)
log/checkpoint.txt       the platform log's checkpoint, signed at export; log/inclusion.json (index,
                         size, proof of the manifest in that checkpoint)
log/key.json             the log's public key (name, Ed25519 public key, base64): for people, never an anchor
report.pdf               the signed evidence report (when the manifest names one)
export.json, export.sig  the export statement: report.pdf's and README.txt's digests, signed by the platform
README.txt               how to check the bundle with standard tools
```

Nothing else may be in a bundle: any other member is reported as unexpected. Reading is bounded: member
count, each member's and the total uncompressed size and the compression ratio are limited before
anything is decompressed; members other than the artifacts are small and read whole under a limit each;
artifacts are hashed in place (stored) or as a stream (compressed), never held whole in memory.
"""

from __future__ import annotations

import io
import json
import mmap
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualsign_verify.manifest import Manifest, ManifestError

REQUIRED = ("manifest.json", "events.jsonl")  # without these nothing can be verified; the rest is a step
MAX_ENTRIES = 100_000
MAX_TOTAL = 8 * 1024**3  # all members, uncompressed
MAX_RATIO = 100  # uncompressed / compressed, for members over RATIO_FLOOR (media does not compress)
RATIO_FLOOR = 1024 * 1024
MAX_PDF = 256 * 1024**2  # a signed PDF is read whole (pyHanko needs it in memory)
CHUNK = 1024 * 1024
# every member the format names, with the most it may hold uncompressed; artifacts/<sha256> besides
MEMBERS = {
    "manifest.json": 64 * 1024**2,
    "manifest.sig": 64 * 1024,
    "manifest.tsr": 1024**2,
    "events.jsonl": 256 * 1024**2,
    "certs/root.pem": 64 * 1024,
    "certs/platform.pem": 64 * 1024,
    "certs/tsa.pem": 64 * 1024,
    "certs/tsa-root.pem": 64 * 1024,
    "log/checkpoint.txt": 64 * 1024,
    "log/inclusion.json": 1024**2,
    "log/key.json": 64 * 1024,
    "report.pdf": MAX_PDF,
    "export.json": 1024**2,
    "export.sig": 64 * 1024,
    "README.txt": 1024**2,
}
_ARTIFACT = re.compile(r"artifacts/[0-9a-f]{64}")
_READ_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    ValueError,
    OSError,
    EOFError,
    NotImplementedError,
    struct.error,
    RuntimeError,  # zipfile: encrypted or unsupported member
)


class MalformedBundle(Exception):
    """The input is not a readable DualSign bundle (as opposed to a bundle that does not verify)."""


Data = bytes | memoryview  # artifacts stored uncompressed are views into the archive (no copy)


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]  # the members the format names, read whole under their limits
    manifest: dict[str, Any]
    views: dict[str, memoryview] = field(default_factory=dict)  # uncompressed artifacts, in place
    source: object = None  # what the views look into (the archive's bytes or its memory map)
    archive: zipfile.ZipFile | None = None  # compressed artifacts are streamed from it
    infos: dict[str, zipfile.ZipInfo] = field(default_factory=dict)  # every member, as the archive says
    lines: tuple[bytes, ...] = ()  # events.jsonl split on b"\n" only, as stored
    records: tuple[dict[str, Any], ...] = ()  # each line parsed (duplicate keys refused)
    unexpected: tuple[str, ...] = ()  # members no part of the format names (never read)

    def get(self, name: str) -> bytes | None:
        return self.files.get(name)

    def data(self, name: str) -> Data | None:
        """A member held in memory or mapped in place (a compressed artifact: ``read`` or ``chunks``)."""
        view = self.views.get(name)
        return view if view is not None else self.files.get(name)

    def size(self, name: str) -> int | None:
        """A member's uncompressed size as the archive declares it (reading stops there)."""
        info = self.infos.get(name)
        return info.file_size if info is not None else None

    def chunks(self, name: str) -> Iterator[Data]:
        """A member's bytes in pieces of at most ``CHUNK`` (a mapped one in one piece, without a copy)."""
        held = self.data(name)
        if held is not None:
            yield held
            return
        info = self.infos.get(name)
        if info is None or self.archive is None:
            raise KeyError(name)
        try:
            with self.archive.open(info) as f:
                while chunk := f.read(CHUNK):
                    yield chunk
        except _READ_ERRORS as exc:
            raise MalformedBundle(f"cannot read {name!r}: {_one_line(exc)}") from None

    def read(self, name: str, limit: int) -> bytes | None:
        """A member whole, if it is no larger than ``limit``; ``MalformedBundle`` if it is."""
        size = self.size(name)
        if size is None:
            return None
        if size > limit:
            raise MalformedBundle(f"{name!r} holds {size} bytes, more than {limit} allowed")
        return b"".join(bytes(c) for c in self.chunks(name))

    @property
    def names(self) -> set[str]:
        return set(self.infos)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


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


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are unique: a lenient parser keeps the last of two, a reader sees the
    first, so a duplicate is refused rather than resolved."""
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def strict_json(data: bytes) -> Any:
    """JSON from UTF-8 bytes, refusing duplicate keys."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=_object)


def _event_lines(data: bytes) -> tuple[tuple[bytes, ...], tuple[dict[str, Any], ...]]:
    """events.jsonl split on b"\\n" only (U+2028 and U+0085 are ordinary characters inside a record)."""
    if not data:
        return (), ()
    if not data.endswith(b"\n"):
        raise MalformedBundle("events.jsonl does not end with a newline")
    lines = tuple(data[:-1].split(b"\n"))
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = strict_json(line)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise MalformedBundle(
                f"events.jsonl line {number} is not a JSON record: {_one_line(exc)}"
            ) from None
        if not isinstance(record, dict):
            raise MalformedBundle(f"events.jsonl line {number} is not a JSON object")
        records.append(record)
    return lines, tuple(records)


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    if len(infos) > MAX_ENTRIES:
        raise MalformedBundle(f"the archive has {len(infos)} members, more than {MAX_ENTRIES}")
    total = sum(i.file_size for i in infos)
    if total > MAX_TOTAL:
        raise MalformedBundle(f"the archive holds {total} bytes uncompressed, more than {MAX_TOTAL}")
    for info in infos:
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise MalformedBundle(
                f"{info.filename!r} expands {info.file_size // max(info.compress_size, 1)}x "
                f"({info.compress_size} to {info.file_size} bytes; at most {MAX_RATIO}x allowed)"
            )


def read_bundle(data: bytes | mmap.mmap) -> Bundle:
    buffer = memoryview(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else _MapReader(data))
        infos = archive.infolist()
    except _READ_ERRORS as exc:
        raise MalformedBundle(f"not a zip archive: {_one_line(exc)}") from None
    _check_sizes(infos)
    by_name: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise MalformedBundle(f"unsafe file name in the archive: {name!r}")
        if name in by_name:
            raise MalformedBundle(f"duplicate file in the archive: {name!r}")
        if info.flag_bits & 0x1:
            raise MalformedBundle(f"{name!r} is encrypted")
        by_name[name] = info
    files: dict[str, bytes] = {}
    views: dict[str, memoryview] = {}
    unexpected = []
    for name, info in by_name.items():
        if name in MEMBERS:
            if info.file_size > MEMBERS[name]:
                raise MalformedBundle(f"{name!r} holds {info.file_size} bytes, more than {MEMBERS[name]}")
            try:
                files[name] = archive.read(info)
            except _READ_ERRORS as exc:
                raise MalformedBundle(f"cannot read {name!r}: {_one_line(exc)}") from None
        elif _ARTIFACT.fullmatch(name) and not info.is_dir():
            if info.compress_type == zipfile.ZIP_STORED:
                views[name] = _stored_view(buffer, info)
        else:
            unexpected.append(name)
    missing = [n for n in REQUIRED if n not in files]
    if missing:
        raise MalformedBundle(f"missing from the bundle: {', '.join(missing)}")
    try:
        manifest = strict_json(files["manifest.json"])
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedBundle(f"manifest.json is not JSON: {_one_line(exc)}") from None
    try:  # the type the platform writes it with: every field as version 1 defines it, nothing else
        Manifest.parse(manifest)
    except ManifestError as exc:
        raise MalformedBundle(str(exc)) from None
    lines, records = _event_lines(files["events.jsonl"])
    return Bundle(files, manifest, views, data, archive, by_name, lines, records, tuple(sorted(unexpected)))


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
