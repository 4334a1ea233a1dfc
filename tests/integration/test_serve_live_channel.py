"""``dualsign serve`` as the run command starts it: the live channel takes a page's camera frames and
audio without per-message compression (JPEG and PCM do not shrink, and deflating every frame costs the
page's CPU and the server's), whatever the page offers."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

DUALSIGN = Path(sys.executable).parent / "dualsign"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_the_live_channel_does_not_negotiate_compression(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUALSIGN_") and k != "DATABASE_URL"},
        "DUALSIGN_DATA_DIR": str(tmp_path / "data"),
        "DUALSIGN_PORT": str(port),
        "DUALSIGN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DUALSIGN_ASR": "fake",
        "DUALSIGN_TTS": "fake",
        "DUALSIGN_VAD": "energy",
        "DUALSIGN_LOG_FORMAT": "text",
        "NO_COLOR": "1",
        "COLUMNS": "400",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(DUALSIGN), "serve", "--demo"], env=env, stdout=out, stderr=out)
    try:
        link = None
        for _ in range(300):
            found = re.search(r"signer link: (\S+)", log.read_text(errors="replace"))
            if found:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).is_success:
                        link = found.group(1)
                        break
                except httpx.HTTPError:
                    pass
            assert server.poll() is None, log.read_text(errors="replace")
            time.sleep(0.2)
        assert link is not None, log.read_text(errors="replace")
        token = re.search(r"[#?&/]([A-Za-z0-9_\-.]{20,})$", link)
        assert token is not None, link

        async def handshake() -> str | None:
            url = f"ws://127.0.0.1:{port}/signer/v1/live?token={token.group(1)}"
            # the client offers permessage-deflate, as browsers do
            async with websockets.connect(url, compression="deflate") as ws:
                extensions: str | None = ws.response.headers.get("Sec-WebSocket-Extensions")
                return extensions

        assert asyncio.run(handshake()) is None
    finally:
        server.terminate()
        server.wait(10)
