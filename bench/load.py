"""Load: N concurrent signing sessions against one server over loopback, with the default engines.

The server is ``dualsign serve`` as the run command starts it (SQLite, files, in-process worker,
espeak-ng, Silero VAD, Whisper tiny.en, dlib), on 127.0.0.1. Each simulated signer does what the page
does while recording: uploads a chunk every 2 s (``--recording webm``: the next 2 s of a real webm
recording, VP8 + Opus, as MediaRecorder cuts it, so the server re-checks it after the session;
``random``: 200 KB of random bytes, nothing to decode), sends a
640×480 JPEG camera frame (quality 0.75, as the page's canvas makes them; the test face, moving a few
pixels with sensor noise, so no two frames are alike) every 0.5 s on the live channel, and answers
each question at the page's pace: fetches the prompt's audio and waits while it plays, reports the
playback, sends ``listen``, streams an espeak-ng "Yes, I agree." (``--lang zh``: 知道) as 50 ms PCM
frames at real time, then silence until the verdict, which it shows for 1.5 s. After the questions it
reads and signs for 15 s (still recorded), ends the live channel, closes the recording and the
integrator cancels the session, so it is sealed like any ended one. One signer opens a link every
second until all N are in; each place runs ``--rounds`` sessions one after another (2: the second
round's live sessions share the machine with the first round's post-hoc analysis, as in steady use).

Printed: sessions, wall time, requests, errors (any non-2xx answer or failed connection), chunk
upload latency p50/p95, answer verdict latency p50/p95 (last voiced sample sent → the first verdict
received: the preview shown in the closing silence, else the recorded one; then the recorded one), the
verdicts, the server's CPU use (cores), and then the post-hoc analysis: recordings re-checked, their
compute time, and how long after the last session the last one was sealed.

``--scale-out``: the same sessions on two API processes and two workers sharing PostgreSQL, Redis (RQ)
and an S3 server (bench/load_cluster.py says what it starts); signer i uses API process i % 2 for all
it sends, as a sticky balancer would, and the integrator's calls take turns. Printed besides: the API
processes' CPU and the workers' apart, sessions per core, and the bucket's bytes per recorded minute.

Run: ``.venv/bin/python bench/load.py [--sessions 20] [--scale-out]`` (``DUALSIGN_BENCH_LOG=FILE``
keeps the server's log; with ``--scale-out`` each process's in ``FILE.<name>``). Traffic stays on 127.0.0.1;
every loop is bounded by the session's questions and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from load_cluster import cluster, figures  # noqa: E402
from load_media import ANSWERS, answer_pcm, camera_frames, webm_chunks  # noqa: E402
from proc_cpu import children_cpu, cpu_seconds  # noqa: E402
from tests.integration.helpers import PDF, PHOTO, VALID_ID  # noqa: E402

from dualsign.domain.templates import parse_template  # noqa: E402

DUALSIGN = Path(sys.executable).parent / "dualsign"
SHORT_TEMPLATE = """
kind: dualsign.template
version: 1
key: load-check
title: Load check
scenario: other
language: en-US
consent: {recording: This session is recorded., biometric: Your face is watched for presence.}
identity: {required: false}
liveness: {required: false}
questions:
  - id: q1
    category: risk_disclosure
    prompt: Do you understand the risks?
    acceptable: ["yes"]
  - id: q2
    category: informed_confirmation
    prompt: Are you signing of your own free will?
    acceptable: ["yes"]
  - id: q3
    category: other
    prompt: Have you read the policy terms?
    acceptable: ["yes"]
"""
SHIPPED = ROOT / "src" / "dualsign" / "scenarios" / "insurance-epolicy-en.yaml"
SHIPPED_ZH = ROOT / "src" / "dualsign" / "scenarios" / "insurance-epolicy-zh.yaml"


def bench_template(script: str, lang: str = "en") -> str:
    """``short``: three 2-second prompts (a stress case: answers come every few seconds). ``insurance``:
    the first four questions of the shipped English insurance template, as written (prompts of 10–25 s);
    with ``--lang zh`` four questions of the shipped Mandarin insurance template that take 知道 (q1, q2,
    q5, q6; prompts of 10–25 s of espeak-ng Mandarin), heard by the bundled Whisper base. Identity and
    liveness are off (the simulated camera is not the ID photo's person)."""
    if script == "short":
        return SHORT_TEMPLATE
    if lang == "zh":
        template = yaml.safe_load(SHIPPED_ZH.read_text())
        questions = [q for q in template["questions"] if q["id"] in ("q1", "q2", "q5", "q6")]
    else:
        template = yaml.safe_load(SHIPPED.read_text())
        questions = template["questions"][:4]
    template.update(
        key="load-check",
        identity={"required": False},
        liveness={"required": False},
        questions=questions,
    )
    return yaml.safe_dump(template, allow_unicode=True)


DEADLINE_S = 300
STAGGER_S = 1.0  # one signer opens a link every second until all N are in
PIECE_S = 0.05  # the signer page sends its microphone in 50 ms pieces (web/pcm-worklet.js)
PIECE = int(16000 * PIECE_S) * 2  # bytes of 16 kHz 16-bit PCM
HOLD_S = 1.5  # how long the page shows a verdict before the next prompt (signer.js holdUntil)
REVIEW_S = 15.0  # after the questions: the document is read and signed while the recording goes on
LAST_ERROR: dict[str, Any] = {}  # the last error the server sent before closing a channel


@dataclass
class Stats:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    chunk_s: list[float] = field(default_factory=list)
    verdict_s: list[float] = field(default_factory=list)  # last voiced sample → first verdict shown
    recorded_s: list[float] = field(default_factory=list)  # last voiced sample → verdict recorded
    verdicts: list[str] = field(default_factory=list)
    endpoint_ms: list[float] = field(default_factory=list)  # the server's: end of speech → end confirmed
    compute_ms: list[float] = field(default_factory=list)  # the server's: end confirmed → transcript
    sessions: list[str] = field(default_factory=list)
    # a warning's arrival at the page − when the page captured the frame that raised it (the warning's
    # since_s + after_s on the connection's frame clock, which starts at its first frame handled)
    warning_late_s: list[float] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def guarded(run: Any, stats: Stats) -> None:
    """One signer's run; a dropped live channel is an error of that signer, not the end of the bench."""
    try:
        await run
    except websockets.ConnectionClosed as exc:
        stats.errors.append(
            f"live: closed {exc.rcvd.code if exc.rcvd else '?'} {exc.rcvd.reason if exc.rcvd else ''}"
        )


@dataclass(frozen=True)
class Signer:
    """What every simulated signer sends, and where."""

    url: str
    headers: dict[str, str]  # the integrator's
    pcm: bytes  # the spoken answer
    tail_s: float  # its silence after the last voiced sample
    jpegs: list[bytes]  # camera frames
    recording: list[bytes] | None  # the recording's chunks (None: random bytes)
    variables: str = ""  # the template's variables as the API takes them (its examples)
    integrator: Iterator[str] | None = None  # where the integrator's calls go, in turn (None: url)


async def signer(i: int, who: Signer, stats: Stats, rounds: int) -> None:
    """One signer's place: ``rounds`` sessions one after the other (the next signer sits down)."""
    await asyncio.sleep(i * STAGGER_S)  # staggered starts, as people open their links
    for n in range(rounds):
        await session(i + n * 1000, who, stats)


async def session(i: int, who: Signer, stats: Stats) -> None:
    url, headers, pcm, tail_s = who.url, who.headers, who.pcm, who.tail_s
    jpegs, recording = who.jpegs, who.recording

    def api() -> str:  # the API process of the integrator's next call
        return url if who.integrator is None else next(who.integrator)

    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def call(method: str, path: str, **kw: object) -> httpx.Response | None:
            stats.requests += 1
            where = httpx.URL(path).path
            try:
                r = await http.request(method, path, **kw)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                stats.errors.append(f"{method} {where}: {type(exc).__name__}")
                return None
            if not r.is_success:
                stats.errors.append(f"{method} {where}: HTTP {r.status_code} {r.text[:120]}")
            return r

        form = {
            "template": "load-check",
            "signer_name": f"Signer {i}",
            "signer_id_number": VALID_ID,
            "signer_phone": "13800000000",
            **({"variables": who.variables} if who.variables else {}),
        }
        files = [
            ("identity_photo", ("id.jpg", PHOTO, "image/jpeg")),
            ("documents", ("d.pdf", PDF, "application/pdf")),
        ]
        created = await call("POST", f"{api()}/v1/sessions", headers=headers, data=form, files=files)
        if created is None or not created.is_success:
            return
        sid, token = created.json()["id"], created.json()["signer_url"].rsplit("/", 1)[1]
        stats.sessions.append(sid)
        h = {"X-Signer-Token": token}
        await call("POST", "/signer/v1/open", headers=h)
        await call("POST", "/signer/v1/consent", headers=h, json={"agree": True})
        done = asyncio.Event()
        chunks = 0

        async def upload() -> None:
            nonlocal chunks
            began = int(time.time() * 1000)  # the page's clock when its recorder started
            while not done.is_set():
                if recording is None:
                    data = rng.randbytes(200_000)
                elif chunks < len(recording):
                    data = recording[chunks]
                else:
                    return
                t = time.perf_counter()
                r = await call(
                    "PUT",
                    f"/signer/v1/recording/0/{chunks}",
                    headers={
                        **h,
                        "X-Content-SHA256": hashlib.sha256(data).hexdigest(),
                        "X-Chunk-Started-Ms": str(began + 2000 * chunks),
                        "X-Chunk-Ended-Ms": str(began + 2000 * (chunks + 1)),
                    },
                    content=data,
                )
                if r is not None and r.is_success:
                    stats.chunk_s.append(time.perf_counter() - t)
                    chunks += 1
                await asyncio.sleep(2.0)

        async with websockets.connect(
            f"{url.replace('http', 'ws')}/signer/v1/live?token={token}", max_size=None
        ) as ws:
            inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

            page_clock: dict[str, float] = {}

            async def frames() -> None:
                started = page_clock["started"] = time.time()
                k = i
                while not done.is_set():
                    ms = int((time.time() - started) * 1000)
                    k += 1
                    await ws.send(b"V" + struct.pack("<Q", ms) + jpegs[k % len(jpegs)])
                    await asyncio.sleep(0.5)

            async def receive() -> None:
                async for raw in ws:
                    if isinstance(raw, str):
                        m = json.loads(raw)
                        if m.get("type") == "error":
                            LAST_ERROR.update(m)
                            stats.errors.append(f"live: {m.get('code')} {m.get('detail')}")
                        elif m.get("type") == "warning" and "started" in page_clock:
                            raised = float(m.get("since_s", 0)) + float(m.get("after_s", 0))
                            stats.warning_late_s.append(time.time() - page_clock["started"] - raised)
                        await inbox.put(m)

            async def next_of(kinds: set[str], timeout: float) -> dict[str, Any] | None:
                end = time.perf_counter() + timeout
                while (left := end - time.perf_counter()) > 0:
                    try:
                        m = await asyncio.wait_for(inbox.get(), timeout=left)
                    except TimeoutError:
                        return None
                    if m.get("type") in kinds:
                        return m
                return None

            tasks = [asyncio.create_task(f()) for f in (upload, frames, receive)]
            try:
                state = await next_of({"state"}, 15)
                while state is not None and state.get("state") == "questions" and state.get("prompt"):
                    prompt = state["prompt"]
                    played = []
                    for part in state.get("prompt_audio") or []:  # the page plays the prompt in full
                        await call("GET", part["url"])
                        await asyncio.sleep(float(part["duration_s"]))
                        played.append(
                            {"sha256": part["sha256"], "played_s": part["duration_s"], "ended": True}
                        )
                    report = {
                        "question_id": prompt["question_id"],
                        "attempt": prompt["attempt"],
                        "parts": played,
                    }
                    await call("POST", "/signer/v1/prompt/played", headers=h, json=report)
                    await ws.send(json.dumps({"type": "listen"}))
                    if await next_of({"listening"}, 15) is None:
                        stats.errors.append("live: not listening within 15 s")
                        break
                    for k in range(0, len(pcm), PIECE):  # at real time, in the page's pieces
                        await ws.send(b"A" + pcm[k : k + PIECE])
                        await asyncio.sleep(PIECE_S)
                    spoke = time.perf_counter() - tail_s  # the last voiced sample was sent then

                    async def silence() -> None:
                        while True:
                            await ws.send(b"A" + b"\0" * PIECE)
                            await asyncio.sleep(PIECE_S)

                    quiet = asyncio.create_task(silence())
                    verdict = await next_of({"verdict"}, 15)  # the preview, or the recorded verdict
                    shown = time.perf_counter() - spoke
                    while verdict is not None and verdict.get("provisional"):
                        verdict = await next_of({"verdict"}, 15)  # the silence goes on: recorded
                    quiet.cancel()
                    if verdict is None:
                        stats.errors.append("live: no verdict within 15 s")
                        break
                    stats.verdict_s.append(shown)
                    stats.recorded_s.append(time.perf_counter() - spoke)
                    stats.verdicts.append(str(verdict.get("verdict")))
                    stats.endpoint_ms.append(float(verdict.get("endpoint_wait_ms") or 0))
                    stats.compute_ms.append(float(verdict.get("compute_ms") or 0))
                    state = await next_of({"state"}, 15)
                    await asyncio.sleep(HOLD_S)  # the page shows the verdict, then plays the next prompt
                await asyncio.sleep(REVIEW_S)  # reading the document and signing, still recorded
                await ws.send(json.dumps({"type": "end"}))
                await next_of({"ended"}, 15)
            finally:
                done.set()
                for t in tasks[1:]:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        await call("POST", "/signer/v1/recording/finish", headers=h, json={"segments": {"0": chunks}})
        cancel = f"{api()}/v1/sessions/{sid}/cancel"
        await call("POST", cancel, headers=headers, json={"reason": "load test done"})


def sealed_after(
    urls: list[str], headers: dict[str, str], sessions: list[str], limit_s: float = 900
) -> tuple[list[dict[str, Any]], int, float, list[dict[str, Any]]]:
    """Wait until every session is sealed (after its recording was re-checked); returns the analyses,
    how many were sealed, how long after the bench's last session it took, and each session's live
    monitoring summaries (frames analysed and skipped). The API processes are asked in turn."""
    started, turn = time.perf_counter(), itertools.cycle(urls)
    pending, analysed, sealed, monitored = list(sessions), [], 0, []
    while pending and time.perf_counter() - started < limit_s:
        for sid in list(pending):
            url = next(turn)
            events = httpx.get(f"{url}/v1/sessions/{sid}/events", headers=headers, timeout=30).json()
            kinds = {e["kind"]: e["payload"] for e in events}
            if "evidence_sealed" in kinds:
                pending.remove(sid)
                sealed += 1
                if "recording_analysed" in kinds:
                    analysed.append(kinds["recording_analysed"])
                monitored += [e["payload"] for e in events if e["kind"] == "monitoring_summary"]
        if pending:
            time.sleep(2)
    return analysed, sealed, time.perf_counter() - started, monitored


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def publish(url: str, headers: dict[str, str], template: str) -> str:
    """Publish the bench's template; returns its variables as the API takes them (its examples)."""
    r = httpx.post(
        f"{url}/v1/templates", headers={**headers, "Content-Type": "application/yaml"}, content=template
    )
    r.raise_for_status()
    values = parse_template(yaml.safe_load(template), "load-check").example_values()
    return json.dumps(values, ensure_ascii=False) if values else ""


def drive(whos: list[Signer], stats: Stats, args: argparse.Namespace) -> None:
    """Every signer's place; signer i on the API process of ``whos[i % len(whos)]``."""
    runs = [guarded(signer(i, whos[i % len(whos)], stats, args.rounds), stats) for i in range(args.sessions)]

    async def everything() -> None:
        await asyncio.wait_for(asyncio.gather(*runs), timeout=DEADLINE_S * args.rounds)

    asyncio.run(everything())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--script", choices=("insurance", "short"), default="insurance")
    parser.add_argument("--lang", choices=("en", "zh"), default="en", help="the sessions' language")
    parser.add_argument(
        "--rounds", type=int, default=2, help="sessions one after another in each signer's place"
    )
    parser.add_argument(
        "--recording",
        choices=("webm", "random"),
        default="webm",
        help="chunks of a real webm (re-checked after each session), or random bytes (nothing to decode)",
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="a setting of the server"
    )
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="2 serve + 2 worker processes on PostgreSQL, Redis (RQ) and S3 (moto): bench/load_cluster.py",
    )
    parser.add_argument(
        "--pg-admin",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="--scale-out: where to create (and drop) the run's PostgreSQL database",
    )
    args = parser.parse_args()
    jpegs = camera_frames()
    with tempfile.TemporaryDirectory() as scratch:
        pcm, tail_s = answer_pcm(Path(scratch), args.lang)
    recording = webm_chunks(jpegs, pcm) if args.recording == "webm" else None
    if args.scale_out:
        scale_out(args, pcm, tail_s, jpegs, recording)
        return
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("DUALSIGN_")},
            "DUALSIGN_DATA_DIR": tmp,
            "DUALSIGN_PORT": str(port),
            "DUALSIGN_PUBLIC_URL": url,
            "DUALSIGN_LOG_FORMAT": "text",
            "DUALSIGN_RECORDING_GRACE_SECONDS": "10",
            **dict(item.split("=", 1) for item in args.server_env),
        }
        tenant = subprocess.run(
            [str(DUALSIGN), "tenant", "create", "Load Bank"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        key = json.loads(tenant.stdout)["api_key"]
        headers = {"Authorization": f"Bearer {key}"}
        server = subprocess.Popen(
            [str(DUALSIGN), "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=Path(os.environ.get("DUALSIGN_BENCH_LOG", os.devnull)).open("wb"),  # noqa: SIM115
        )
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).is_success:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            variables = publish(url, headers, bench_template(args.script, args.lang))
            stats = Stats()
            who = Signer(url, headers, pcm, tail_s, jpegs, recording, variables)
            cpu0, t0, own0 = cpu_seconds(server.pid), time.perf_counter(), time.process_time()
            drive([who], stats, args)
            wall = time.perf_counter() - t0
            cores = (cpu_seconds(server.pid) - cpu0 + children_cpu(server.pid)) / wall
            client_cores = (time.process_time() - own0) / wall
            after = sealed_after([url], headers, stats.sessions)
        finally:
            server.terminate()
            server.wait(timeout=20)
    cpu = [
        f"server CPU          {cores:.2f} cores of {os.cpu_count()} (its face worker processes included) = "
        f"{cores / args.sessions:.3f} per live session"
    ]
    report(args, stats, wall, client_cores, after, cpu, [])


def scale_out(
    args: argparse.Namespace, pcm: bytes, tail_s: float, jpegs: list[bytes], recording: list[bytes] | None
) -> None:
    """The same sessions on two API processes and two workers (bench/load_cluster.py): signer i on API
    process i % 2 (its live channel and chunks too, as a sticky balancer sends them), the integrator's
    calls in turn on each."""
    settings = dict(item.split("=", 1) for item in args.server_env)
    with cluster(settings, args.pg_admin, os.environ.get("DUALSIGN_BENCH_LOG")) as c:
        variables = publish(c.urls[0], c.headers, bench_template(args.script, args.lang))
        turn = itertools.cycle(c.urls)
        whos = [Signer(u, c.headers, pcm, tail_s, jpegs, recording, variables, turn) for u in c.urls]
        stats = Stats()
        cpu0, t0, own0 = c.cpu(), time.perf_counter(), time.process_time()
        drive(whos, stats, args)
        wall = time.perf_counter() - t0
        cpu1, client_cores = c.cpu(), (time.process_time() - own0) / wall
        after = sealed_after(c.urls, c.headers, stats.sessions)
        c.settle()
        cpu2, stored, started = c.cpu(), c.stored(), c.described
    run = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    total = [b - a for a, b in zip(cpu0, cpu2, strict=True)]
    cpu, storage = figures(run, total, wall, args.sessions, stored, len(stats.chunk_s))
    print("\n".join(started))
    report(args, stats, wall, client_cores, after, cpu, storage, where="the workers")


def report(
    args: argparse.Namespace,
    stats: Stats,
    wall: float,
    client_cores: float,
    after: tuple[list[dict[str, Any]], int, float, list[dict[str, Any]]],
    cpu: list[str],
    extra: list[str],
    where: str = "the server's worker",
) -> None:
    v, c = stats.verdict_s, stats.chunk_s
    questions = len(yaml.safe_load(bench_template(args.script, args.lang))["questions"])
    print(
        f"script              {args.script} ({args.lang}): {questions} questions; "
        f"answer “{ANSWERS[args.lang][1]}”"
    )
    print(
        f"sessions            {args.sessions} concurrent × {args.rounds} rounds = {len(stats.sessions)}, "
        f"recording {args.recording} (default engines{''.join(', ' + e for e in args.server_env)})"
    )
    print(f"wall time           {wall:.1f} s; requests {stats.requests} ({stats.requests / wall:.1f}/s)")
    print(f"errors              {len(stats.errors)}" + (f"  e.g. {stats.errors[:3]}" if stats.errors else ""))
    print(
        f"chunk upload        p50 {pct(c, 0.5) * 1000:.0f} ms  p95 {pct(c, 0.95) * 1000:.0f} ms  "
        f"({len(c)} chunks)"
    )
    print(
        f"verdict latency     p50 {pct(v, 0.5):.3f} s  p95 {pct(v, 0.95):.3f} s  "
        f"max {max(v, default=0):.3f} s  ({len(v)} answers; the first shown, the preview when there is one)"
    )
    r = stats.recorded_s
    print(f"  recorded verdict   p50 {pct(r, 0.5):.3f} s  p95 {pct(r, 0.95):.3f} s (the end confirmed)")
    e, k = stats.endpoint_ms, stats.compute_ms
    print(
        f"  of which (server) endpoint silence p50 {pct(e, 0.5):.0f} ms p95 {pct(e, 0.95):.0f} ms; "
        f"recognition after it p50 {pct(k, 0.5):.0f} ms p95 {pct(k, 0.95):.0f} ms"
    )
    counts = {k: stats.verdicts.count(k) for k in sorted(set(stats.verdicts))}
    print(f"verdicts            {counts}")
    for line in cpu:
        print(line)
    print(f"simulated pages     {client_cores:.2f} cores (this process, on the same machine)")
    analysed, sealed, waited, monitored = after
    rates = [m["frames"] / m["observed_s"] for m in monitored if m.get("observed_s")]
    skipped = [int(m.get("frames_skipped", 0)) for m in monitored]
    warned: dict[str, int] = {}
    for m in monitored:
        for kind, n in m.get("warnings", {}).items():
            warned[kind] = warned.get(kind, 0) + int(n)
    print(
        f"live monitoring     {len(monitored)} connections: frames analysed per second min "
        f"{min(rates, default=0):.2f} p50 {pct(rates, 0.5):.2f}; frames skipped {sum(skipped)} "
        f"(most in one connection {max(skipped, default=0)}); warnings {warned}"
    )
    late = stats.warning_late_s
    if late:
        print(
            f"  warnings arrived  p50 {pct(late, 0.5):.3f} s  max {max(late):.3f} s after the page captured "
            f"the frame that raised them ({len(late)} warnings, {sum(x > 1.0 for x in late)} later than 1 s)"
        )
    compute = [float(a.get("compute_s", 0)) for a in analysed]
    failed = sum(1 for a in analysed if a.get("errors"))
    print(
        f"post-hoc analysis   {len(analysed)} recordings re-checked ({failed} with errors), "
        f"compute p50 {pct(compute, 0.5):.1f} s p95 {pct(compute, 0.95):.1f} s each (in {where})"
    )
    print(
        f"sealed              {sealed} of {len(stats.sessions)}, the last {waited:.0f} s after the last "
        "session ended"
    )

    for line in extra:
        print(line)


if __name__ == "__main__":
    main()
