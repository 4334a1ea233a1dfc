"""Bundles forged as an adversary would (issue #21), against real bundles sealed through the HTTP API and
the platform's trust file as `dualsign keys export-trust` writes it. Each case passed before the trust
policy, the export statement, safe reading and byte-level record hashing; none may pass now."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import cms, tsp
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from typer.testing import CliRunner

from dualsign.api.app import create_app
from dualsign.bootstrap.container import Container
from dualsign.cli.main import app as cli
from dualsign.signing.tsa_local import SELF_ATTESTED_POLICY
from dualsign_verify import merkle
from dualsign_verify.bundle import MalformedBundle, read_bundle
from dualsign_verify.checkpoint import Checkpoint, sign
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers
from tests.integration.test_evidence import files_of, rezip
from tests.integration.test_external_tsa import _cert

VERIFY = [sys.executable, "-m", "dualsign_verify.cli"]
HONEST_SUMMARY = "终身寿险投保\u2028年交保费 3600 元\u0085第二行"


def _sealed(tmp: Path, name: str, **form: str) -> tuple[Container, list[bytes]]:
    c = make_container(tmp, f"sqlite:///{tmp / 'db.sqlite'}", FixedClock())
    bundles = []
    with TestClient(create_app(c)) as client:
        headers = tenant_headers(c, name)
        for overrides in ({}, {}, form):
            sid = create(client, headers, **overrides).json()["id"]
            client.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "test"})
            bundle = client.get(f"/v1/sessions/{sid}/bundle", headers=headers)
            assert bundle.status_code == 200, bundle.text
            bundles.append(bundle.content)
    return c, bundles


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two sessions of this platform and one with U+2028/U+0085 in its summary; a bundle of another
    platform (its own keys, as a forger re-signing end to end would have); this platform's trust file."""
    tmp = tmp_path_factory.mktemp("corpus")
    c, (a, b, odd) = _sealed(tmp, "Corpus Insurance", summary=HONEST_SUMMARY)
    env = {
        "DUALSIGN_DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite'}",
        "DUALSIGN_SECRET_KEY": "test-secret-key-0123456789abcdef-0123456789",
    }
    c.close()
    exported = CliRunner().invoke(cli, ["keys", "export-trust", "-o", str(tmp / "trust.json")], env=env)
    assert exported.exit_code == 0, exported.output
    foreign_tmp = tmp_path_factory.mktemp("forger")
    f, (foreign, _, _) = _sealed(foreign_tmp, "Forger")
    f.close()
    return {
        "a": a,
        "b": b,
        "odd": odd,
        "foreign": foreign,
        "trust.json": (tmp / "trust.json").read_bytes(),
    }


def cli_run(tmp: Path, bundle: bytes, trust: bytes | None) -> subprocess.CompletedProcess[str]:
    (tmp / "bundle.zip").write_bytes(bundle)
    extra = []
    if trust is not None:
        (tmp / "trust.json").write_bytes(trust)
        extra = ["--trust", str(tmp / "trust.json")]
    return subprocess.run([*VERIFY, str(tmp / "bundle.zip"), *extra], capture_output=True, text=True)


def steps(bundle: bytes, trust: bytes) -> dict[int, Status]:
    return {s.number: s.status for s in verify(read_bundle(bundle), parse_policy(trust)).steps}


def test_the_trust_file_is_the_platforms_and_an_untouched_bundle_passes_under_it(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    trust = json.loads(corpus["trust.json"])
    assert trust["kind"] == "dualsign.trust" and len(trust["platform_roots"]) == 1
    assert trust["logs"][0]["origin"] == "dualsign.local/log"
    done = cli_run(tmp_path, corpus["a"], corpus["trust.json"])
    assert done.returncode == 0 and done.stdout.strip().endswith("PASSED"), done.stdout
    step7 = done.stdout.splitlines()[6]
    assert step7.count("self-attested") == 1, step7


def test_without_a_trust_file_a_genuine_bundle_is_indeterminate_with_fingerprints(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    done = cli_run(tmp_path, corpus["a"], None)
    assert done.returncode == 2, done.stdout
    fingerprint = json.loads(corpus["trust.json"])["platform_roots"][0]["sha256"]
    assert f"platform_root  sha256:{fingerprint}" in done.stdout
    assert "log" in done.stdout.split("No trust policy given")[1]


def test_a_bundle_re_signed_end_to_end_with_foreign_keys_fails(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    assert cli_run(tmp_path, corpus["foreign"], None).returncode == 2  # self-consistent, never PASSED
    done = cli_run(tmp_path, corpus["foreign"], corpus["trust.json"])
    assert done.returncode == 1, done.stdout
    assert steps(corpus["foreign"], corpus["trust.json"])[6] is Status.FAILED


def _attacker_tsa(backdated: dt.datetime) -> tuple[DummyTimeStamper, bytes, bytes]:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _cert("Attacker TSA Root", ca_key, None, ca_key, True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = _cert("Attacker TSA", key, ca, ca_key, False)
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        fixed_dt=backdated,
    )
    pem = serialization.Encoding.PEM
    return stamper, cert.public_bytes(pem), ca.public_bytes(pem)


def backdated_token_from_a_tsa_shipped_in_the_bundle(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    stamper, cert, root = _attacker_tsa(dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    request = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(f["manifest.sig"]).digest(),
            },
            "cert_req": True,
        }
    )
    f["manifest.tsr"] = stamper.request_tsa_response(request)["time_stamp_token"].dump()
    f["certs/tsa.pem"], f["certs/tsa-root.pem"] = cert, root


def _one_leaf_log(f: dict[str, bytes], origin: str) -> None:
    key = Ed25519PrivateKey.generate()
    leaf = merkle.leaf_hash(hashlib.sha256(f["manifest.json"]).digest())
    f["log/checkpoint.txt"] = sign(Checkpoint(origin, 1, leaf), origin, key).encode()
    f["log/inclusion.json"] = json.dumps({"index": 0, "size": 1, "proof": []}).encode()
    public = base64.b64encode(key.public_key().public_bytes_raw()).decode()
    f["log/key.json"] = json.dumps({"name": origin, "algorithm": "ed25519", "public_key": public}).encode()


def attackers_log_under_the_platforms_origin(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    _one_leaf_log(f, "dualsign.local/log")


def attackers_log_under_its_own_origin(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    _one_leaf_log(f, "attacker.example/log")


def report_of_another_session(f: dict[str, bytes], other: dict[str, bytes]) -> None:
    f["report.pdf"] = other["report.pdf"]


def report_and_its_statement_of_another_session(f: dict[str, bytes], other: dict[str, bytes]) -> None:
    for name in ("report.pdf", "export.json", "export.sig"):
        f[name] = other[name]


def report_deleted(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    del f["report.pdf"]


def report_and_statement_deleted(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    for name in ("report.pdf", "export.json", "export.sig"):
        del f[name]


def readme_rewritten(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    f["README.txt"] = f["README.txt"].replace(b"self-attested", b"trusted")


def corrected_report_added(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    f["report-corrected.pdf"] = f["report.pdf"]


def statement_added(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    f["notes/statement.txt"] = "本人确认上述内容有误。".encode()


def embedded_tsa_certificate_flipped(f: dict[str, bytes], _: dict[str, bytes]) -> None:
    token = cms.ContentInfo.load(f["manifest.tsr"])
    cert = token["content"]["certificates"][0].chosen.dump()
    at = f["manifest.tsr"].index(cert) + len(cert) - 40  # inside the certificate's signature value
    f["manifest.tsr"] = (
        f["manifest.tsr"][:at] + bytes([f["manifest.tsr"][at] ^ 1]) + f["manifest.tsr"][at + 1 :]
    )


Mutation = Callable[[dict[str, bytes], dict[str, bytes]], None]


@pytest.mark.parametrize(
    ("mutation", "step"),
    [
        (backdated_token_from_a_tsa_shipped_in_the_bundle, 7),
        (embedded_tsa_certificate_flipped, 7),
        (attackers_log_under_the_platforms_origin, 8),
        (attackers_log_under_its_own_origin, 8),
        (report_of_another_session, 9),
        (report_and_its_statement_of_another_session, 9),
        (report_deleted, 9),
        (report_and_statement_deleted, 9),
        (readme_rewritten, 9),
        (corrected_report_added, 1),
        (statement_added, 1),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_a_forgery_fails_at_its_step(corpus: dict[str, bytes], mutation: Mutation, step: int) -> None:
    files = files_of(corpus["a"])
    mutation(files, files_of(corpus["b"]))
    report = verify(read_bundle(rezip(files)), parse_policy(corpus["trust.json"]))
    failed = [s for s in report.steps if s.status is Status.FAILED]
    assert report.verdict is Status.FAILED and failed[0].number == step, report.to_dict()


def test_a_forged_timestamp_is_not_passed_even_without_a_trust_file(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    files = files_of(corpus["a"])
    backdated_token_from_a_tsa_shipped_in_the_bundle(files, {})
    done = cli_run(tmp_path, rezip(files), None)
    assert done.returncode == 2 and "anchored by no trust policy" in done.stdout.splitlines()[6]


def _with_line(files: dict[str, bytes], edit: Callable[[bytes], bytes]) -> bytes:
    lines = files["events.jsonl"].split(b"\n")
    lines[0] = edit(lines[0])
    files["events.jsonl"] = b"\n".join(lines)
    return rezip(files)


@pytest.mark.parametrize(
    "edit",
    [
        lambda line: b'{"kind":"consent_given",' + line[1:],  # a top-level key before the real one
        lambda line: line.replace(b'"payload":{', b'"payload":{"verdict":"ACCEPT","verdict":"REJECT",'),
    ],
    ids=["record_key", "payload_key"],
)
def test_a_record_with_a_duplicate_key_inserted_before_the_real_one_is_refused(
    corpus: dict[str, bytes], tmp_path: Path, edit: Callable[[bytes], bytes]
) -> None:
    bundle = _with_line(files_of(corpus["a"]), edit)
    done = cli_run(tmp_path, bundle, corpus["trust.json"])
    assert done.returncode == 3 and "duplicate key" in done.stdout, done.stdout
    assert len(done.stdout.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_record_not_stored_as_its_canonical_json_fails_the_chain(corpus: dict[str, bytes]) -> None:
    bundle = _with_line(files_of(corpus["a"]), lambda line: line.replace(b'","', b'", "', 1))
    assert steps(bundle, corpus["trust.json"])[3] is Status.FAILED


def test_an_honest_record_with_u2028_and_u0085_passes(corpus: dict[str, bytes], tmp_path: Path) -> None:
    events = files_of(corpus["odd"])["events.jsonl"]
    assert "\u2028".encode() in events and "\u0085".encode() in events
    done = cli_run(tmp_path, corpus["odd"], corpus["trust.json"])
    assert done.returncode == 0, done.stdout


def test_the_self_attested_tsa_uses_the_projects_private_policy_oid(corpus: dict[str, bytes]) -> None:
    token = cms.ContentInfo.load(files_of(corpus["a"])["manifest.tsr"])
    info = token["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == SELF_ATTESTED_POLICY and SELF_ATTESTED_POLICY.startswith("2.25.")


def _zip_with(files: dict[str, bytes], name: str, zeros: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
        info = zipfile.ZipInfo(name)
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as out:
            block = bytes(1024 * 1024)
            for _ in range(zeros // len(block)):
                out.write(block)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["artifacts/" + "0" * 64, "events.jsonl.bak", "report.pdf"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(
    corpus: dict[str, bytes], tmp_path: Path, name: str
) -> None:
    files = files_of(corpus["a"])
    files.pop(name, None)
    bomb = _zip_with(files, name, 512 * 1024**2)
    assert len(bomb) < 5 * 1024**2
    (tmp_path / "bundle.zip").write_bytes(bomb)
    (tmp_path / "trust.json").write_bytes(corpus["trust.json"])
    # the verifier's own peak memory, measured by a fresh parent that runs nothing else
    measure = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "print(done.stdout)"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            measure,
            *VERIFY,
            str(tmp_path / "bundle.zip"),
            "--trust",
            str(tmp_path / "trust.json"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    first, verifier_stdout = out.split("\n", 1)
    returncode, peak_kib = (int(v) for v in first.split())
    assert returncode == 3 and "expands" in verifier_stdout, out
    assert peak_kib < 400 * 1024, f"peak {peak_kib} KiB"


def test_compressed_artifacts_are_hashed_as_a_stream(corpus: dict[str, bytes]) -> None:
    files = files_of(corpus["a"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)
    bundle = read_bundle(buf.getvalue())
    assert not bundle.views and any(n.startswith("artifacts/") for n in bundle.names)
    assert verify(bundle, parse_policy(corpus["trust.json"])).verdict is Status.PASSED


def _deflated(files: dict[str, bytes]) -> tuple[bytes, zipfile.ZipInfo]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for n, data in files.items():
            z.writestr(n, data)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
        return buf.getvalue(), z.getinfo("events.jsonl")


def test_corrupt_deflate_and_truncation_are_malformed_in_one_line(
    corpus: dict[str, bytes], tmp_path: Path
) -> None:
    data, info = _deflated(files_of(corpus["a"]))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    corrupt = data[:start] + b"\xff" * info.compress_size + data[start + info.compress_size :]
    with pytest.raises(MalformedBundle, match=r"events\.jsonl"):
        read_bundle(corrupt)
    for bad in (corrupt, data[: len(data) // 2], zlib.compress(data)):
        done = cli_run(tmp_path, bad, corpus["trust.json"])
        assert done.returncode == 3 and len(done.stdout.strip().splitlines()) == 1, done.stdout
        assert "Traceback" not in done.stderr, done.stderr


def test_bad_json_in_the_manifest_is_malformed(corpus: dict[str, bytes], tmp_path: Path) -> None:
    files = files_of(corpus["a"])
    files["manifest.json"] = files["manifest.json"][:-5]
    done = cli_run(tmp_path, rezip(files), corpus["trust.json"])
    assert done.returncode == 3 and done.stdout.startswith("not a readable DualSign bundle: manifest.json")
