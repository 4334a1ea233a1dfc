"""Step 2 says SM3 matched only where an SM3 was compared: a platform without SM3, or a manifest that
lists none, passes on SHA-256 and says so, never "and SM3"."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest

from dualsign_verify import verifier
from dualsign_verify.bundle import read_bundle
from dualsign_verify.records import digests, sm3_hex
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify

ASSETS = Path(__file__).parents[2] / "assets" / "bundles"
GOLDEN = (ASSETS / "insurance_cancelled.zip").read_bytes()
TRUST = parse_policy((ASSETS / "insurance_cancelled.trust.json").read_bytes())


def _step2(bundle: bytes) -> tuple[Status, str]:
    step = next(s for s in verify(read_bundle(bundle), TRUST, sm3=True).steps if s.number == 2)
    return step.status, step.reason


def _without_sm3_in_manifest(bundle: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(bundle)) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                for a in manifest["artifacts"]:
                    a["sm3"] = None
                data = json.dumps(manifest).encode()
            out.writestr(info, data)
    return buf.getvalue()


def test_with_sm3_on_both_sides_every_artifact_is_said_to_match_both() -> None:
    status, reason = _step2(GOLDEN)
    assert status is Status.PASSED and reason.endswith("artifacts match their SHA-256 and SM3")


def test_where_this_platform_has_no_sm3_the_step_says_sm3_was_not_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verifier, "sm3_hex", lambda _data: None)  # an OpenSSL built without SM3
    status, reason = _step2(GOLDEN)
    assert status is Status.PASSED and "SM3 not checked: this platform's OpenSSL has no SM3" in reason
    assert "and SM3" not in reason


def test_a_manifest_without_sm3_passes_on_sha256_and_says_which_were_not_compared() -> None:
    status, reason = _step2(_without_sm3_in_manifest(GOLDEN))
    listed = len(json.loads(zipfile.ZipFile(io.BytesIO(GOLDEN)).read("manifest.json"))["artifacts"])
    assert status is Status.PASSED and "and SM3" not in reason
    assert reason.endswith(f"(SM3 checked for 0; the manifest lists none for the other {listed})")


def test_digests_in_one_pass_are_the_two_hashes_of_the_bytes() -> None:
    data = bytes(range(256)) * 1000  # several of the windows hashed in turn
    d = digests(data)
    assert d.sha256 == hashlib.sha256(data).hexdigest() and d.sm3 == sm3_hex(data)
    assert digests(memoryview(data)) == d and digests(b"").sha256.startswith("e3b0c442")
