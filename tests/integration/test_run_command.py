"""The README's run command: installs, serves the embedded defaults, prints a working key and signer link."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import websockets

ROOT = Path(__file__).parents[2]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running(data_dir: Path, port: int) -> Iterator[tuple[str, str]]:
    env = {
        **os.environ,
        "DUALSIGN_DATA_DIR": str(data_dir),
        "DUALSIGN_PORT": str(port),
        "COLUMNS": "400",
        "NO_COLOR": "1",
    }
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                pytest.fail("the run command ended early:\n" + "".join(lines))
            lines.append(ANSI.sub("", line))
            if "Uvicorn running" in line or "Application startup complete" in line:
                break
        output = "".join(lines)
        assert httpx.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}, output
        yield base, output
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


async def live_channel_extensions(base: str, token: str) -> str | None:
    """The extensions the server accepts on the live channel when offered permessage-deflate."""
    url = f"{base.replace('http', 'ws', 1)}/signer/v1/live?token={token}"
    async with websockets.connect(url, compression="deflate") as ws:
        extensions: str | None = ws.response.headers.get("Sec-WebSocket-Extensions")
        return extensions


@pytest.mark.slow
def test_run_command_serves_docs_and_a_working_demo_tenant(tmp_path: Path) -> None:
    port = free_port()
    with running(tmp_path, port) as (base, output):
        key = re.search(r"API key:\s+(dsk_\S+)", output)
        link = re.search(r"signer link:\s+(http\S+)", output)
        assert key, output
        assert link, output
        assert link.group(1).startswith(f"{base}/s/")
        # the report's verification QR would name this machine: the operator is told at start
        assert "DUALSIGN_PUBLIC_URL is not set" in output, output
        assert httpx.get(f"{base}/docs", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        sessions = httpx.get(f"{base}/v1/sessions", headers=auth, timeout=10).json()
        assert len(sessions) == 1
        assert sessions[0]["external_ref"] == "demo"
        page = httpx.get(link.group(1), timeout=10)
        assert page.status_code == 200
        assert '<script src="/static/signer.js">' in page.text  # the recorded signer page
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert httpx.get(f"{base}/static/signer.js", timeout=10).status_code == 200
        token = link.group(1).rsplit("/", 1)[1]
        state = httpx.post(f"{base}/signer/v1/open", headers={"X-Signer-Token": token}, timeout=10).json()
        assert state["state"] == "consent"
        assert state["signer_name"] == "Demo Signer"
        # the live channel takes JPEG frames and PCM audio uncompressed, whatever the page offers
        # (deflate does not shrink them and costs the page's CPU and the server's on every frame)
        assert asyncio.run(live_channel_extensions(base, token)) is None
    # a second start on the same data: same tenant, its key not shown again, a fresh signer link
    with running(tmp_path, port) as (base, output):
        assert "API key:" not in output
        assert "demo tenant:" in output
        assert re.search(r"signer link:\s+http\S+/s/\S+", output)
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        assert len(httpx.get(f"{base}/v1/sessions", headers=auth, timeout=10).json()) == 2
