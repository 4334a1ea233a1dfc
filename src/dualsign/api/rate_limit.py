"""Limits on the public, unauthenticated-by-key endpoints: the signer's (``/s/…``, ``/signer/…``) and
online verification (``/verify…``). Each request counts against its client address and, when it
carries one, its signer-link token; over either limit it gets 429 with ``Retry-After`` and nothing
behind the limit runs. A WebSocket counts once, when it connects.

A recording chunk or an operation trace batch sent with a signer link counts against that link only,
never the address: a bank branch behind one NAT (or any proxy) puts many signers on one address, and a
chunk or batch refused there is evidence the page must hold and send again. The client address is the
socket's, or the one a trusted proxy (``DUALSIGN_FORWARDED_ALLOW_IPS``) forwarded — never a header from
anyone else.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from dualsign.api.problems import problem
from dualsign.api.rate_counters import Decision, RateLimiter

WINDOW_S = 60
LIMITED = ("/s/", "/signer/", "/verify")
RECORDING = "/signer/v1/recording/"  # chunks: limited per signer link only
TRACE = "/signer/v1/trace/"  # operation trace batches: likewise


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, limiter: RateLimiter, per_client: int, per_token: int) -> None:
        self.app = app
        self.limiter = limiter
        self.per_client = per_client
        self.per_token = per_token

    def _token(self, scope: Scope) -> str | None:
        headers = dict(scope.get("headers") or [])
        token = headers.get(b"x-signer-token", b"").decode("latin-1")
        if not token:
            token = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token") or [""])[0]
        path: str = scope.get("path", "")
        if not token and path.startswith("/s/"):
            token = path[3:]
        return token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not path.startswith(LIMITED):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        token = self._token(scope)
        if token and path.startswith((RECORDING, TRACE)):
            decision = Decision(True, 0, self.per_client, 0)  # the link's limit below is the chunk's
        else:
            decision = self.limiter.hit(f"client:{client}", self.per_client, WINDOW_S)
        if decision.allowed and token:
            digest = hashlib.sha256(token.encode()).hexdigest()[:32]  # the token itself is never a key
            decision = self.limiter.hit(f"token:{digest}", self.per_token, WINDOW_S)
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "too many requests"})
            return
        detail = (
            f"more than {decision.limit} requests in {WINDOW_S} s; try again in {decision.retry_after_s} s"
        )
        response = problem(
            429, "Too many requests", detail, "rate_limited", path, retry_after_s=decision.retry_after_s
        )
        await response(scope, receive, send)
