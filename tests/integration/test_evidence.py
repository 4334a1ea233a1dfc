"""Sealed evidence: the bundle verifies offline; every kind of tampering is caught at the right step."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dualsign.api.app import create_app
from dualsign.application.evidence.sealing import export_bundle, platform_trust, seal_session
from dualsign.application.integrator.sessions import cancel_session
from dualsign.application.integrator.template_catalog import publish_template
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.signer import recording
from dualsign.bootstrap.container import Container
from dualsign_verify.bundle import MalformedBundle, read_bundle
from dualsign_verify.canonical import canonical_json
from dualsign_verify.manifest import Manifest
from dualsign_verify.records import GENESIS, record_digests
from dualsign_verify.trust import TrustPolicy, anchor_of, parse_policy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers
from tests.integration.test_session_snapshots import FAKES, Signer, template

VERIFY = [sys.executable, "-m", "dualsign_verify.cli"]


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two sealed sessions (cancelled: failures are evidence too) and their bundles."""
    tmp = tmp_path_factory.mktemp("evidence")
    c: Container = make_container(tmp, f"sqlite:///{tmp / 'db.sqlite'}", FixedClock())
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Evidence Insurance")
        bundles = {}
        for name in ("a", "b"):
            sid = create(client, headers).json()["id"]
            assert (
                client.post(
                    f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "test"}
                ).status_code
                == 200
            )
            r = client.get(f"/v1/sessions/{sid}/bundle", headers=headers)
            assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
            bundles[name] = r.content
        again = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        assert files_of(again)["report.pdf"] == files_of(r.content)["report.pdf"]  # rendered once, kept
        assert client.get(f"/v1/sessions/{sid}/bundle", headers=tenant_headers(c, "Other")).status_code == 404
        bundles["root.pem"] = c.evidence_keys.certificates()["root"]
        bundles["trust.json"] = platform_trust(c.evidence_keys, c.tsa).to_json()
    c.close()
    return bundles


def files_of(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def failed_step(bundle: bytes, trust: bytes) -> int | None:
    report = verify(read_bundle(bundle), parse_policy(trust))
    failed = [s.number for s in report.steps if s.status is Status.FAILED]
    return failed[0] if failed else None


def test_untouched_bundle_passes_every_step_with_the_cli(sealed: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "bundle.zip"
    path.write_bytes(sealed["a"])
    trust = tmp_path / "trust.json"
    trust.write_bytes(sealed["trust.json"])
    done = subprocess.run(
        [*VERIFY, str(path), "--json", "--trust", str(trust)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    report = json.loads(done.stdout)
    assert report["verdict"] == "PASSED"
    assert [s["step"] for s in report["steps"]] == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert "self-attested" in report["steps"][6]["reason"]
    raw = files_of(sealed["a"])["manifest.json"]  # the platform wrote it with the type the verifier reads
    assert Manifest.parse(json.loads(raw)).to_bytes() == raw
    human = subprocess.run([*VERIFY, str(path), "--trust", str(trust)], capture_output=True, text=True)
    assert human.returncode == 0 and human.stdout.strip().endswith("PASSED")
    unanchored = subprocess.run([*VERIFY, str(path)], capture_output=True, text=True)
    assert unanchored.returncode == 2 and "INDETERMINATE" in unanchored.stdout


def test_artifact_sm3_is_checked_when_asked_and_the_step_says_whether_it_was(
    sealed: dict[str, bytes], tmp_path: Path
) -> None:
    trust = parse_policy(sealed["trust.json"])
    default = verify(read_bundle(sealed["a"]), trust).steps[1]
    assert default.status is Status.PASSED and "SM3 not checked: --sm3" in default.reason
    both = verify(read_bundle(sealed["a"]), trust, sm3=True).steps[1]
    assert both.status is Status.PASSED and both.reason.endswith("match their SHA-256 and SM3")
    # one artifact's SM3 altered in the manifest: only the SM3 check sees it at step 2 (the signature
    # over the manifest fails at step 6 either way)
    f = files_of(sealed["a"])
    manifest = json.loads(f["manifest.json"])
    manifest["artifacts"][0]["sm3"] = "0" * 64
    f["manifest.json"] = canonical_json(manifest)
    path = tmp_path / "bundle.zip"
    path.write_bytes(rezip(f))
    trust_file = tmp_path / "trust.json"
    trust_file.write_bytes(sealed["trust.json"])
    plain = subprocess.run(
        [*VERIFY, str(path), "--json", "--trust", str(trust_file)], capture_output=True, text=True
    )
    checked = subprocess.run(
        [*VERIFY, str(path), "--json", "--trust", str(trust_file), "--sm3"], capture_output=True, text=True
    )
    assert plain.returncode == checked.returncode == 1
    assert json.loads(plain.stdout)["steps"][1]["status"] == "PASSED"
    step2 = json.loads(checked.stdout)["steps"][1]
    assert step2["status"] == "FAILED" and "does not match its SM3" in step2["reason"]


def test_the_exported_timestamp_verifies_with_openssl(sealed: dict[str, bytes], tmp_path: Path) -> None:
    for name, data in files_of(sealed["a"]).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    done = subprocess.run(
        [
            "openssl",
            "ts",
            "-verify",
            "-data",
            "manifest.sig",
            "-in",
            "manifest.tsr",
            "-token_in",
            "-CAfile",
            "certs/root.pem",
            "-untrusted",
            "certs/tsa.pem",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr
    subprocess.run(
        ["openssl", "x509", "-in", "certs/platform.pem", "-pubkey", "-noout", "-out", "platform.pub"],
        cwd=tmp_path,
        check=True,
    )
    sig = subprocess.run(
        [
            "openssl",
            "dgst",
            "-sha256",
            "-verify",
            "platform.pub",
            "-signature",
            "manifest.sig",
            "manifest.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert "Verified OK" in sig.stdout


def test_a_foreign_root_is_refused(sealed: dict[str, bytes], tmp_path: Path) -> None:
    from cryptography import x509

    other = x509.load_pem_x509_certificate(files_of(sealed["b"])["certs/platform.pem"])  # not the root
    report = verify(read_bundle(sealed["a"]), TrustPolicy(platform_roots=(anchor_of(other),)))
    assert report.verdict is Status.FAILED and report.steps[5].status is Status.FAILED


def artifact_names(files: dict[str, bytes], manifest_role: str) -> str:
    manifest = json.loads(files["manifest.json"])
    sha = next(a["sha256"] for a in manifest["artifacts"] if a["role"] == manifest_role)
    return f"artifacts/{sha}"


def rehash_chain(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    prev = GENESIS
    for rec in lines:
        rec["prev"] = prev
        prev = record_digests(rec).sha256
    return lines


def events(files: dict[str, bytes]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in files["events.jsonl"].decode().splitlines()]


def write_events(files: dict[str, bytes], records: list[dict[str, Any]]) -> None:
    files["events.jsonl"] = b"".join(canonical_json(r) + b"\n" for r in records)


Mutation = Callable[[dict[str, bytes], dict[str, bytes]], None]


def flip(role: str) -> Mutation:
    def m(f: dict[str, bytes], _: dict[str, bytes]) -> None:
        name = artifact_names(f, role)
        data = bytearray(f[name])
        data[len(data) // 2] ^= 0x01
        f[name] = bytes(data)

    return m


def truncate(role: str) -> Mutation:
    def m(f: dict[str, bytes], _: dict[str, bytes]) -> None:
        name = artifact_names(f, role)
        f[name] = f[name][:-100]

    return m


def delete(role: str) -> Mutation:
    def m(f: dict[str, bytes], _: dict[str, bytes]) -> None:
        del f[artifact_names(f, role)]

    return m


def replace_with_other_sessions(role: str) -> Mutation:
    def m(f: dict[str, bytes], other: dict[str, bytes]) -> None:
        mine, theirs = artifact_names(f, role), artifact_names(other, "identity_photo")
        f[mine] = other[theirs] + b"\x00"  # another session's photo (made distinct: same source photo)

    return m


def reorder(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    records = events(f)
    records[1], records[2] = records[2], records[1]
    write_events(f, records)


def edit_and_rehash(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    records = events(f)
    records[0]["payload"]["signer_name"] = "李四"
    write_events(f, rehash_chain(records))


def edit_rehash_and_rewrite_manifest(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    from dualsign_verify import merkle
    from dualsign_verify.verifier import artifact_leaf, event_leaf

    records = events(f)
    records[0]["payload"]["signer_name"] = "李四"
    records = rehash_chain(records)
    write_events(f, records)
    manifest = json.loads(f["manifest.json"])
    manifest["chain"]["head_sha256"] = record_digests(records[-1]).sha256
    manifest["chain"]["head_sm3"] = record_digests(records[-1]).sm3
    leaves = [event_leaf(r) for r in records] + [artifact_leaf(a) for a in manifest["artifacts"]]
    manifest["merkle"]["root"] = merkle.root(leaves).hex()
    f["manifest.json"] = canonical_json(manifest)


def drop_record(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    records = events(f)
    del records[1]
    write_events(f, records)


def forge_timestamp(f: dict[str, bytes], other: dict[str, bytes]) -> None:
    f["manifest.tsr"] = other["manifest.tsr"]  # a genuine token, over another manifest


def strip_timestamp(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    del f["manifest.tsr"]


def strip_signature(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    del f["manifest.sig"]


def drop_inclusion_proof(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    del f["log/inclusion.json"]


def wrong_log_position(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    proof = json.loads(f["log/inclusion.json"])
    proof["index"] = 1 - proof["index"]
    f["log/inclusion.json"] = json.dumps(proof).encode()


def edit_report(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    pdf = f["report.pdf"]
    at = pdf.index(b"stream") + 200  # inside the first page content, within the signed range
    f["report.pdf"] = pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1 :]


def unlisted_file(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    f["artifacts/" + "0" * 64] = b"smuggled"


@pytest.mark.parametrize(
    ("mutation", "step"),
    [
        (flip("identity_photo"), 2),
        (flip("document"), 2),
        (truncate("identity_photo"), 2),
        (truncate("document"), 2),
        (delete("identity_photo"), 2),
        (delete("document"), 2),
        (replace_with_other_sessions("identity_photo"), 2),
        (unlisted_file, 2),
        (reorder, 3),
        (drop_record, 3),
        (edit_and_rehash, 3),
        (edit_rehash_and_rewrite_manifest, 6),
        (forge_timestamp, 7),
        (strip_timestamp, 7),
        (strip_signature, 6),
        (drop_inclusion_proof, 8),
        (wrong_log_position, 8),
        (edit_report, 9),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)) if callable(x) else str(x),
)
def test_tampering_fails_at_the_right_step(sealed: dict[str, bytes], mutation: Mutation, step: int) -> None:
    files = files_of(sealed["a"])
    mutation(files, files_of(sealed["b"]))
    assert failed_step(rezip(files), sealed["trust.json"]) == step


# no example database: bundles (fresh keys each run) differ between runs; saved examples would not replay
@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_the_verifier_never_crashes_on_a_mangled_bundle(
    sealed: dict[str, bytes], data: st.DataObject
) -> None:
    files = files_of(sealed["a"])
    name = data.draw(st.sampled_from(sorted(files)))
    content = bytearray(files[name])
    for _ in range(data.draw(st.integers(1, 5))):
        if not content:
            break
        pos = data.draw(st.integers(0, len(content) - 1))
        content[pos] = data.draw(st.integers(0, 255))
    files[name] = bytes(content)
    try:
        bundle = read_bundle(rezip(files))
    except MalformedBundle:
        return
    report = verify(bundle, parse_policy(sealed["trust.json"]))
    assert report.verdict in (Status.PASSED, Status.FAILED, Status.INDETERMINATE)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_are_malformed_not_a_crash(blob: bytes) -> None:
    with pytest.raises(MalformedBundle):
        read_bundle(blob)


def test_online_verification_gives_the_same_verdict(tmp_path: Path) -> None:
    c: Container = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock())
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Online")
        sid = create(client, headers).json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
        bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers).content
        ok = client.post("/verify", content=bundle, headers={"Content-Type": "application/zip"}).json()
        assert ok["verdict"] == "PASSED" and len(ok["steps"]) == 9
        files = files_of(bundle)
        flip("document")(files, files)
        bad = client.post("/verify", content=rezip(files), headers={"Content-Type": "application/zip"}).json()
        assert bad["verdict"] == "FAILED" and bad["steps"][1]["status"] == "FAILED"
        junk = client.post("/verify", content=b"not a zip", headers={"Content-Type": "application/zip"})
        assert junk.status_code == 422 and "not a readable DualSign bundle" in junk.json()["detail"]
        import hashlib

        digest = hashlib.sha256(files_of(bundle)["manifest.json"]).hexdigest()
        found = client.get(f"/verify/manifests/{digest}").json()
        assert found["found"] and found["log_index"] == 0
        assert client.get(f"/verify/manifests/{'0' * 64}").status_code == 404
        assert client.get("/verify").status_code == 200
    c.close()


def test_retention_hold_and_deletion_with_a_tombstone(tmp_path: Path) -> None:
    clock = FixedClock()
    c: Container = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", clock)
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Keeper")
        sid = create(client, headers, contract_term_months="12").json()["id"]
        client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
        view = client.get(f"/v1/sessions/{sid}/retention", headers=headers).json()
        assert view["retain_until"].startswith("2032-11-27")  # insurance: 1-year term, then 5 years
        early = client.post(
            f"/v1/sessions/{sid}/evidence/delete", headers=headers, json={"reason": "cleanup"}
        )
        assert early.status_code == 409 and early.json()["retain_until"].startswith("2032-11-27")
        clock.advance(7 * 365 * 24 * 3600)
        hold = client.post(
            f"/v1/sessions/{sid}/legal-hold", headers=headers, json={"reason": "court case 2033-17"}
        )
        assert hold.json()["legal_holds"] == 1 and not hold.json()["deletable"]
        held = client.post(f"/v1/sessions/{sid}/evidence/delete", headers=headers, json={"reason": "cleanup"})
        assert held.status_code == 409 and "legal hold" in held.json()["detail"]
        client.post(f"/v1/sessions/{sid}/legal-hold/release", headers=headers, json={"reason": "case closed"})
        artifacts = client.get(f"/v1/sessions/{sid}", headers=headers).json()["artifacts"]
        done = client.post(
            f"/v1/sessions/{sid}/evidence/delete", headers=headers, json={"reason": "retention over"}
        )
        assert done.status_code == 200 and done.json()["deleted"]
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
        tomb = events[-1]
        assert tomb["kind"] == "evidence_deleted" and tomb["payload"]["reason"] == "retention over"
        assert sorted(tomb["payload"]["deleted"]) == sorted({a["sha256"] for a in artifacts})
        assert all(not c.blobs.exists(d) for d in tomb["payload"]["deleted"])
        other = tenant_headers(c, "Stranger")
        assert client.get(f"/v1/sessions/{sid}/retention", headers=other).status_code == 404
    c.close()


def test_the_bundle_carries_a_signed_cjk_report_that_renders(
    sealed: dict[str, bytes], tmp_path: Path
) -> None:
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    files = files_of(sealed["a"])
    pdf = files["report.pdf"]
    (tmp_path / "report.pdf").write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", "report.pdf"], cwd=tmp_path, capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and " yes yes " in cjk[0] and "TrueType" in cjk[0]  # embedded, subset
    text = subprocess.run(
        ["pdftotext", "report.pdf", "-"], cwd=tmp_path, capture_output=True, text=True
    ).stdout
    manifest_sha = __import__("hashlib").sha256(files["manifest.json"]).hexdigest()
    assert "出证报告" in text and "张三" in text and manifest_sha[:40] in text.replace("\n", "")
    assert "自动质检" in text and "qc-" in text  # the quality check, rule by rule, with its rule set
    flat = text.replace("\n", "")
    assert "业务要素" in flat and "人民币叁仟陆佰元整" in flat  # the facts of the deal, as read aloud
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", "report.pdf", "page"], cwd=tmp_path, check=True
    )
    import numpy as np
    from PIL import Image

    page = np.asarray(Image.open(next(tmp_path.glob("page*.png"))).convert("L"))
    assert (page < 200).mean() > 0.01  # text on the page, not a blank render
    root = x509.load_pem_x509_certificate(files["certs/root.pem"])
    der = root.public_bytes(serialization.Encoding.DER)
    reader = PdfFileReader(io.BytesIO(pdf))
    status = validate_pdf_signature(
        reader.embedded_signatures[0], ValidationContext(trust_roots=[asn1_x509.Certificate.load(der)])
    )
    assert status.intact and status.valid and status.bottom_line
    assert status.timestamp_validity is not None and status.timestamp_validity.valid


def test_log_checkpoints_and_consistency_for_witnesses(tmp_path: Path) -> None:
    import base64

    from dualsign_verify import merkle
    from dualsign_verify.checkpoint import parse_and_verify

    c: Container = make_container(tmp_path, f"sqlite:///{tmp_path / 'db.sqlite'}", FixedClock())
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, "Witnessed")
        key = client.get("/log/key").json()
        public = base64.b64decode(key["public_key"])
        checkpoints = []
        for _ in range(3):
            sid = create(client, headers).json()["id"]
            client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "x"})
            checkpoints.append(parse_and_verify(client.get("/log/checkpoint").text, key["name"], public))
        assert [cp.size for cp in checkpoints] == [1, 2, 3]
        proof = client.get("/log/consistency", params={"old": 1, "new": 3}).json()
        assert merkle.verify_consistency(
            1, 3, checkpoints[0].root, checkpoints[2].root, [bytes.fromhex(p) for p in proof["proof"]]
        )
        assert client.get("/log/consistency", params={"old": 3, "new": 9}).status_code == 422
    c.close()


def test_a_bundle_is_written_and_sent_without_holding_it_in_memory(tmp_path: Path) -> None:
    """The export writes one member at a time to a file the API sends from: exporting a 24 MB recording
    holds about one chunk, not the bundle (before: the whole zip in memory, twice at the end)."""
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    c = make_container(tmp_path, db, FixedClock(), DUALSIGN_POST_HOC="false", **FAKES)
    tenant, key = create_tenant(c.new_uow(), c.clock, c.ids, "Example Life")
    publish_template(c.new_uow(), c.clock, c.ids, tenant.id, template(2))
    s = Signer(c, tenant.id)
    megabyte = 1024 * 1024
    for i in range(24):
        s.chunk(c, i, megabyte)
    cancel_session(c.new_uow(), c.clock, tenant.id, s.sid, "test")
    recording.finish(c.new_uow(), c.signer_services, s.token, {0: 24})
    seal_session(c.new_uow(), c.seal_services, s.sid)  # sealed already, when the recording closed
    with TestClient(create_app(c)) as client:
        r = client.get(f"/v1/sessions/{s.sid}/bundle", headers={"Authorization": f"Bearer {key.secret}"})
        assert r.status_code == 200 and int(r.headers["content-length"]) == len(r.content)
        assert len(r.content) > 24 * megabyte
        report = verify(read_bundle(r.content), platform_trust(c.evidence_keys, c.tsa))
        assert report.verdict.value == "PASSED", report.to_dict()
        path = tmp_path / "bundle.zip"
        tracemalloc.start()
        with path.open("wb") as out:
            export_bundle(c.new_uow(), c.seal_services, tenant.id, s.sid, out)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    c.close()
    assert path.stat().st_size > 24 * megabyte
    assert peak < 8 * megabyte, f"exporting a {path.stat().st_size // megabyte} MB bundle held {peak} bytes"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(io.BytesIO(r.content)) as sent:
        assert z.namelist() == sent.namelist()
        same = [n for n in z.namelist() if z.read(n) == sent.read(n)]
        assert same == [n for n in z.namelist() if n != "export.sig"]  # ECDSA signs anew each time
