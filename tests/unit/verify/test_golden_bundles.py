"""Golden bundles (made by this version, kept in tests/assets/bundles): every later verifier must still
read them — the format is versioned and old evidence must stay checkable."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography import x509

from dualsign_verify.bundle import MalformedBundle, open_bundle, read_bundle
from dualsign_verify.trust import fingerprint, parse_policy
from dualsign_verify.verifier import Status, verify

ASSETS = Path(__file__).parents[2] / "assets" / "bundles"
VERIFY = [sys.executable, "-m", "dualsign_verify.cli"]


def run(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VERIFY, str(ASSETS / name), *extra], capture_output=True, text=True, check=False)


TRUST = ASSETS / "insurance_cancelled.trust.json"  # its platform's root and log key, as published


def test_the_golden_cancelled_insurance_bundle_verifies_under_its_platforms_trust_file() -> None:
    """Sealed before export statements: every step passes but the report, which nothing binds to the
    manifest, so the bundle is INDETERMINATE (exit 2), never PASSED."""
    done = run("insurance_cancelled.zip", "--trust", str(TRUST))
    assert done.returncode == 2, done.stdout
    lines = done.stdout.splitlines()
    assert all("PASSED" in line for line in lines[:8]), done.stdout
    assert "INDETERMINATE" in lines[8] and "report.pdf is not bound to this manifest" in lines[8]
    assert "(self-attested)" in lines[6] and lines[6].count("self-attested") == 1


def test_the_golden_bundle_with_only_its_root_pem_leaves_the_log_unanchored() -> None:
    """``--trust ROOT.pem`` still works: the root is pinned, the log key is not (INDETERMINATE)."""
    done = run("insurance_cancelled.zip", "--trust", str(ASSETS / "insurance_cancelled.root.pem"))
    assert done.returncode == 2, done.stdout
    step8 = done.stdout.splitlines()[7]
    assert "INDETERMINATE" in step8 and "anchored by no trust policy" in step8
    assert "PASSED" in done.stdout.splitlines()[5]


def test_without_a_trust_policy_nothing_passes_and_the_fingerprints_are_printed() -> None:
    done = run("insurance_cancelled.zip")
    assert done.returncode == 2, done.stdout
    assert "PASSED" not in done.stdout.split("\n\n")[-1]
    root = x509.load_pem_x509_certificate((ASSETS / "insurance_cancelled.root.pem").read_bytes())
    assert f"sha256:{fingerprint(root)}" in done.stdout
    assert "No trust policy given" in done.stdout and "dualsign.local/log" in done.stdout
    for step in (6, 7, 8, 9):
        assert "INDETERMINATE" in done.stdout.splitlines()[step - 1]


def test_help_lists_the_exit_codes() -> None:
    done = subprocess.run([*VERIFY, "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for code, word in ((0, "PASSED"), (1, "FAILED"), (2, "INDETERMINATE"), (3, "MALFORMED"), (4, "USAGE")):
        assert f"{code}  {word}" in done.stdout
    wrong = subprocess.run([*VERIFY], capture_output=True, text=True, check=False)
    assert wrong.returncode == 4  # not 2, which means INDETERMINATE


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
    report = verify(bundle, parse_policy(TRUST.read_bytes()))
    assert [s.status for s in report.steps[:8]] == [Status.PASSED] * 8


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
