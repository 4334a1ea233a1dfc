"""Console sign-in against guessing: failed attempts counted per address, per account and address, and
per account, in fixed windows (in memory, or in Redis shared by every API process).

Limits are checked before the password is: over any of them the answer is 429 with ``Retry-After``
and the password is not tried. Only failures count, and every window ends, so nobody can lock an
account for longer than a window (``ACCOUNT_WINDOW_S``) without going on failing, and the owner signing
in from their own address meets the per-account limit only after ``PER_ACCOUNT`` failures from
everywhere (which takes an attacker several addresses, each under its own limit). Every refusal and
every failed attempt is logged (logger ``dualsign.audit``) with the username and the address.
"""

from __future__ import annotations

import hashlib
import logging

from dualsign.api.rate_counters import RateLimiter
from dualsign.domain.errors import TooManyAttempts

PER_ADDRESS = 20  # failed sign-ins from one address (any username) per window
PER_ACCOUNT_ADDRESS = 5  # failed sign-ins to one account from one address per window
PER_ACCOUNT = 50  # failed sign-ins to one account from anywhere per window
ADDRESS_WINDOW_S = 600
ACCOUNT_WINDOW_S = 900

audit = logging.getLogger("dualsign.audit")


def _keys(username: str, address: str) -> list[tuple[str, int, int]]:
    user = hashlib.sha256(username.lower().encode()).hexdigest()[:24]  # no username in a Redis key
    return [
        (f"signin:addr:{address}", PER_ADDRESS, ADDRESS_WINDOW_S),
        (f"signin:user-addr:{user}:{address}", PER_ACCOUNT_ADDRESS, ACCOUNT_WINDOW_S),
        (f"signin:user:{user}", PER_ACCOUNT, ACCOUNT_WINDOW_S),
    ]


def _who(username: str, address: str) -> dict[str, str]:
    return {"username": username, "address": address}


class SignInGuard:
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def check(self, username: str, address: str) -> None:
        """Raise ``TooManyAttempts`` when this address or this account has failed too often."""
        for key, limit, window in _keys(username, address):
            d = self.limiter.peek(key, limit, window)
            if not d.allowed:
                audit.warning(
                    "console sign-in refused (too many failures): %r from %s",
                    username,
                    address,
                    extra={"username": username, "address": address, "limit": key.split(":")[1]},
                )
                raise TooManyAttempts(
                    f"too many failed sign-ins ({d.count} in {window // 60} min); "
                    f"try again in {d.retry_after_s} s",
                    d.retry_after_s,
                )

    def failed(self, username: str, address: str) -> None:
        audit.info(
            "console sign-in failed: %r from %s",
            username,
            address,
            extra={"username": username, "address": address},
        )
        for key, limit, window in _keys(username, address):
            self.limiter.hit(key, limit, window)

    def succeeded(self, username: str, address: str) -> None:
        audit.info(
            "console sign-in: %r from %s", username, address, extra={"username": username, "address": address}
        )
