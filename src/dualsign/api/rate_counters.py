"""Request limits per client and per signer link: fixed windows counted in memory or in Redis.

In one process (the embedded default) counts live in memory. With ``DUALSIGN_REDIS_URL`` every API
process counts in the same Redis (``INCR`` + ``EXPIRE`` in one transaction per request), so a client
spreading requests over several processes meets one limit.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    limit: int
    retry_after_s: int  # seconds until the window ends (when refused)


class RateLimiter(Protocol):
    def hit(self, key: str, limit: int, window_s: int) -> Decision: ...

    def peek(self, key: str, limit: int, window_s: int) -> Decision:
        """The current window's count, not counting this look (allowed: still under ``limit``)."""
        ...


def _window(window_s: int, now: float) -> tuple[int, int]:
    start = int(now // window_s) * window_s
    return start, max(1, start + window_s - int(now))


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        start, left = _window(window_s, time.time())
        with self._lock:
            if len(self._counts) > 100_000:  # old windows go; the current ones stay
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= start}
            count = self._counts.get((key, start), 0) + 1
            self._counts[(key, start)] = count
        return Decision(count <= limit, count, limit, left)

    def peek(self, key: str, limit: int, window_s: int) -> Decision:
        start, left = _window(window_s, time.time())
        with self._lock:
            count = self._counts.get((key, start), 0)
        return Decision(count < limit, count, limit, left)


class RedisRateLimiter:
    def __init__(self, client: Any, prefix: str = "dualsign:rl:") -> None:
        self.redis = client
        self.prefix = prefix

    def hit(self, key: str, limit: int, window_s: int) -> Decision:
        start, left = _window(window_s, time.time())
        name = f"{self.prefix}{key}:{start}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(name)
        pipe.expire(name, window_s + 1)
        count = int(pipe.execute()[0])
        return Decision(count <= limit, count, limit, left)

    def peek(self, key: str, limit: int, window_s: int) -> Decision:
        start, left = _window(window_s, time.time())
        count = int(self.redis.get(f"{self.prefix}{key}:{start}") or 0)
        return Decision(count < limit, count, limit, left)


def rate_limiter(redis_url: str | None) -> RateLimiter:
    """Counts in this process, or in Redis shared by every API process (``DUALSIGN_REDIS_URL``)."""
    if redis_url:
        import redis

        return RedisRateLimiter(redis.Redis.from_url(redis_url))
    return MemoryRateLimiter()
