"""Crash safety: the server (and a separate worker) are killed with SIGKILL at random moments while the
signer uploads recording chunks, answers questions and sessions are sealed; after each restart nothing
acknowledged is lost, every event chain links, and in the end every session is sealed and verifies.

Each trial picks what is under way (chunk uploads, answers, or a session ending and being sealed),
lets it run for a random 50-1000 ms, kills the process, restarts it and checks:
- every chunk the server acknowledged (201/200) is in the session's chain with its digest, and the
  stored blob hashes to it;
- every session's event records are numbered without a hole and each links to the one before;
and at the end every session reaches ``sealed`` (the seal was queued with the event that ended the
session, so a kill before sealing only delays it) and its bundle passes ``dualsign-verify``.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from dualsign.application.integrator.template_catalog import publish_template
from dualsign.application.integrator.tenants import create_tenant
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import build_container
from dualsign.storage.blobs_encrypted import EncryptingBlobStore, Keyring
from dualsign.storage.blobs_fs import FileBlobStore
from dualsign_verify.bundle import read_bundle
from dualsign_verify.records import make_record, record_digests
from dualsign_verify.trust import parse_policy
from dualsign_verify.verifier import Status, verify
from tests.integration.helpers import session_files, session_form

TRIALS = int(os.environ.get("DUALSIGN_CRASH_TRIALS", "50"))
TEMPLATE = Path(__file__).parent / "no_vision_template.yaml"
DUALSIGN = Path(sys.executable).parent / "dualsign"
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts"
ANSWERS = ["不知道", "知道", "没有"]  # a re-ask, then the two questions affirmed

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Platform:
    env: dict[str, str]
    url: str
    headers: dict[str, str]
    data_dir: Path
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    kills: dict[str, int] = field(default_factory=lambda: {"api": 0, "worker": 0})

    def start(self) -> None:
        if self.api is None or self.api.poll() is not None:
            self.api = subprocess.Popen(
                [str(DUALSIGN), "serve"], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        if self.worker is None or self.worker.poll() is not None:
            self.worker = subprocess.Popen(
                [str(DUALSIGN), "worker", "--poll", "0.2"],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not come back within 60 s")

    def kill(self, which: str) -> None:
        proc = self.api if which == "api" else self.worker
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.kills[which] += 1

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()


@dataclass
class Signer:
    sid: str
    token: str
    acked: dict[tuple[int, int], str] = field(default_factory=dict)  # (segment, index) → sha256
    next_index: int = 0
    pending: bytes | None = None  # the chunk being sent: kept until acknowledged, as the page keeps it
    answered: int = 0
    ended: bool = False


@pytest.fixture
def platform(tmp_path: Path, database_url: str) -> Iterator[Platform]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUALSIGN_")},
        "DUALSIGN_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "DUALSIGN_SECRET_KEY": "crash-test-secret-0123456789abcdef-0123",
        "DUALSIGN_PORT": str(port),
        "DUALSIGN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DUALSIGN_WORKER": "off",  # sealing retries and reports run in the separate worker process
        "DUALSIGN_ASR": "fake",
        "DUALSIGN_TTS": "fake",
        "DUALSIGN_VAD": "energy",
        "DUALSIGN_FACE": "fake",
        "DUALSIGN_LANDMARKS": "fake",
        "DUALSIGN_RECORDING_GRACE_SECONDS": "2",
        "DUALSIGN_JOB_LEASE_SECONDS": "3",
        "DUALSIGN_LOG_FORMAT": "text",
    }
    c = build_container(load_settings(env))
    _, key = create_tenant(c.new_uow(), c.clock, c.ids, "Crash Test Bank")
    publish_template(c.new_uow(), c.clock, c.ids, key.tenant_id, TEMPLATE.read_text(encoding="utf-8"))
    c.close()
    p = Platform(
        env, f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {key.secret}"}, tmp_path / "data"
    )
    p.start()
    yield p
    p.stop()


def new_signer(p: Platform) -> Signer:
    files = session_files()
    r = httpx.post(
        f"{p.url}/v1/sessions",
        headers=p.headers,
        data=session_form(template="text-mode-check"),
        files=files,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    s = Signer(body["id"], body["signer_url"].rsplit("/", 1)[1])
    h = {"X-Signer-Token": s.token}
    httpx.post(f"{p.url}/signer/v1/open", headers=h, timeout=10).raise_for_status()
    httpx.post(f"{p.url}/signer/v1/consent", headers=h, json={"agree": True}, timeout=10).raise_for_status()
    return s


def upload(p: Platform, s: Signer, rng: random.Random, stop: threading.Event) -> None:
    """Chunks of the current segment, one after the other, as the page sends them."""
    h = {"X-Signer-Token": s.token}
    while not stop.is_set():
        if s.pending is None:
            s.pending = rng.randbytes(rng.randint(2_000, 60_000))
        data = s.pending  # after a crash the same bytes go again: stored already (200) or now (201)
        digest = hashlib.sha256(data).hexdigest()
        index = s.next_index
        try:
            r = httpx.put(
                f"{p.url}/signer/v1/recording/0/{index}",
                headers={**h, "X-Content-SHA256": digest, "X-Chunk-Started-Ms": str(int(time.time() * 1000))},
                content=data,
                timeout=10,
            )
        except httpx.TransportError:
            return  # the server died: this chunk was never acknowledged (the page keeps and resends it)
        if r.status_code in (401, 409) and r.json().get("code") != "chunk_conflict":
            return  # the recording was closed meanwhile (the session is ending): refused, not acknowledged
        assert r.status_code in (200, 201), r.text
        s.acked[(0, index)] = digest
        s.next_index += 1
        s.pending = None


def answer(p: Platform, s: Signer, stop: threading.Event) -> None:
    h = {"X-Signer-Token": s.token}
    while not stop.is_set() and s.answered < len(ANSWERS):
        try:
            r = httpx.post(
                f"{p.url}/signer/v1/answers", headers=h, json={"text": ANSWERS[s.answered]}, timeout=10
            )
        except httpx.TransportError:
            # the answer may or may not have been recorded: the page asks the server where it stands
            return
        assert r.status_code == 200, r.text
        s.answered += 1


def end(p: Platform, s: Signer) -> None:
    """The page closes the recording and the integrator cancels: the session ends and is sealed."""
    h = {"X-Signer-Token": s.token}
    try:
        httpx.post(f"{p.url}/signer/v1/recording/finish", headers=h, json={"segments": {"0": s.next_index}})
        r = httpx.post(
            f"{p.url}/v1/sessions/{s.sid}/cancel",
            headers=p.headers,
            json={"reason": "crash test"},
            timeout=30,
        )
        if r.status_code in (200, 409):
            s.ended = True
    except httpx.TransportError:
        return


def resync(p: Platform, s: Signer) -> None:
    """After a restart, learn from the server how far the answers got (the page does the same)."""
    events = httpx.get(f"{p.url}/v1/sessions/{s.sid}/events", headers=p.headers, timeout=30).json()
    s.answered = sum(1 for e in events if e["kind"] == "answer_judged")
    s.ended = s.ended or any(e["kind"] == "session_cancelled" for e in events)


def check(p: Platform, s: Signer) -> None:
    events: list[dict[str, Any]] = httpx.get(
        f"{p.url}/v1/sessions/{s.sid}/events", headers=p.headers, timeout=30
    ).json()
    prev = "0" * 64
    for i, e in enumerate(events, 1):
        assert e["seq"] == i, f"{s.sid}: record {i} is numbered {e['seq']}"
        assert e["prev"] == prev, f"{s.sid}: record {i} does not link to record {i - 1}"
        record = make_record(
            kind=e["kind"],
            seq=e["seq"],
            time=e["time"],
            payload=e["payload"],
            prev=e["prev"],
            version=e["version"],
        )
        assert record_digests(record).sha256 == e["sha256"], f"{s.sid}: record {i} was altered"
        prev = e["sha256"]
    stored = {
        (e["payload"]["segment"], e["payload"]["index"]): e["payload"]["sha256"]
        for e in events
        if e["kind"] == "artifact_stored" and e["payload"].get("role") == "recording_chunk"
    }
    blobs = EncryptingBlobStore(FileBlobStore(p.data_dir / "blobs"), Keyring(p.data_dir / "keys" / "blobs"))
    for key, digest in s.acked.items():
        assert stored.get(key) == digest, f"{s.sid}: acknowledged chunk {key} is not in the chain"
        assert hashlib.sha256(blobs.get(digest)).hexdigest() == digest, f"{s.sid}: chunk {key} is damaged"


def test_sigkill_during_uploads_answers_and_sealing_loses_nothing(platform: Platform) -> None:
    p, rng = platform, random.Random(20261201)
    signers: list[Signer] = []
    trial_kinds: dict[str, int] = {"upload": 0, "answer": 0, "seal": 0}
    restarts: list[float] = []
    for trial in range(TRIALS):
        t0 = time.monotonic()
        open_ = [s for s in signers if not s.ended]
        if len(open_) < 2:
            open_.append(new_signer(p))
            signers.append(open_[-1])
        s = rng.choice(open_)
        kind = rng.choice(
            ["upload", "upload", "answer", "seal"] if s.answered < len(ANSWERS) else ["upload", "seal"]
        )
        trial_kinds[kind] += 1
        stop = threading.Event()
        target, arguments = {
            "upload": (upload, (p, s, rng, stop)),
            "answer": (answer, (p, s, stop)),
            "seal": (end, (p, s)),
        }[kind]
        thread = threading.Thread(target=target, args=arguments)
        thread.start()
        time.sleep(rng.uniform(0.05, 1.0))
        p.kill("api")
        if kind == "seal" or rng.random() < 0.3:
            p.kill("worker")  # sealing retries and reports die with it
        stop.set()
        thread.join(timeout=30)
        restarted = time.monotonic()
        p.start()
        restarts.append(time.monotonic() - restarted)
        t_start = time.monotonic()
        for other in signers:
            resync(p, other)
            check(p, other)
        if os.environ.get("DUALSIGN_CRASH_VERBOSE"):
            print(
                f"trial {trial} {kind}: {t_start - t0:.1f} s to restart, "
                f"{time.monotonic() - t_start:.1f} s checks"
            )
    for s in signers:  # the rest of the sessions end, and everything is sealed
        if not s.ended:
            end(p, s)
    deadline = time.monotonic() + 120
    pending = {s.sid for s in signers}
    while pending and time.monotonic() < deadline:
        for sid in sorted(pending):
            events = httpx.get(f"{p.url}/v1/sessions/{sid}/events", headers=p.headers, timeout=30).json()
            if any(e["kind"] == "evidence_sealed" for e in events):
                pending.discard(sid)
        time.sleep(0.5)
    if pending:
        tails = {
            sid: [
                e["kind"] for e in httpx.get(f"{p.url}/v1/sessions/{sid}/events", headers=p.headers).json()
            ][-6:]
            for sid in sorted(pending)
        }
        jobs = [
            line
            for line in httpx.get(f"{p.url}/metrics").text.splitlines()
            if line.startswith("dualsign_jobs")
        ]
        raise AssertionError(f"sessions stuck unsealed after the crashes: {tails}; jobs {jobs}")
    for s in signers:
        check(p, s)
        bundle = httpx.get(f"{p.url}/v1/sessions/{s.sid}/bundle", headers=p.headers, timeout=60)
        assert bundle.status_code == 200, bundle.text
        trust = parse_policy(httpx.get(f"{p.url}/verify/trust", timeout=60).content)
        report = verify(read_bundle(bundle.content), trust)
        assert report.verdict is Status.PASSED, report.to_dict()
    acked = sum(len(s.acked) for s in signers)
    summary = (
        f"crash test: {TRIALS} trials {trial_kinds}, {p.kills['api']} server and "
        f"{p.kills['worker']} worker kills, {len(signers)} sessions, {acked} acknowledged chunks: "
        f"all intact, all chains link, all sealed, all bundles verify; restart to ready "
        f"{min(restarts):.1f}-{max(restarts):.1f} s"
    )
    print(summary)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # the figures, kept beside the browser screenshots
    (ARTIFACTS / f"crash-{p.env['DATABASE_URL'].split(':')[0].split('+')[0]}.txt").write_text(summary + "\n")
