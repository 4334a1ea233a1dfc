"""Load: N concurrent signing sessions against one server over loopback, with the default engines.

The server is ``dualsign serve`` as the run command starts it (SQLite, files, in-process worker,
espeak-ng, Silero VAD, Whisper tiny.en, dlib), on 127.0.0.1. Each simulated signer does what the page
does while recording: uploads a 200 KB chunk every 2 s (a 10-minute session is ~60 MB), sends a
640×480 JPEG camera frame (quality 0.75, as the page's canvas makes them; the test face, moving a few
pixels with sensor noise, so no two frames are alike) every 0.5 s on the live channel, and answers
each question at the page's pace: fetches the prompt's audio and waits while it plays, reports the
playback, sends ``listen``, streams an espeak-ng "Yes, I agree." as 20 ms PCM frames at real time, then
silence until the verdict, which it shows for 1.5 s. After the questions it reads and signs for 15 s
(still recorded), ends the live channel, closes the recording and the integrator cancels the session,
so it is sealed like any ended one. One signer opens a link every second until all N are in.

Printed: sessions, wall time, requests, errors (any non-2xx answer or failed connection), chunk
upload latency p50/p95, answer verdict latency p50/p95 (last voiced sample sent → verdict received;
the target is p95 ≤ 1.0 s, as for one signer), the verdicts, and the server's CPU use (cores).

Run: ``.venv/bin/python bench/load.py [--sessions 20]`` (``DUALSIGN_BENCH_LOG=FILE`` keeps the
server's log). Traffic stays on 127.0.0.1;
every loop is bounded by the session's questions and a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import websockets
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.helpers import PDF, PHOTO, VALID_ID  # noqa: E402

from dualsign.engines._audio import decode  # noqa: E402

DUALSIGN = Path(sys.executable).parent / "dualsign"
FACE = ROOT / "tests" / "assets" / "faces" / "grace_hopper.jpg"
SHORT_TEMPLATE = """
kind: dualsign.template
version: 1
key: load-check-en
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


def bench_template(script: str) -> str:
    """``short``: three 2-second prompts (a stress case: answers come every few seconds). ``insurance``:
    the first four questions of the shipped English insurance template, as written (prompts of 10–25 s);
    identity and liveness are off (the simulated camera is not the ID photo's person)."""
    if script == "short":
        return SHORT_TEMPLATE
    template = yaml.safe_load(SHIPPED.read_text())
    template.update(
        key="load-check-en",
        identity={"required": False},
        liveness={"required": False},
        questions=template["questions"][:4],
    )
    return yaml.safe_dump(template, allow_unicode=True)


DEADLINE_S = 300
STAGGER_S = 1.0  # one signer opens a link every second until all N are in
HOLD_S = 1.5  # how long the page shows a verdict before the next prompt (signer.js holdUntil)
REVIEW_S = 15.0  # after the questions: the document is read and signed while the recording goes on
LAST_ERROR: dict[str, Any] = {}  # the last error the server sent before closing a channel


@dataclass
class Stats:
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    chunk_s: list[float] = field(default_factory=list)
    verdict_s: list[float] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    endpoint_ms: list[float] = field(default_factory=list)  # the server's: end of speech → end confirmed
    compute_ms: list[float] = field(default_factory=list)  # the server's: end confirmed → transcript


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stat(path: Path) -> tuple[int, float]:
    """A process's parent pid and CPU seconds (user + system) from its /proc stat file."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    return _stat(Path(f"/proc/{pid}/stat"))[1]


def _camera_frames(count: int = 24) -> list[bytes]:
    """What the page sends: 640×480 JPEGs at quality 75 of a face that moves slightly, with noise."""
    from PIL import Image

    face = Image.open(FACE).convert("RGB")
    face.thumbnail((400, 400))
    rng = np.random.default_rng(7)
    out = []
    for k in range(count):
        canvas = Image.new("RGB", (640, 480), (118, 112, 104))
        canvas.paste(face, (120 + int(12 * np.sin(k / 3)), 40 + int(6 * np.cos(k / 4))))
        pixels = np.asarray(canvas, dtype=np.int16) + rng.integers(-6, 7, (480, 640, 3))
        buffer = io.BytesIO()
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=75)
        out.append(buffer.getvalue())
    return out


def _children_cpu(pid: int) -> float:
    """CPU seconds of the server's child processes that are still running (the face descriptor)."""
    total = 0.0
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent, cpu = _stat(path)
        except OSError:
            continue
        if parent == pid:
            total += cpu
    return total


def _answer_pcm(tmp: Path) -> tuple[bytes, float]:
    """The spoken answer as 16 kHz PCM, and the seconds of silence espeak-ng leaves after its last
    voiced sample (latency is counted from that sample, as in bench/answer_latency)."""
    wav = tmp / "yes.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), "Yes, I agree."], check=True)
    audio = decode(wav.read_bytes())
    voiced = np.flatnonzero(np.abs(audio) > 0.02)
    tail_s = (len(audio) - 1 - int(voiced[-1])) / 16000 if len(voiced) else 0.0
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes(), tail_s


async def guarded(run: Any, stats: Stats) -> None:
    """One signer's run; a dropped live channel is an error of that signer, not the end of the bench."""
    try:
        await run
    except websockets.ConnectionClosed as exc:
        stats.errors.append(
            f"live: closed {exc.rcvd.code if exc.rcvd else '?'} {exc.rcvd.reason if exc.rcvd else ''}"
        )


async def signer(
    i: int,
    url: str,
    headers: dict[str, str],
    pcm: bytes,
    tail_s: float,
    jpegs: list[bytes],
    stats: Stats,
) -> None:
    await asyncio.sleep(i * STAGGER_S)  # staggered starts, as people open their links
    rng = random.Random(i)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def call(method: str, path: str, **kw: object) -> httpx.Response | None:
            stats.requests += 1
            try:
                r = await http.request(method, path, **kw)  # type: ignore[arg-type]
            except httpx.HTTPError as exc:
                stats.errors.append(f"{method} {path.split('?')[0]}: {type(exc).__name__}")
                return None
            if not r.is_success:
                stats.errors.append(f"{method} {path.split('?')[0]}: HTTP {r.status_code} {r.text[:120]}")
            return r

        form = {
            "template": "load-check-en",
            "signer_name": f"Signer {i}",
            "signer_id_number": VALID_ID,
            "signer_phone": "13800000000",
        }
        files = [
            ("identity_photo", ("id.jpg", PHOTO, "image/jpeg")),
            ("documents", ("d.pdf", PDF, "application/pdf")),
        ]
        created = await call("POST", "/v1/sessions", headers=headers, data=form, files=files)
        if created is None or not created.is_success:
            return
        sid, token = created.json()["id"], created.json()["signer_url"].rsplit("/", 1)[1]
        h = {"X-Signer-Token": token}
        await call("POST", "/signer/v1/open", headers=h)
        await call("POST", "/signer/v1/consent", headers=h, json={"agree": True})
        done = asyncio.Event()
        chunks = 0

        async def upload() -> None:
            nonlocal chunks
            while not done.is_set():
                data = rng.randbytes(200_000)
                t = time.perf_counter()
                r = await call(
                    "PUT",
                    f"/signer/v1/recording/0/{chunks}",
                    headers={**h, "X-Content-SHA256": hashlib.sha256(data).hexdigest()},
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

            async def frames() -> None:
                started = time.time()
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
                    for k in range(0, len(pcm), 640):  # 20 ms frames at real time
                        await ws.send(b"A" + pcm[k : k + 640])
                        await asyncio.sleep(0.02)
                    spoke = time.perf_counter() - tail_s  # the last voiced sample was sent then

                    async def silence() -> None:
                        while True:
                            await ws.send(b"A" + b"\0" * 640)
                            await asyncio.sleep(0.02)

                    quiet = asyncio.create_task(silence())
                    verdict = await next_of({"verdict"}, 15)
                    quiet.cancel()
                    if verdict is None:
                        stats.errors.append("live: no verdict within 15 s")
                        break
                    stats.verdict_s.append(time.perf_counter() - spoke)
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
        await call("POST", f"/v1/sessions/{sid}/cancel", headers=headers, json={"reason": "load test done"})


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--script", choices=("insurance", "short"), default="insurance")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE", help="a setting of the server"
    )
    args = parser.parse_args()
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
            r = httpx.post(
                f"{url}/v1/templates",
                headers={**headers, "Content-Type": "application/yaml"},
                content=bench_template(args.script),
            )
            r.raise_for_status()
            pcm, tail_s = _answer_pcm(Path(tmp))
            jpegs = _camera_frames()
            stats = Stats()
            cpu0, t0, own0 = _cpu_seconds(server.pid), time.perf_counter(), time.process_time()
            runs = [
                guarded(signer(i, url, headers, pcm, tail_s, jpegs, stats), stats)
                for i in range(args.sessions)
            ]

            async def everything() -> None:
                await asyncio.wait_for(asyncio.gather(*runs), timeout=DEADLINE_S)

            asyncio.run(everything())
            wall = time.perf_counter() - t0
            cores = (_cpu_seconds(server.pid) - cpu0 + _children_cpu(server.pid)) / wall
            client_cores = (time.process_time() - own0) / wall
        finally:
            server.terminate()
            server.wait(timeout=20)
    v, c = stats.verdict_s, stats.chunk_s
    questions = len(yaml.safe_load(bench_template(args.script))["questions"])
    print(f"script              {args.script}: {questions} questions; answer “Yes, I agree.”")
    print(
        f"sessions            {args.sessions} (default engines{''.join(', ' + e for e in args.server_env)})"
    )
    print(f"wall time           {wall:.1f} s; requests {stats.requests} ({stats.requests / wall:.1f}/s)")
    print(f"errors              {len(stats.errors)}" + (f"  e.g. {stats.errors[:3]}" if stats.errors else ""))
    print(
        f"chunk upload        p50 {pct(c, 0.5) * 1000:.0f} ms  p95 {pct(c, 0.95) * 1000:.0f} ms  "
        f"({len(c)} chunks)"
    )
    print(
        f"verdict latency     p50 {pct(v, 0.5):.3f} s  p95 {pct(v, 0.95):.3f} s  "
        f"max {max(v, default=0):.3f} s  ({len(v)} answers; target p95 ≤ 1.0 s)"
    )
    e, k = stats.endpoint_ms, stats.compute_ms
    print(
        f"  of which (server) endpoint silence p50 {pct(e, 0.5):.0f} ms p95 {pct(e, 0.95):.0f} ms; "
        f"recognition after it p50 {pct(k, 0.5):.0f} ms p95 {pct(k, 0.95):.0f} ms"
    )
    counts = {k: stats.verdicts.count(k) for k in sorted(set(stats.verdicts))}
    print(f"verdicts            {counts}")
    print(f"server CPU          {cores:.2f} cores of {os.cpu_count()} (its descriptor process included)")
    print(f"simulated pages     {client_cores:.2f} cores (this process, on the same machine)")


if __name__ == "__main__":
    main()
