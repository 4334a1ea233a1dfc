"""The one RFC 3161 exchange both timestamp authorities serve (the external one over HTTP, the platform's
own): a token over SHA-256(data), asked with pyHanko's ``TimeStamper.request_cms`` (nonce, certReq) and
refused unless the answer is granted, over that digest, for that nonce. Only how the request reaches an
answer differs: that is each ``TimeStamper``'s ``async_request_tsa_response`` (its transport).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from asn1crypto import cms, tsp
from pyhanko.sign.timestamps.api import TimeStamper


class TimestampRefused(Exception):
    pass


def timestamp_token(
    stamper: TimeStamper, data: bytes, respond: Callable[[tsp.TimeStampReq], tsp.TimeStampResp], tsa: str
) -> cms.ContentInfo:
    """A TimeStampToken over SHA-256(``data``) from ``stamper``, whose answer ``respond`` obtains; raises
    ``TimestampRefused`` naming ``tsa`` for anything but a granted answer to this very request."""
    digest = hashlib.sha256(data).digest()
    nonce, request = stamper.request_cms(digest, "sha256")  # type: ignore[no-untyped-call]
    response = respond(request)
    status = response["status"]["status"].native
    if status not in ("granted", "granted_with_mods"):
        raise TimestampRefused(f"{tsa} answered {status}")
    token: cms.ContentInfo = response["time_stamp_token"]
    tst = token["content"]["encap_content_info"]["content"].parsed
    if tst["message_imprint"]["hashed_message"].native != digest:
        raise TimestampRefused(f"{tsa} timestamped other data")
    if tst["nonce"].native != nonce:
        raise TimestampRefused(f"{tsa} answered another request (nonce)")
    return token
