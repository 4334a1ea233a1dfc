"""Every HTTP request timed into ``dualsign_http_request_seconds`` by route name, never by path."""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualsign.observability.metrics import Metrics


class TimingMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            route = scope.get("route")
            name = getattr(route, "name", None) or "unmatched"  # paths carry tokens and ids: names only
            self.metrics.http.labels(name, scope.get("method", ""), str(status)).observe(
                time.perf_counter() - start
            )
