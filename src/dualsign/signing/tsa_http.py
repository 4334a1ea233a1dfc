"""An external RFC 3161 timestamp authority over HTTP (production: a trusted, accredited TSA).

pyHanko's public ``HTTPTimeStamper`` is the transport (on aiohttp, which pyHanko requires; its
requests-based client needs the optional ``requests``, absent from a fresh install). The request and
its checks are the one exchange of ``rfc3161``: a token over SHA-256(data); anything but a granted
answer with that imprint and nonce is refused. The adapter keeps the TSA's certificate and trust
anchor so the bundle can be checked offline. Any failure raises: sealing records it and seals nothing
(fail closed).
"""

from __future__ import annotations

import asyncio

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps import HTTPTimeStamper, TimestampRequestError

from dualsign.signing.rfc3161 import TimestampRefused, timestamp_token

__all__ = ["HttpTSA", "TimestampRefused"]


class HttpTSA:
    mode = "trusted"

    def __init__(self, url: str, root: x509.Certificate, timeout_s: float = 10.0) -> None:
        self.url = url
        self.name = url
        self.root = root
        self.root_pem: bytes | None = root.public_bytes(serialization.Encoding.PEM)
        self._client = HTTPTimeStamper(url, timeout=timeout_s)
        self.cert: x509.Certificate | None = None  # the TSA's certificate, from the last token

    def pdf_timestamper(self) -> HTTPTimeStamper:
        """The same TSA for PAdES signatures and document timestamps (pyHanko's client)."""
        return self._client

    def timestamp(self, data: bytes) -> bytes:
        # pyHanko's HTTP client is asynchronous; sealing runs in a worker thread without an event loop
        try:
            token = timestamp_token(
                self._client,
                data,
                lambda request: asyncio.run(self._client.async_request_tsa_response(request)),
                self.url,
            )
        except TimestampRequestError as exc:  # "error while contacting": the cause says what (503, …)
            raise TimestampRefused(f"{self.url}: {exc}: {exc.__cause__ or 'no detail'}") from exc
        certs = token["content"]["certificates"]
        if certs:
            self.cert = x509.load_der_x509_certificate(certs[0].chosen.dump())
        der: bytes = token.dump()
        return der
