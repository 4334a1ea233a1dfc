"""Every blob encrypted at rest (AES-256-GCM), under keys that rotate; addressed by its plaintext digest.

Identity photos, face snapshots and the recordings that show the signer's face are biometric data
(PIPL art. 28: sensitive personal information); documents and answers are personal data too. So the
store below (local files or S3) only ever holds envelopes:

    b"DSE1" | key id (16 bytes, ASCII, space-padded) | 12-byte nonce | AES-GCM(plaintext, aad=sha256)

The blob keeps its name — the SHA-256 of the plaintext, which the evidence chain records — and the
digest is the associated data, so an envelope moved under another name does not decrypt. Reading
checks the plaintext against its name (fail closed: ``BlobCorrupt``). Keys live in ``<data>/keys``
(one 32-byte file each, mode 0600); the newest encrypts, every older one still decrypts.
``rotate()`` adds a key; ``reencrypt()`` rewrites the blobs of older keys under the newest (on S3 with
Object Lock a locked version stays until its retention ends, so retired keys are kept, not deleted).
Blobs written before encryption was enabled (no envelope) are read as they are, and still checked.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dualsign.application.records import BlobRef
from dualsign.domain.errors import DualSignError
from dualsign_verify.records import digests

MAGIC = b"DSE1"
KEY_ID_BYTES = 16
NONCE_BYTES = 12
HEADER = len(MAGIC) + KEY_ID_BYTES + NONCE_BYTES


class BlobCorrupt(DualSignError):
    code = "blob_corrupt"
    http_status = 500
    title = "Stored evidence is damaged"

    def __init__(self, sha256: str, reason: str) -> None:
        super().__init__(f"blob {sha256[:16]}… cannot be read back intact: {reason}")
        self.sha256 = sha256


class RawStore(Protocol):
    """What the encrypting store needs below it: bytes under a given name."""

    def put_named(self, sha256: str, stored: bytes) -> None: ...
    def get(self, sha256: str) -> bytes: ...
    def exists(self, sha256: str) -> bool: ...
    def delete(self, sha256: str) -> None: ...
    def retain(self, sha256: str, until: datetime) -> None: ...
    def names(self) -> Iterator[str]: ...


class Keyring:
    """Data keys in a directory: ``<id>.key`` (32 random bytes); the newest (highest id) encrypts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        self._keys = {p.stem: AESGCM(p.read_bytes()) for p in sorted(folder.glob("*.key"))}
        if not self._keys:
            self.rotate()

    @property
    def current(self) -> str:
        return max(self._keys)

    def ids(self) -> list[str]:
        return sorted(self._keys)

    def rotate(self) -> str:
        """A new data key, from now on the one that encrypts; returns its id."""
        # k<sequence><random>: the highest sequence encrypts; the random part never repeats a lost key's id
        sequence = max((int(k[1:4]) for k in self._keys), default=0) + 1
        key_id = f"k{sequence:03d}{secrets.token_hex(6)}"
        path = self.folder / f"{key_id}.key"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(AESGCM.generate_key(bit_length=256))
        tmp.chmod(0o600)
        tmp.replace(path)
        self._keys[key_id] = AESGCM(path.read_bytes())
        return key_id

    def cipher(self, key_id: str) -> AESGCM | None:
        return self._keys.get(key_id)


def key_of(stored: bytes) -> str | None:
    """The key id an envelope was sealed with (None: a blob stored before encryption)."""
    if not stored.startswith(MAGIC) or len(stored) < HEADER + 16:
        return None
    return stored[len(MAGIC) : len(MAGIC) + KEY_ID_BYTES].decode("ascii", "replace").strip()


class EncryptingBlobStore:
    def __init__(self, inner: RawStore, keys: Keyring) -> None:
        self.inner = inner
        self.keys = keys

    def _seal(self, sha256: str, data: bytes) -> bytes:
        key_id = self.keys.current
        cipher = self.keys.cipher(key_id)
        assert cipher is not None  # noqa: S101 (the current key is always loaded)
        nonce = os.urandom(NONCE_BYTES)
        head = MAGIC + key_id.encode("ascii").ljust(KEY_ID_BYTES) + nonce
        return head + cipher.encrypt(nonce, data, bytes.fromhex(sha256))

    def put(self, data: bytes) -> BlobRef:
        d = digests(data)
        ref = BlobRef(d.sha256, len(data), d.sm3)
        if not self.inner.exists(d.sha256):
            self.inner.put_named(d.sha256, self._seal(d.sha256, data))
        return ref

    def get(self, sha256: str) -> bytes:
        return self._open(sha256, self.inner.get(sha256))

    def _open(self, sha256: str, stored: bytes) -> bytes:
        """The plaintext of what is stored under ``sha256``, checked against the name."""
        key_id = key_of(stored)
        if key_id is None:
            data = stored  # written before encryption was turned on
        else:
            cipher = self.keys.cipher(key_id)
            if cipher is None:
                raise BlobCorrupt(sha256, f"its key {key_id!r} is not in the keyring")
            try:
                data = cipher.decrypt(
                    stored[HEADER - NONCE_BYTES : HEADER], stored[HEADER:], bytes.fromhex(sha256)
                )
            except InvalidTag:
                raise BlobCorrupt(sha256, "the envelope does not authenticate (altered, or moved)") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobCorrupt(sha256, "its contents do not match its digest")
        return data

    def exists(self, sha256: str) -> bool:
        return self.inner.exists(sha256)

    def delete(self, sha256: str) -> None:
        self.inner.delete(sha256)

    def retain(self, sha256: str, until: datetime) -> None:
        self.inner.retain(sha256, until)

    def rotate(self) -> str:
        return self.keys.rotate()

    def reencrypt(self) -> dict[str, int]:
        """Rewrite every blob not under the newest key (older keys, or none) under it; counts by key."""
        current, moved = self.keys.current, dict[str, int]()
        for digest in self.inner.names():
            stored = self.inner.get(digest)
            was = key_of(stored) or "plaintext"
            if was == current:
                continue
            self.inner.put_named(digest, self._seal(digest, self._open(digest, stored)))
            moved[was] = moved.get(was, 0) + 1
        return moved
