"""Blobs at rest are AES-256-GCM envelopes under rotating keys, read back only when intact."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dualsign.storage.blobs_encrypted import BlobCorrupt, EncryptingBlobStore, Keyring, key_of
from dualsign.storage.blobs_fs import FileBlobStore

PHOTO = b"\xff\xd8\xff\xe0 an identity photo, biometric data" * 50


def stores(tmp_path: Path) -> tuple[FileBlobStore, EncryptingBlobStore]:
    raw = FileBlobStore(tmp_path / "blobs")
    return raw, EncryptingBlobStore(raw, Keyring(tmp_path / "keys"))


def test_what_lies_on_disk_is_an_envelope_named_by_the_plaintext_digest(tmp_path: Path) -> None:
    raw, store = stores(tmp_path)
    ref = store.put(PHOTO)
    assert ref.sha256 == hashlib.sha256(PHOTO).hexdigest() and ref.size == len(PHOTO)
    on_disk = raw.get(ref.sha256)
    assert on_disk.startswith(b"DSE1") and b"identity photo" not in on_disk
    assert store.get(ref.sha256) == PHOTO
    assert store.put(PHOTO) == ref  # stored once
    key_file = next((tmp_path / "keys").glob("*.key"))
    assert key_file.stat().st_mode & 0o777 == 0o600 and len(key_file.read_bytes()) == 32


def test_an_altered_or_moved_envelope_is_refused_never_returned(tmp_path: Path) -> None:
    raw, store = stores(tmp_path)
    ref = store.put(PHOTO)
    envelope = bytearray(raw.get(ref.sha256))
    envelope[-5] ^= 1
    raw.put_named(ref.sha256, bytes(envelope))
    with pytest.raises(BlobCorrupt, match="does not authenticate"):
        store.get(ref.sha256)
    other = store.put(b"another blob")
    raw.put_named(ref.sha256, raw.get(other.sha256))  # a valid envelope under the wrong name
    with pytest.raises(BlobCorrupt, match="does not authenticate"):
        store.get(ref.sha256)


def test_rotation_encrypts_new_blobs_with_the_new_key_and_reencrypts_the_old(tmp_path: Path) -> None:
    raw, store = stores(tmp_path)
    legacy = raw.put(b"written before encryption was turned on")
    old = store.put(PHOTO)
    first = key_of(raw.get(old.sha256))
    second = store.rotate()
    assert second != first and store.keys.current == second
    new = store.put(b"after the rotation")
    assert key_of(raw.get(new.sha256)) == second
    assert store.get(old.sha256) == PHOTO  # the old key still decrypts
    assert store.get(legacy.sha256) == b"written before encryption was turned on"
    assert store.reencrypt() == {first: 1, "plaintext": 1}
    assert {key_of(raw.get(r.sha256)) for r in (legacy, old, new)} == {second}
    assert store.get(old.sha256) == PHOTO
    reopened = EncryptingBlobStore(raw, Keyring(tmp_path / "keys"))  # the keys are read back from disk
    assert reopened.get(legacy.sha256).startswith(b"written before")


def test_a_blob_whose_key_is_gone_is_an_error_naming_the_key(tmp_path: Path) -> None:
    raw, store = stores(tmp_path)
    ref = store.put(PHOTO)
    for key in (tmp_path / "keys").glob("*.key"):
        key.unlink()
    with pytest.raises(BlobCorrupt, match="is not in the keyring"):
        EncryptingBlobStore(raw, Keyring(tmp_path / "keys")).get(ref.sha256)
