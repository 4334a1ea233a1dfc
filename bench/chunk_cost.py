"""Cost per recording chunk and per answer as one session grows: early in the session against late.

One session is driven through the application services the API calls (``recording.upload_chunk`` for
``PUT /signer/v1/recording/{segment}/{index}``, ``signer.answer_text`` for a typed answer, each with a
new unit of work as the routes make one), on SQLite and local encrypted files in a temporary directory
(``--db URL``: a database URL, e.g. an empty PostgreSQL database). Speech and vision engines are the
fakes, so what is measured is the service's own work: the lock, loading the session, the chain, the
blob, the rows, the commit.

The page uploads a chunk every 2 s, so chunk 900 is half an hour into the recording. Around chunk 10
(``--window`` chunks, each followed by an answer) and again around the last chunk the same is done and
timed; in between the recording grows without answers. Printed per kind: the median CPU time of this
process (``time.process_time``) and wall time over each window, early and late, and late / early
(target: ≤ 1.20 for both).

Run: ``.venv/bin/python bench/chunk_cost.py [--chunks 910] [--chunk-kb 200] [--db URL]``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.helpers import PDF, PHOTO

from dualsign.application import recording, signer
from dualsign.application.sessions import NewSession, Upload, create_session
from dualsign.application.template_catalog import publish_template
from dualsign.application.tenants import create_tenant
from dualsign.config import load_settings
from dualsign.container import Container, build_container


def bench_template(questions: int) -> str:
    """A template with enough questions for both windows of answers (typed answers: English)."""
    lines = [
        "kind: dualsign.template",
        "version: 1",
        "key: chunk-cost",
        "title: Chunk cost",
        "scenario: other",
        "language: en-US",
        "consent: {recording: This session is recorded., biometric: Your face is watched for presence.}",
        "identity: {required: false}",
        "liveness: {required: false}",
        "questions:",
    ]
    for i in range(questions):
        lines += [
            f"  - id: q{i + 1}",
            "    category: other",
            f"    prompt: Do you confirm point {i + 1} of the policy?",
            '    acceptable: ["yes"]',
        ]
    return "\n".join(lines) + "\n"


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of this process and wall seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=910, help="chunks the session holds at the end")
    parser.add_argument("--chunk-kb", type=int, default=200, help="size of one chunk (random bytes)")
    parser.add_argument("--window", type=int, default=20, help="chunks (and answers) timed per window")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary directory)")
    args = parser.parse_args()
    if args.chunks < 3 * args.window:
        parser.error(f"--chunks must be at least 3 × --window ({3 * args.window})")
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "DUALSIGN_DATA_DIR": tmp,
            "DUALSIGN_SECRET_KEY": "c" * 40,
            "DUALSIGN_ASR": "fake",
            "DUALSIGN_TTS": "fake",
            "DUALSIGN_FACE": "fake",
            "DUALSIGN_LANDMARKS": "fake",
            "DUALSIGN_WORKER": "off",
        }
        if args.db:
            env["DATABASE_URL"] = args.db
        c = build_container(load_settings(env))
        try:
            run(c, args.chunks, args.chunk_kb * 1024, args.window)
        finally:
            c.close()


def run(c: Container, chunks: int, chunk_bytes: int, window: int) -> None:
    tenant, _ = create_tenant(c.new_uow(), c.clock, c.ids, "bench")
    publish_template(c.new_uow(), c.clock, c.ids, tenant.id, bench_template(2 * window + 1))
    created = create_session(
        c.new_uow(),
        c.session_services,
        tenant.id,
        NewSession(
            template_key="chunk-cost",
            signer_name="Bench",
            signer_id_number="X1234567",
            id_type="other",
            signer_phone="13800000000",
            identity_photo=Upload("identity_photo", "p.jpg", "image/jpeg", PHOTO),
            documents=[Upload("documents", "d.pdf", "application/pdf", PDF)],
        ),
    )
    token, svc = created.token, c.signer_services
    signer.open_session(c.new_uow(), svc, token, {"user_agent": "bench"})
    signer.consent(c.new_uow(), svc, token, agree=True)
    started_ms = 0

    def upload(index: int) -> None:
        nonlocal started_ms
        data = os.urandom(chunk_bytes)  # compressed video looks like random bytes
        ack = recording.upload_chunk(
            c.new_uow(),
            svc,
            token,
            segment=0,
            index=index,
            data=data,
            declared_sha256=hashlib.sha256(data).hexdigest(),
            started_ms=started_ms,
            ended_ms=started_ms + 2000,
        )
        assert not ack.duplicate
        started_ms += 2000

    def answer() -> None:
        view = signer.answer_text(c.new_uow(), svc, token, "yes")
        assert view.state == "questions", view.state

    early = window // 2  # the early window is centred on chunk ~10
    costs: dict[str, list[tuple[float, float]]] = {"chunk early": [], "chunk late": []}
    costs |= {"answer early": [], "answer late": []}
    index = 0
    for index in range(early):  # the first chunks of a session are not timed
        upload(index)
    for index in range(early, early + window):
        costs["chunk early"].append(timed(lambda i=index: upload(i)))  # type: ignore[misc]
        costs["answer early"].append(timed(answer))
    t0 = time.perf_counter()
    for index in range(early + window, chunks - window):
        upload(index)
    between = time.perf_counter() - t0
    for index in range(chunks - window, chunks):
        costs["chunk late"].append(timed(lambda i=index: upload(i)))  # type: ignore[misc]
        costs["answer late"].append(timed(answer))
    with c.new_uow() as uow:
        events = len(uow.events.list(created.session.id))
    print(
        f"one session, {c.engine.dialect.name}, chunks of {chunk_bytes // 1024} KB: {chunks} chunks, "
        f"{2 * window} answers, {events} events ({between:.0f} s for the untimed chunks)"
    )
    print(f"{'':7} {'window':>16} {'CPU ms':>8} {'wall ms':>8}")
    ratios: dict[str, tuple[float, float]] = {}
    for kind in ("chunk", "answer"):
        med = {}
        for when, first in (("early", early), ("late", chunks - window)):
            samples = costs[f"{kind} {when}"]
            med[when] = (
                statistics.median(s[0] for s in samples) * 1000,
                statistics.median(s[1] for s in samples) * 1000,
            )
            label = f"chunks {first}-{first + window - 1}"
            print(f"{kind:7} {label:>16} {med[when][0]:>8.2f} {med[when][1]:>8.2f}")
        ratios[kind] = (med["late"][0] / med["early"][0], med["late"][1] / med["early"][1])
    for kind, (cpu, wall) in ratios.items():
        verdict = "ok" if cpu <= 1.20 else "over the 1.20 target"
        print(f"{kind} late/early: CPU {cpu:.2f}, wall {wall:.2f} ({verdict})")


if __name__ == "__main__":
    main()
