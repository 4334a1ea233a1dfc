"""The HTTP edge: FastAPI routes, wire schemas, problem details, the signer's live channel (WebSocket)
and the HTTP protections (body size, request limits, security headers)."""
