"""An external RFC 3161 timestamp authority over HTTP (production: a trusted, accredited TSA).

pyHanko speaks the protocol; this adapter asks for a token over SHA-256(data), refuses anything but a
granted answer whose imprint is that digest, and keeps the TSA's certificate and trust anchor so the
bundle can be checked offline. Any failure raises: sealing records it and seals nothing (fail closed).
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets

from asn1crypto import cms, tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.sign.timestamps.requests_client import HTTPTimeStamper


class TimestampRefused(Exception):
    pass


class HttpTSA:
    mode = "trusted"

    def __init__(self, url: str, root: x509.Certificate, timeout_s: float = 10.0) -> None:
        self.url = url
        self.name = url
        self.root = root
        self.root_pem: bytes | None = root.public_bytes(serialization.Encoding.PEM)
        self._client = HTTPTimeStamper(url, timeout=timeout_s)  # type: ignore[no-untyped-call]
        self.cert: x509.Certificate | None = None  # the TSA's certificate, from the last token

    def pdf_timestamper(self) -> HTTPTimeStamper:
        """The same TSA for PAdES signatures and document timestamps (pyHanko's client)."""
        return self._client

    def timestamp(self, data: bytes) -> bytes:
        digest = hashlib.sha256(data).digest()
        request = tsp.TimeStampReq(
            {
                "version": 1,
                "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
                "nonce": secrets.randbits(63),
                "cert_req": True,
            }
        )
        # pyHanko's HTTP client is asynchronous; sealing runs in a worker thread without an event loop
        response = asyncio.run(self._client.async_request_tsa_response(request))
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampRefused(f"{self.url} answered {status}")
        token: cms.ContentInfo = response["time_stamp_token"]
        tst = token["content"]["encap_content_info"]["content"].parsed
        if tst["message_imprint"]["hashed_message"].native != digest:
            raise TimestampRefused(f"{self.url} timestamped other data")
        if tst["nonce"].native != request["nonce"].native:
            raise TimestampRefused(f"{self.url} answered another request (nonce)")
        certs = token["content"]["certificates"]
        if certs:
            self.cert = x509.load_der_x509_certificate(certs[0].chosen.dump())
        der: bytes = token.dump()
        return der
