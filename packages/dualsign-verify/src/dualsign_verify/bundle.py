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
import zipfile
from dataclasses import dataclass
from typing import Any

MANIFEST_KIND = "dualsign.manifest"
MANIFEST_VERSION = 1
REQUIRED = ("manifest.json", "events.jsonl")  # without these nothing can be verified; the rest is a step
MAX_ENTRIES = 100_000
MAX_TOTAL = 8 * 1024**3


class MalformedBundle(Exception):
    """The input is not a readable DualSign bundle (as opposed to a bundle that does not verify)."""


@dataclass(frozen=True)
class Bundle:
    files: dict[str, bytes]
    manifest: dict[str, Any]

    def get(self, name: str) -> bytes | None:
        return self.files.get(name)


def read_bundle(data: bytes) -> Bundle:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise MalformedBundle(f"not a zip archive: {exc}") from None
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_TOTAL:
        raise MalformedBundle("the archive is larger than a bundle may be")
    files: dict[str, bytes] = {}
    for info in infos:
        name = info.filename
        if info.is_dir():
            continue
        if name.startswith("/") or ".." in name.split("/") or "\\" in name:
            raise MalformedBundle(f"unsafe file name in the archive: {name!r}")
        if name in files:
            raise MalformedBundle(f"duplicate file in the archive: {name!r}")
        try:
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
    return Bundle(files, manifest)


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
