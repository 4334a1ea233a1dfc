"""One manifest type: what the platform writes is what the verifier reads, byte for byte."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from dualsign_verify.bundle import MalformedBundle, read_bundle
from dualsign_verify.manifest import ArtifactEntry, ExportStatement, Manifest, ManifestError

GOLDEN = Path(__file__).resolve().parents[2] / "assets" / "bundles" / "insurance_cancelled.zip"


def golden_manifest() -> bytes:
    with zipfile.ZipFile(GOLDEN) as z:
        return z.read("manifest.json")


def sample() -> Manifest:
    return Manifest(
        session_id="ses_1",
        tenant_id="ten_1",
        state="signed",
        template_key="bank-loan-zh",
        template_sha256="a" * 64,
        sealed_at="2026-12-06T08:00:00.000000Z",
        chain_length=12,
        head_sha256="b" * 64,
        head_sm3=None,
        artifacts=(
            ArtifactEntry(
                "document", "c" * 64, 2053, "d" * 64, name="loan.pdf", media_type="application/pdf"
            ),
            ArtifactEntry("recording_chunk", "e" * 64, 1024, None),
        ),
        merkle_size=14,
        merkle_root="f" * 64,
        tsa_name="local TSA (self-attested)",
        tsa_mode="self-attested",
        report="report.pdf",
    )


def test_a_manifest_sealed_before_this_type_reads_back_to_the_same_bytes() -> None:
    raw = golden_manifest()
    parsed = Manifest.parse(json.loads(raw))
    assert parsed.to_bytes() == raw
    assert parsed.state == "cancelled" and len(parsed.artifacts) == 2 and parsed.report is None


def test_what_is_written_is_what_is_read() -> None:
    m = sample()
    assert Manifest.parse(json.loads(m.to_bytes())) == m
    statement = ExportStatement.of(m.to_bytes(), {"report.pdf": b"%PDF-1.7", "README.txt": b"read me"})
    assert ExportStatement.parse(json.loads(statement.to_bytes())) == statement
    assert statement.members["README.txt"].size == 7


def edited(change: Any) -> dict[str, Any]:
    obj: dict[str, Any] = json.loads(sample().to_bytes())
    change(obj)
    return obj


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.update(verdict="ACCEPT"), "manifest has fields version 1 does not define: verdict"),
        (lambda m: m["chain"].update(extra=1), "manifest.chain has fields version 1 does not define: extra"),
        (
            lambda m: m["artifacts"][0].update(size="2053"),
            "manifest.artifacts[0].size must be a whole number",
        ),
        (lambda m: m["artifacts"][1].update(sha256="E" * 64), "manifest.artifacts[1].sha256 must be 64"),
        (lambda m: m.pop("tenant_id"), "manifest.tenant_id must be a string"),
        (lambda m: m["merkle"].update(algorithm="sha1"), "manifest.merkle must be rfc6962-sha256"),
        (lambda m: m.update(version=2), "manifest version 2 is not one this verifier reads"),
        (lambda m: m.update(report=["report.pdf"]), "manifest.report must be a member name"),
    ],
)
def test_anything_version_1_does_not_define_is_refused_naming_the_field(change: Any, reason: str) -> None:
    with pytest.raises(ManifestError, match="^" + reason.replace(".", r"\.").replace("[", r"\[")):
        Manifest.parse(edited(change))


def test_a_bundle_whose_manifest_has_an_extra_field_is_malformed(tmp_path: Path) -> None:
    with zipfile.ZipFile(GOLDEN) as z:
        files = {n: z.read(n) for n in z.namelist()}
    manifest = json.loads(files["manifest.json"])
    manifest["approved"] = True
    files["manifest.json"] = json.dumps(manifest).encode()
    path = tmp_path / "b.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    with pytest.raises(MalformedBundle, match="fields version 1 does not define: approved"):
        read_bundle(path.read_bytes())


def test_export_statement_members_are_typed() -> None:
    good = json.loads(ExportStatement.of(b"{}", {"report.pdf": b"x"}).to_bytes())
    good["members"]["report.pdf"]["sha256"] = "nothex"
    with pytest.raises(ManifestError, match=r"members\['report.pdf'\]\.sha256"):
        ExportStatement.parse(good)
