"""Security headers on every response, set once here rather than route by route.

Every response says ``nosniff`` (an uploaded artifact served back is never run as a script or page)
and ``no-referrer``. HTML pages also get a strict Content-Security-Policy with ``frame-ancestors
'none'`` and ``X-Frame-Options: DENY`` (no clickjacking of the signer page, the console or /verify),
unless the route set its own policy (the signer page allows its camera and microphone).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}
HTML = {
    "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "x-frame-options": "DENY",
}
# FastAPI's API docs load Swagger UI / ReDoc from their CDN with an inline script: framing refused only
DOCS = {"content-security-policy": "frame-ancestors 'none'", "x-frame-options": "DENY"}
DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                html = headers.get("content-type", "").startswith("text/html")
                page = DOCS if scope.get("path", "").startswith(DOCS_PATHS) else HTML
                for name, value in (ALWAYS | page).items() if html else ALWAYS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
