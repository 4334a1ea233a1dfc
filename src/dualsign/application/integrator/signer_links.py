"""Signer links: a signed token bound to one session, valid until the session expires.

The token carries the session id and its expiry, signed (HMAC-SHA256 via itsdangerous) with the
platform secret. It proves nothing beyond "this link was issued for this session": whether the session
can still be acted on is decided from its stored state every time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer

from dualsign.domain.errors import TokenInvalid


@dataclass(frozen=True)
class SignerClaim:
    session_id: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


class SignerLinks:
    def __init__(self, secret: bytes, public_url: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="dualsign.signer-link.v1")
        self.public_url = public_url.rstrip("/")

    def token(self, session_id: str, expires_at: datetime) -> str:
        return self._serializer.dumps({"sid": session_id, "exp": int(expires_at.timestamp())})

    def url(self, token: str) -> str:
        return f"{self.public_url}/s/{token}"

    def verify(self, token: str, now: datetime) -> SignerClaim:
        """The claim of a genuine, unexpired link; ``TokenInvalid`` otherwise."""
        claim = self.verify_signature(token)
        if claim.expired(now):
            raise TokenInvalid("the signer link has expired")
        return claim

    def verify_signature(self, token: str) -> SignerClaim:
        """The claim of a genuine link, expired or not (so that expiry can be recorded)."""
        try:
            data = self._serializer.loads(token)
        except BadSignature:
            raise TokenInvalid("the signer link is not valid") from None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("sid"), str)
            or not isinstance(data.get("exp"), int)
        ):
            raise TokenInvalid("the signer link is not valid")
        return SignerClaim(data["sid"], datetime.fromtimestamp(data["exp"], UTC))
