"""The SM3 of every artifact is computed once, when it is stored, and sealing lists it from the chain
instead of reading every blob back; artifacts stored without one (before, or where the platform had no
SM3) are hashed at sealing as they always were; a blob that is gone fails the seal; every bundle verifies.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dualsign.api.app import create_app
from dualsign.application.event_store import append_events
from dualsign.application.evidence.sealing import export_bundle, platform_trust, seal_session
from dualsign.application.integrator.sessions import cancel_session, load_aggregate
from dualsign.application.ports import BlobStore
from dualsign.application.records import Artifact, BlobRef, Seal
from dualsign.bootstrap.container import Container
from dualsign.domain.errors import NotFound
from dualsign.domain.session import Event
from dualsign.domain.states import EventKind
from dualsign_verify.bundle import read_bundle
from dualsign_verify.records import sm3_hex
from dualsign_verify.verifier import Status, verify
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import create, tenant_headers

ANSWER_AUDIO = b"RIFF" + bytes(range(256)) * 64  # bytes of an answer recording stored before SM3 was kept


class CountingBlobs:
    """The container's blob store, counting what is read back."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.read: list[str] = []

    def put(self, data: bytes) -> BlobRef:
        return self.inner.put(data)

    def get(self, sha256: str) -> bytes:
        self.read.append(sha256)
        return self.inner.get(sha256)

    def exists(self, sha256: str) -> bool:
        return self.inner.exists(sha256)

    def delete(self, sha256: str) -> None:
        self.inner.delete(sha256)

    def retain(self, sha256: str, until: datetime) -> None:
        self.inner.retain(sha256, until)


@pytest.fixture
def env(tmp_path: Path, database_url: str, clock: FixedClock) -> Iterator[tuple[Container, str, str]]:
    """A session with its identity photo and document (cancelled: nothing sealed yet, worker off)."""
    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        sid = create(client, tenant_headers(c, "Ingest Insurance")).json()["id"]
    yield c, sid, _tenant_of(c, sid)
    c.close()


def _tenant_of(c: Container, sid: str) -> str:
    with c.new_uow() as u:
        record = u.sessions.get(sid)
    assert record is not None
    return record.tenant_id


def _cancel(c: Container, tenant_id: str, sid: str) -> None:
    cancel_session(c.new_uow(), c.clock, tenant_id, sid, "test")


def _seal(c: Container, sid: str, blobs: BlobStore) -> Seal:
    sealed = seal_session(c.new_uow(), replace(c.seal_services, blobs=blobs), sid)
    assert isinstance(sealed, Seal), sealed
    return sealed


def _manifest(c: Container, seal: Seal) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads(c.blobs.get(seal.manifest_blob))
    return manifest


def _exported(c: Container, tenant_id: str, sid: str) -> bytes:
    out = io.BytesIO()
    export_bundle(c.new_uow(), c.seal_services, tenant_id, sid, out)
    return out.getvalue()


def _verified(c: Container, tenant_id: str, sid: str) -> dict[int, Any]:
    bundle = _exported(c, tenant_id, sid)
    report = verify(read_bundle(bundle), platform_trust(c.evidence_keys, c.tsa), sm3=True)
    assert report.verdict is Status.PASSED, report.to_dict()
    return {s.number: s for s in report.steps}


def _add_artifact_without_sm3(c: Container, sid: str, payload_sm3: str) -> str:
    """An ``answer_audio`` artifact as stored before this version kept SM3 with it (``absent``: its event
    has no ``sm3`` at all), or where the platform's OpenSSL had none (``null``)."""
    ref = c.blobs.put(ANSWER_AUDIO)
    now = c.clock.now()
    payload: dict[str, Any] = {
        "role": "answer_audio",
        "sha256": ref.sha256,
        "size": ref.size,
        "media_type": "audio/wav",
    }
    if payload_sm3 == "null":
        payload["sm3"] = None
    with c.new_uow() as u:
        load_aggregate(u, sid)  # holds the session while its chain grows
        u.artifacts.add(
            Artifact("art_old", sid, "answer_audio", "q1.wav", ref.sha256, ref.size, "audio/wav", now)
        )
        append_events(u, sid, [Event(EventKind.ARTIFACT_STORED, now, payload)])
        u.commit()
    return ref.sha256


def test_sealing_lists_the_sm3_recorded_at_ingest_and_reads_no_blob_back(
    env: tuple[Container, str, str],
) -> None:
    c, sid, tenant_id = env
    with c.new_uow() as u:
        stored = [e.payload for e in u.events.list(sid) if e.kind == EventKind.ARTIFACT_STORED]
    assert {p["role"] for p in stored} == {"identity_photo", "document"}
    for p in stored:  # the SM3 of the plaintext, recorded as it arrived
        assert p["sm3"] == sm3_hex(c.blobs.get(p["sha256"])), p
    _cancel(c, tenant_id, sid)
    blobs = CountingBlobs(c.blobs)
    seal = _seal(c, sid, blobs)
    assert blobs.read == []  # no artifact is read back (and decrypted) to be hashed again
    listed = {a["sha256"]: a["sm3"] for a in _manifest(c, seal)["artifacts"]}
    assert listed == {p["sha256"]: p["sm3"] for p in stored}
    step = _verified(c, tenant_id, sid)[2]
    assert step.reason == "2 artifacts match their SHA-256 and SM3"


@pytest.mark.parametrize("payload_sm3", ["absent", "null"])
def test_an_artifact_stored_without_sm3_is_hashed_at_sealing_and_its_bundle_verifies(
    env: tuple[Container, str, str], payload_sm3: str
) -> None:
    c, sid, tenant_id = env
    old = _add_artifact_without_sm3(c, sid, payload_sm3)
    _cancel(c, tenant_id, sid)
    blobs = CountingBlobs(c.blobs)
    seal = _seal(c, sid, blobs)
    assert blobs.read == [old]  # that one only, read back and hashed as sealing always did
    listed = {a["sha256"]: a["sm3"] for a in _manifest(c, seal)["artifacts"]}
    assert listed[old] == sm3_hex(ANSWER_AUDIO) and len(listed) == 3
    assert _verified(c, tenant_id, sid)[2].reason == "3 artifacts match their SHA-256 and SM3"


@pytest.mark.parametrize("which", ["recorded", "not recorded"])
def test_an_artifact_whose_blob_is_gone_fails_the_seal(env: tuple[Container, str, str], which: str) -> None:
    """Fail closed, whether its SM3 was recorded (the blob is looked for) or must be computed (read)."""
    c, sid, tenant_id = env
    if which == "recorded":
        with c.new_uow() as u:
            gone = next(a.sha256 for a in u.artifacts.list(sid) if a.role == "document")
    else:
        gone = _add_artifact_without_sm3(c, sid, "absent")
    _cancel(c, tenant_id, sid)
    c.blobs.delete(gone)
    with pytest.raises(NotFound, match=gone):
        seal_session(c.new_uow(), c.seal_services, sid)
    with c.new_uow() as u:
        assert u.seals.get(sid) is None
        assert EventKind.EVIDENCE_SEALED.value not in [e.kind for e in u.events.list(sid)]


def test_the_signers_artifacts_carry_their_sm3_into_a_bundle_that_verifies(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    """Creation (photo, document), signing (the mark, the signed PDF) and the recording's chunks, all
    stored the one way: each event's SM3 is its bytes', each row says what its event says, and the
    session sealed when the page closed the recording verifies with those SM3 in its manifest."""
    from tests.integration.test_recording import _signed_with_recording, new_session, put

    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off", DUALSIGN_POST_HOC="false")
    with TestClient(create_app(c)) as client:
        headers, signer, sid = new_session(client, c)
        _signed_with_recording(client, clock, signer)
        assert put(client, signer, 0, 1, b"webm-1").status_code == 201
        closed = client.post("/signer/v1/recording/finish", headers=signer, json={"segments": {"0": 2}})
        assert closed.status_code == 200, closed.text
        events = client.get(f"/v1/sessions/{sid}/events", headers=headers).json()
    stored = [e["payload"] for e in events if e["kind"] == "artifact_stored"]
    roles = {p["role"] for p in stored}
    assert {"identity_photo", "document", "signature_mark", "signed_document", "recording_chunk"} <= roles
    for p in stored:
        assert (
            p["sm3"] == sm3_hex(c.blobs.get(p["sha256"]))
            and p["sha256"] == hashlib.sha256(c.blobs.get(p["sha256"])).hexdigest()
        ), p
    with c.new_uow() as u:  # every row is described as its event describes it
        rows = {(a.role, a.sha256, a.size, a.media_type) for a in u.artifacts.list(sid)}
    assert rows == {(p["role"], p["sha256"], p["size"], p["media_type"]) for p in stored}
    with c.new_uow() as u:
        seal = u.seals.get(sid)
    assert seal is not None  # sealed when the recording closed (post-hoc analysis off)
    bundle = _exported(c, _tenant_of(c, sid), sid)
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert {a["sha256"]: a["sm3"] for a in manifest["artifacts"]} == {p["sha256"]: p["sm3"] for p in stored}
    report = verify(read_bundle(bundle), platform_trust(c.evidence_keys, c.tsa), sm3=True)
    assert report.verdict is Status.PASSED, report.to_dict()
    c.close()


def test_a_chunk_sent_again_is_acknowledged_as_such_and_kept_once(
    tmp_path: Path, database_url: str, clock: FixedClock
) -> None:
    from tests.integration.test_recording import new_session, put

    c = make_container(tmp_path, database_url, clock, DUALSIGN_WORKER="off")
    with TestClient(create_app(c)) as client:
        _, signer, sid = new_session(client, c)
        client.post("/signer/v1/open", headers=signer)
        client.post("/signer/v1/consent", headers=signer, json={"agree": True})
        first = put(client, signer, 0, 0, b"webm-0")
        again = put(client, signer, 0, 0, b"webm-0")
    with c.new_uow() as u:
        names = [a.name for a in u.artifacts.list(sid)]
    c.close()
    ack = {"segment": 0, "index": 0, "sha256": hashlib.sha256(b"webm-0").hexdigest(), "size": 6}
    assert (first.status_code, first.json()) == (201, {**ack, "duplicate": False})
    assert (again.status_code, again.json()) == (200, {**ack, "duplicate": True})
    assert names.count("recording-00-00000.webm") == 1
