"""The local content-addressed blob store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dualsign.domain.errors import NotFound
from dualsign.storage.blobs_fs import FileBlobStore


def test_put_is_content_addressed_and_idempotent(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    data = b"recording chunk 0001"
    ref = store.put(data)
    assert ref.sha256 == hashlib.sha256(data).hexdigest()
    assert ref.size == len(data)
    assert store.put(data) == ref
    assert store.get(ref.sha256) == data
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 1
    assert files[0].name == ref.sha256
    assert not any(p.name.startswith(".tmp-") for p in tmp_path.rglob("*"))


def test_unknown_or_malformed_digest_is_not_found(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(NotFound):
        store.get("../../etc/passwd")
    assert store.exists("../x") is False


def test_a_damaged_partial_file_is_replaced(tmp_path: Path) -> None:
    store = FileBlobStore(tmp_path)
    data = b"x" * 1000
    ref = store.put(data)
    path = next(p for p in tmp_path.rglob(ref.sha256))
    path.write_bytes(data[:10])  # a truncated copy (e.g. a disk fault)
    store.put(data)
    assert store.get(ref.sha256) == data
