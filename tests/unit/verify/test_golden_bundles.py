"""Golden bundles (made by this version, kept in tests/assets/bundles): every later verifier must still
read them — the format is versioned and old evidence must stay checkable."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dualsign_verify.bundle import MalformedBundle, open_bundle, read_bundle
from dualsign_verify.verifier import Status, verify

ASSETS = Path(__file__).parents[2] / "assets" / "bundles"
VERIFY = [sys.executable, "-m", "dualsign_verify.cli"]


def run(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VERIFY, str(ASSETS / name), *extra], capture_output=True, text=True, check=False)


def test_the_golden_cancelled_insurance_bundle_passes_with_its_root() -> None:
    done = run("insurance_cancelled.zip", "--trust", str(ASSETS / "insurance_cancelled.root.pem"))
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip().endswith("PASSED")


def test_the_golden_bundle_with_a_tampered_photo_fails_at_step_two() -> None:
    done = run("insurance_cancelled_tampered_identity_photo.zip")
    assert done.returncode == 1
    assert "2. artifacts" in done.stdout and "FAILED" in done.stdout.splitlines()[1]


def test_a_file_that_is_not_a_bundle_is_malformed_not_failed(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    done = subprocess.run([*VERIFY, str(junk)], capture_output=True, text=True, check=False)
    assert done.returncode == 3 and "not a readable DualSign bundle" in done.stdout


def test_uncompressed_artifacts_are_read_in_place_from_the_mapped_file() -> None:
    bundle = open_bundle(ASSETS / "insurance_cancelled.zip")
    with zipfile.ZipFile(ASSETS / "insurance_cancelled.zip") as z:
        stored = [i.filename for i in z.infolist() if i.compress_type == zipfile.ZIP_STORED]
        assert stored and all(n.startswith("artifacts/") for n in stored)
        for name in stored:
            view = bundle.data(name)
            assert isinstance(view, memoryview) and bytes(view) == z.read(name)  # the bytes, not a copy
    assert verify(bundle).verdict is Status.PASSED


def test_an_artifact_whose_local_header_is_damaged_is_malformed(tmp_path: Path) -> None:
    data = bytearray((ASSETS / "insurance_cancelled.zip").read_bytes())
    with zipfile.ZipFile(ASSETS / "insurance_cancelled.zip") as z:
        first = next(i for i in z.infolist() if i.filename.startswith("artifacts/"))
    data[first.header_offset : first.header_offset + 4] = b"XXXX"
    with pytest.raises(MalformedBundle, match="local header"):
        read_bundle(bytes(data))
    empty = tmp_path / "empty.zip"
    empty.write_bytes(b"")
    with pytest.raises(MalformedBundle, match="empty"):
        open_bundle(empty)
