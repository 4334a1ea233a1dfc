"""Raw request bodies (YAML, audio): the declared media type checked, the size limited, then read."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from dualsign.domain.errors import PayloadTooLarge, UnsupportedMedia


async def typed_body(request: Request, types: Sequence[str], limit: int) -> bytes:
    """The body of ``request``: 415 naming ``body`` unless its type is in ``types``; 413 past ``limit``
    (at once when Content-Length says so, else as soon as the body read passes it)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in types:
        raise UnsupportedMedia("body", ctype, tuple(types))
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:  # refused before a byte of it is read
        raise PayloadTooLarge("body", limit, int(declared))
    parts, size = [], 0
    async for part in request.stream():  # a chunked body is read only up to the limit
        size += len(part)
        if size > limit:
            raise PayloadTooLarge("body", limit)
        parts.append(part)
    return b"".join(parts)
