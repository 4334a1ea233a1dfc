"""The real clock and id factory (the domain and use cases receive them; tests pass fixed ones)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class RandomIds:
    """Ids like ``ses_3f9c…``: a type prefix and 96 random bits, unguessable across tenants."""

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(12)}"
