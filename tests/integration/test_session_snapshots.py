"""Sessions kept in memory between commands: a chunk or an answer does not replay the session from its
first event, yet never acts on a stale state — not after another process wrote, not after a command
rolled back, not when writers race — and the chain stays exact."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dualsign.application.event_store import iso_time, persist, to_domain
from dualsign.application.integrator.sessions import NewSession, Upload, create_session, load_aggregate
from dualsign.application.integrator.template_catalog import (
    parse_template_yaml,
    publish_template,
    template_of,
)
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.records import SessionSnapshot
from dualsign.application.signer import flow as signer
from dualsign.application.signer import recording
from dualsign.bootstrap.container import Container
from dualsign.domain.event_payloads import WarningDetails
from dualsign.domain.session import SigningSession
from dualsign.storage.database import SqlUnitOfWork
from dualsign.storage.repositories import SessionSnapshots, SqlEvents
from dualsign_verify.records import GENESIS, make_record, record_digests
from tests.conftest import FixedClock, make_container
from tests.integration.helpers import PDF, PHOTO

FAKES = {
    "DUALSIGN_ASR": "fake",
    "DUALSIGN_TTS": "fake",
    "DUALSIGN_FACE": "fake",
    "DUALSIGN_LANDMARKS": "fake",
    "DUALSIGN_WORKER": "off",
}


def template(questions: int, prompt: str = "Do you confirm point {n} of the policy?") -> str:
    lines = [
        "kind: dualsign.template",
        "version: 1",
        "key: snapshot-check",
        "title: Snapshot check",
        "scenario: other",
        "language: en-US",
        "consent: {recording: This session is recorded., biometric: No face data is processed.}",
        "identity: {required: false}",
        "liveness: {required: false}",
        "questions:",
    ]
    for n in range(1, questions + 1):
        lines += [f"  - id: q{n}", "    category: other", f"    prompt: {prompt.format(n=n)}"]
        lines += ['    acceptable: ["yes"]']
    return "\n".join(lines) + "\n"


class Signer:
    """One session driven through the services the API routes call, on whichever process is given."""

    def __init__(self, c: Container, tenant_id: str) -> None:
        req = NewSession(
            template_key="snapshot-check",
            signer_name="Test Signer",
            signer_id_number="X1234567",
            id_type="other",
            signer_phone="13800000000",
            identity_photo=Upload("identity_photo", "p.jpg", "image/jpeg", PHOTO),
            documents=[Upload("documents", "d.pdf", "application/pdf", PDF)],
        )
        created = create_session(c.new_uow(), c.session_services, tenant_id, req)
        self.sid, self.token = created.session.id, created.token
        signer.open_session(c.new_uow(), c.signer_services, self.token, {})
        signer.consent(c.new_uow(), c.signer_services, self.token, agree=True)

    def chunk(self, c: Container, index: int, size: int = 1000) -> recording.ChunkAck:
        data = hashlib.sha256(f"{self.sid}/{index}".encode()).digest() * (size // 32 + 1)
        data = data[:size]
        return recording.upload_chunk(
            c.new_uow(),
            c.signer_services,
            self.token,
            segment=0,
            index=index,
            data=data,
            declared_sha256=hashlib.sha256(data).hexdigest(),
            started_ms=index * 2000,
            ended_ms=index * 2000 + 2000,
        )

    def answer(self, c: Container) -> signer.SignerView:
        return signer.answer_text(c.new_uow(), c.signer_services, self.token, "yes")


@dataclass
class Processes:
    """Two API processes on one database and one data directory, each with its own memory."""

    a: Container
    b: Container
    tenant_id: str

    def signer(self) -> Signer:
        return Signer(self.a, self.tenant_id)


@pytest.fixture
def two(tmp_path: Path, database_url: str) -> Iterator[Processes]:
    a, b = (make_container(tmp_path, database_url, FixedClock(), **FAKES) for _ in range(2))
    tenant, _ = create_tenant(a.new_uow(), a.clock, a.ids, "Example Life")
    publish_template(a.new_uow(), a.clock, a.ids, tenant.id, template(10))
    yield Processes(a, b, tenant.id)
    a.close()
    b.close()


def replayed(c: Container, sid: str) -> SigningSession:
    """The session replayed from its first stored event, without any snapshot."""
    with c.new_uow() as uow:
        record = uow.sessions.get(sid)
        version = uow.templates.get(record.template_version_id) if record else None
        assert version is not None
        return SigningSession.replay(sid, template_of(version), to_domain(uow.events.list(sid)))


def loaded(c: Container, sid: str) -> SigningSession:
    with c.new_uow() as uow:
        return load_aggregate(uow, sid)[1]


def chain(c: Container, sid: str) -> list[Any]:
    """The stored events, checked: numbered without a hole, each linked to and hashing as recorded."""
    with c.new_uow() as uow:
        events = list(uow.events.list(sid))
    prev = GENESIS
    for n, e in enumerate(events, 1):
        assert (e.seq, e.prev) == (n, prev), f"event {n} is numbered {e.seq} or does not link"
        record = make_record(kind=e.kind, seq=e.seq, time=iso_time(e.at), payload=e.payload, prev=e.prev)
        assert record_digests(record).sha256 == e.sha256, f"event {n} does not hash as recorded"
        prev = e.sha256
    return events


@pytest.fixture
def full_replays(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every read of a session's whole chain, so a command that still replays shows itself."""
    replays: list[str] = []
    original = SqlEvents.list

    def whole_chain(self: SqlEvents, session_id: str) -> Any:
        replays.append(session_id)
        return original(self, session_id)

    monkeypatch.setattr(SqlEvents, "list", whole_chain)
    return replays


def test_chunks_and_answers_on_two_processes_catch_up_instead_of_replaying(
    two: Processes, full_replays: list[str]
) -> None:
    a, b = two.a, two.b
    s = two.signer()
    for i in range(5):
        assert not s.chunk(a, i).duplicate
    assert s.answer(a).prompt is not None
    assert full_replays == [s.sid]  # replayed once, at the first load after creation; kept since
    assert not s.chunk(b, 5).duplicate  # another process: it has kept nothing yet
    assert full_replays == [s.sid, s.sid]
    del full_replays[:]
    # each process now catches up with what the other stored, and nothing is replayed from event 1
    assert s.chunk(a, 6).duplicate is False
    assert s.chunk(b, 6).duplicate is True  # b sees a's chunk 6: a retry, not a new chunk
    view = s.answer(b)
    assert view.prompt is not None and view.prompt.question_id == "q3"
    view = s.answer(a)  # a sees b's answer: q3 is answered, q4 asked
    assert view.prompt is not None and view.prompt.question_id == "q4"
    assert s.chunk(b, 7).duplicate is False
    assert full_replays == []
    events = chain(a, s.sid)
    for c in (a, b):
        kept = loaded(c, s.sid)
        assert vars(kept) == vars(replayed(c, s.sid))
        assert len(kept.events) == len(events)
    assert sorted(i for _, i in loaded(b, s.sid).recording_chunks()) == list(range(8))


def test_a_command_that_does_not_commit_leaves_no_trace_in_the_next_load(
    two: Processes, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = two.a
    s = two.signer()
    s.chunk(a, 0)
    before = chain(a, s.sid)
    with a.new_uow() as uow:  # an aggregate changed and appended, then rolled back
        _, session = load_aggregate(uow, s.sid)
        details: WarningDetails = {
            "since_s": 3.0,
            "raised_at_s": 4.5,
            "after_s": 1.5,
            "stream_time_s": 4.5,
            "snapshot_sha256": "0" * 64,
        }
        persist(uow, session, [session.warn(a.clock.now(), warning="no_face", details=details)])
    working = SqlUnitOfWork.commit

    def commit_fails(self: SqlUnitOfWork) -> None:
        raise RuntimeError("the database went away at commit")

    monkeypatch.setattr(SqlUnitOfWork, "commit", commit_fails)
    with pytest.raises(RuntimeError, match="went away"):
        s.chunk(a, 1)
    with pytest.raises(RuntimeError, match="went away"):
        s.answer(a)
    monkeypatch.setattr(SqlUnitOfWork, "commit", working)
    assert chain(a, s.sid) == before
    session = loaded(a, s.sid)
    assert session.warnings == 0 and list(session.recording_chunks()) == [(0, 0)]
    assert vars(session) == vars(replayed(a, s.sid))
    assert s.chunk(a, 1).duplicate is False  # never stored: taken as new, and linked to the stored head
    view = s.answer(a)
    assert view.prompt is not None and view.prompt.question_id == "q2"
    assert len(chain(a, s.sid)) == len(before) + 4  # the chunk; the answer judged, q1 passed, q2 asked
    assert vars(loaded(a, s.sid)) == vars(replayed(a, s.sid))


def test_writers_racing_on_two_processes_keep_the_chain_exact(two: Processes) -> None:
    """Four threads on two processes upload chunks and answer at once: on PostgreSQL the session's row
    lock orders them across processes, on SQLite the process's lock (and the (session, seq) key)."""
    a, b = two.a, two.b
    s = two.signer()
    s.chunk(b, 0)  # both processes keep the session
    acked: dict[int, bool] = {}
    errors: list[BaseException] = []

    def work(c: Container, first: int) -> None:
        try:
            for i in range(first, first + 12):
                acked[i] = s.chunk(c, i).duplicate
                if i % 6 == 0:
                    s.answer(c)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=work, args=w) for w in ((a, 1), (b, 13), (a, 25), (b, 37))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert sorted(acked) == list(range(1, 49)) and not any(acked.values())
    events = chain(a, s.sid)
    stored = [e.payload["index"] for e in events if e.payload.get("role") == "recording_chunk"]
    assert sorted(stored) == list(range(49))  # every acknowledged chunk once
    judged = [(e.payload["question_id"], e.payload["verdict"]) for e in events if e.kind == "answer_judged"]
    assert judged == [(f"q{n}", "ACCEPT") for n in range(1, 9)]  # eight answers, each to the next question
    for c in (a, b):
        assert vars(loaded(c, s.sid)) == vars(replayed(c, s.sid))


def test_a_new_template_version_is_for_new_sessions_only(two: Processes) -> None:
    a, b = two.a, two.b
    first = two.signer()
    first.chunk(a, 0)  # kept by both processes
    first.chunk(b, 1)
    changed = template(10, "Do you accept clause {n} as amended?")
    assert publish_template(a.new_uow(), a.clock, a.ids, two.tenant_id, changed).created
    second = Signer(b, two.tenant_id)
    for c in (a, b):
        old, new = loaded(c, first.sid), loaded(c, second.sid)
        assert old.template.questions[1].prompt == "Do you confirm point 2 of the policy?"
        assert new.template.questions[1].prompt == "Do you accept clause 2 as amended?"
    view = first.answer(b)
    assert view.prompt is not None and view.prompt.text == "Do you confirm point 2 of the policy?"
    view = second.answer(a)
    assert view.prompt is not None and view.prompt.text == "Do you accept clause 2 as amended?"


def test_the_process_keeps_at_most_its_capacity_of_sessions_least_recently_used_first() -> None:
    kept = SessionSnapshots(capacity=2)
    sessions = [SigningSession(f"ses_{n}", parse_template_yaml(template(1))) for n in range(3)]
    for s in sessions:
        kept.put(SessionSnapshot(s, 1, "0" * 64))
    assert kept.take("ses_0") is None  # the least recently used, forgotten
    taken = kept.take("ses_1")
    assert taken is not None and taken.session is sessions[1]
    assert kept.take("ses_1") is None  # taken: its taker owns it until it is put back
