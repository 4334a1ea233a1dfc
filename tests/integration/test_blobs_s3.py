"""The S3 blob store against a local S3-compatible server (moto's, on 127.0.0.1): content addressing,
checksums, Object Lock retention of sealed evidence, and a whole session sealed onto it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from fastapi.testclient import TestClient
from moto.server import ThreadedMotoServer

from dualsign.api.app import create_app
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import blob_store
from dualsign.domain.errors import NotFound
from dualsign.storage.blobs_encrypted import EncryptingBlobStore
from dualsign.storage.blobs_s3 import S3BlobStore
from dualsign_verify.bundle import read_bundle
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def bucket(endpoint: str, *, locked: bool = True) -> tuple[Any, str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    name = f"evidence-{os.urandom(4).hex()}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=locked)
    return client, name


def test_blobs_are_content_addressed_checked_and_retained(endpoint: str) -> None:
    client, name = bucket(endpoint)
    store = S3BlobStore(client, name, "dualsign/")
    assert store.check_object_lock() == "Enabled"
    ref = store.put(b"recording chunk")
    again = store.put(b"recording chunk")
    assert ref == again and store.get(ref.sha256) == b"recording chunk" and store.exists(ref.sha256)
    listed = client.list_object_versions(Bucket=name, Prefix="dualsign/sha256/")["Versions"]
    assert [v["Key"] for v in listed] == [f"dualsign/sha256/{ref.sha256}"]  # stored once
    with pytest.raises(NotFound):
        store.get("0" * 64)
    with pytest.raises(NotFound):
        store.get("../../etc/passwd")
    assert not store.exists("0" * 64)
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=365 * 5)
    store.retain(ref.sha256, until)
    store.retain(ref.sha256, until - timedelta(days=30))  # never shortened
    held = client.head_object(Bucket=name, Key=f"dualsign/sha256/{ref.sha256}")
    assert held["ObjectLockMode"] == "COMPLIANCE" and held["ObjectLockRetainUntilDate"] == until
    with pytest.raises(ClientError):  # the store itself refuses: nobody deletes evidence early
        store.delete(ref.sha256)
    assert store.get(ref.sha256) == b"recording chunk"
    loose = store.put(b"not retained")
    store.delete(loose.sha256)
    assert not store.exists(loose.sha256)


def test_a_bucket_without_object_lock_is_refused_at_start(endpoint: str, tmp_path: Path) -> None:
    _, name = bucket(endpoint, locked=False)
    settings = load_settings(
        {
            "DUALSIGN_DATA_DIR": str(tmp_path),
            "DUALSIGN_SECRET_KEY": "s" * 40,
            "DUALSIGN_BLOBS": "s3",
            "DUALSIGN_S3_BUCKET": name,
            "DUALSIGN_S3_ENDPOINT_URL": endpoint,
        }
    )
    with pytest.raises(SystemExit, match=f"bucket '{name}' has no Object Lock"):
        blob_store(settings)
    with pytest.raises(SystemExit, match="needs DUALSIGN_S3_BUCKET"):
        load_settings(
            {"DUALSIGN_DATA_DIR": str(tmp_path), "DUALSIGN_SECRET_KEY": "s" * 40, "DUALSIGN_BLOBS": "s3"}
        )


def test_a_session_sealed_onto_s3_verifies_and_its_evidence_is_locked(
    endpoint: str, tmp_path: Path, database_url: str
) -> None:
    client, name = bucket(endpoint)
    c = make_container(
        tmp_path,
        database_url,
        FixedClock(),
        DUALSIGN_WORKER="off",
        DUALSIGN_BLOBS="s3",
        DUALSIGN_S3_BUCKET=name,
        DUALSIGN_S3_ENDPOINT_URL=endpoint,
    )
    assert isinstance(c.blobs, EncryptingBlobStore) and isinstance(c.blobs.inner, S3BlobStore)
    with TestClient(create_app(c)) as api:
        headers = tenant_headers(c, "Locked Bank")
        sid = create(api, headers, contract_term_months="12").json()["id"]
        api.post(f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "customer left"})
        api.post(f"/v1/sessions/{sid}/seal", headers=headers)
        bundle = api.get(f"/v1/sessions/{sid}/bundle", headers=headers)
        assert bundle.status_code == 200, bundle.text
        until = datetime.fromisoformat(
            api.get(f"/v1/sessions/{sid}/retention", headers=headers).json()["retain_until"]
        )
        trust = parse_policy(api.get("/verify/trust").content)
    c.close()
    parsed = read_bundle(bundle.content)
    assert verify(parsed, trust).verdict is Status.PASSED
    digests = [a["sha256"] for a in parsed.manifest["artifacts"]]
    assert digests
    for digest in digests:  # encrypted at rest, and locked
        assert client.get_object(Bucket=name, Key=f"sha256/{digest}")["Body"].read().startswith(b"DSE1")
        held = client.head_object(Bucket=name, Key=f"sha256/{digest}")
        assert held["ObjectLockMode"] == "COMPLIANCE"
        assert held["ObjectLockRetainUntilDate"] >= until.replace(microsecond=0)
