"""Golden bundles (made by this version, kept in tests/assets/bundles): every later verifier must still
read them — the format is versioned and old evidence must stay checkable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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
