"""Raw request bodies (YAML, audio): the declared media type checked, the size limited, then read."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request

from dualsign.domain.errors import PayloadTooLarge, UnsupportedMedia


async def typed_body(request: Request, types: Sequence[str], limit: int) -> bytes:
    """The body of ``request``: 415 naming ``body`` unless its type is in ``types``; 413 past ``limit``."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in types:
        raise UnsupportedMedia("body", ctype, tuple(types))
    raw = await request.body()
    if len(raw) > limit:
        raise PayloadTooLarge("body", limit, len(raw))
    return raw
