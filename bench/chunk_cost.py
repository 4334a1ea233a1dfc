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
(target: ≤ 1.20 for both); and the Python function calls of the next 5 of each kind, counted by
cProfile after each window, which a busy machine does not blur. ``--processes 2``: two API
processes' services (each with its own memory) on the same database and files take the requests in
turn, as behind a load balancer.

Run: ``.venv/bin/python bench/chunk_cost.py [--chunks 910] [--chunk-kb 200] [--db URL] [--processes 1]``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import itertools
import os
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.helpers import PDF, PHOTO

from dualsign.application.integrator.sessions import NewSession, Upload, create_session
from dualsign.application.integrator.template_catalog import publish_template
from dualsign.application.integrator.tenants import create_tenant
from dualsign.application.signer import flow as signer
from dualsign.application.signer import recording
from dualsign.bootstrap.config import load_settings
from dualsign.bootstrap.container import Container, build_container


def bench_template(questions: int, key: str = "chunk-cost") -> str:
    """A template with enough questions for both windows of answers (typed answers: English); each
    question's prompt is its own (rendered once, then taken from the prompt cache)."""
    lines = [
        "kind: dualsign.template",
        "version: 1",
        f"key: {key}",
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
            f"    prompt: Do you confirm point {i + 1} of the {key} policy?",
            '    acceptable: ["yes"]',
        ]
    return "\n".join(lines) + "\n"


KINDS = ("chunk", "answer")
COUNTED = 5  # chunks and answers whose function calls are counted after each timed window


def timed(call: Callable[[], object]) -> tuple[float, float]:
    """CPU seconds of this process and wall seconds of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    call()
    return time.process_time() - cpu, time.perf_counter() - wall


def calls(call: Callable[[], object]) -> int:
    """Python function calls one call makes (cProfile)."""
    profile = cProfile.Profile()
    profile.runcall(call)
    return int(pstats.Stats(profile).total_calls)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=910, help="chunks the session holds at the end")
    parser.add_argument("--chunk-kb", type=int, default=200, help="size of one chunk (random bytes)")
    parser.add_argument("--window", type=int, default=20, help="chunks (and answers) timed per window")
    parser.add_argument("--db", default=None, help="database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--processes", type=int, default=1, help="API processes taking requests in turn")
    args = parser.parse_args()
    least = 10 + 2 * args.window + COUNTED
    if args.chunks < least:
        parser.error(f"--chunks must be at least 10 + 2 × --window + {COUNTED} ({least})")
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
        found = [build_container(load_settings(env)) for _ in range(max(1, args.processes))]
        try:
            run(found, args.chunks, args.chunk_kb * 1024, args.window)
        finally:
            for c in found:
                c.close()


def run(processes: list[Container], chunks: int, chunk_bytes: int, window: int) -> None:
    c = processes[0]
    turns = itertools.cycle(processes)  # who takes the next request
    tenant, _ = create_tenant(c.new_uow(), c.clock, c.ids, "bench")
    for key in ("chunk-cost", "warm-up"):
        questions = 2 * (window + COUNTED) + 1
        publish_template(c.new_uow(), c.clock, c.ids, tenant.id, bench_template(questions, key))

    def start(key: str) -> tuple[str, str]:
        created = create_session(
            c.new_uow(),
            c.session_services,
            tenant.id,
            NewSession(
                template_key=key,
                signer_name="Bench",
                signer_id_number="X1234567",
                id_type="other",
                signer_phone="13800000000",
                identity_photo=Upload("identity_photo", "p.jpg", "image/jpeg", PHOTO),
                documents=[Upload("documents", "d.pdf", "application/pdf", PDF)],
            ),
        )
        signer.open_session(c.new_uow(), c.signer_services, created.token, {"user_agent": "bench"})
        signer.consent(c.new_uow(), c.signer_services, created.token, agree=True)
        return created.session.id, created.token

    def upload(token: str, index: int) -> None:
        data = os.urandom(chunk_bytes)  # compressed video looks like random bytes
        p = next(turns)
        ack = recording.upload_chunk(
            p.new_uow(),
            p.signer_services,
            token,
            segment=0,
            index=index,
            data=data,
            declared_sha256=hashlib.sha256(data).hexdigest(),
            started_ms=index * 2000,
            ended_ms=index * 2000 + 2000,
        )
        assert not ack.duplicate

    def answer(token: str) -> None:
        p = next(turns)
        view = signer.answer_text(p.new_uow(), p.signer_services, token, "yes")
        assert view.state == "questions", view.state

    # first-use costs (imports, compiled queries) are paid on another session, whose prompts differ: the
    # timed session renders each of its prompts once, early as late
    _, warm_up = start("warm-up")
    for index in range(10):
        upload(warm_up, index)
        answer(warm_up)
    sid, token = start("chunk-cost")
    early = 10  # the early window starts at chunk 10, the late one ends at the last chunk
    costs: dict[str, list[tuple[float, float]]] = {f"{k} {w}": [] for k in KINDS for w in ("early", "late")}
    counts: dict[str, list[int]] = {f"{k} {w}": [] for k in KINDS for w in ("early", "late")}

    def window_at(first: int, when: str) -> None:
        for index in range(first, first + window):
            costs[f"chunk {when}"].append(timed(lambda i=index: upload(token, i)))  # type: ignore[misc]
            costs[f"answer {when}"].append(timed(lambda: answer(token)))
        for index in range(first + window, first + window + COUNTED):
            counts[f"chunk {when}"].append(calls(lambda i=index: upload(token, i)))  # type: ignore[misc]
            counts[f"answer {when}"].append(calls(lambda: answer(token)))

    for index in range(early):
        upload(token, index)
    window_at(early, "early")
    t0 = time.perf_counter()
    for index in range(early + window + COUNTED, chunks - window):
        upload(token, index)
    between = time.perf_counter() - t0
    window_at(chunks - window, "late")
    with c.new_uow() as uow:
        events = len(uow.events.list(sid))
    print(
        f"one session, {c.engine.dialect.name}, {len(processes)} process(es), chunks of "
        f"{chunk_bytes // 1024} KB: {chunks + COUNTED} chunks, {2 * (window + COUNTED)} answers, "
        f"{events} events ({between:.0f} s for the untimed chunks)"
    )
    print(f"{'':7} {'window':>16} {'CPU ms':>8} {'wall ms':>8} {'calls':>7}")
    ratios: dict[str, list[float]] = {}
    for kind in KINDS:
        med = {}
        for when, first in (("early", early), ("late", chunks - window)):
            samples = costs[f"{kind} {when}"]
            med[when] = (
                statistics.median(s[0] for s in samples) * 1000,
                statistics.median(s[1] for s in samples) * 1000,
                statistics.median(counts[f"{kind} {when}"]),
            )
            label = f"chunks {first}-{first + window - 1}"
            print(f"{kind:7} {label:>16} {med[when][0]:>8.2f} {med[when][1]:>8.2f} {med[when][2]:>7.0f}")
        ratios[kind] = [late / early for late, early in zip(med["late"], med["early"], strict=True)]
    for kind, (cpu, wall, n) in ratios.items():
        verdict = "ok" if cpu <= 1.20 else "over the 1.20 target"
        print(f"{kind} late/early: CPU {cpu:.2f}, wall {wall:.2f}, calls {n:.2f} ({verdict})")


if __name__ == "__main__":
    main()
