"""Content-addressed blob store on an S3-compatible object store, with Object Lock for sealed evidence.

A blob is the object ``<prefix>sha256/<digest>`` of one bucket. Writes send the SHA-256 as the
object's checksum, so the store itself refuses bytes that arrived damaged; the same bytes stored twice
are stored once. The bucket must have Object Lock enabled (checked when the store is opened: without it
sealed evidence could be deleted by anyone holding the keys, so the service refuses to start).
``retain`` puts an object under COMPLIANCE retention until a date — nobody, the root account included,
can delete or overwrite it before then — and only ever extends a retention already set.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from dualsign.application.records import BlobRef
from dualsign.domain.errors import NotFound
from dualsign_verify.records import digests

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_MISSING = {"404", "NoSuchKey", "NotFound"}


class ObjectLockMissing(RuntimeError):
    """The bucket cannot hold evidence: Object Lock is not enabled on it."""


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.s3 = client
        self.bucket = bucket
        self.prefix = prefix

    def check_object_lock(self) -> str:
        """The bucket's Object Lock state ('Enabled'), or ``ObjectLockMissing`` naming the bucket."""
        try:
            config = self.s3.get_object_lock_configuration(Bucket=self.bucket)
        except ClientError as exc:
            raise ObjectLockMissing(
                f"bucket {self.bucket!r} has no Object Lock ({_code(exc)}): "
                "create it with Object Lock enabled"
            ) from None
        state = str(config.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled", ""))
        if state != "Enabled":
            raise ObjectLockMissing(f"bucket {self.bucket!r}: Object Lock is {state or 'not enabled'}")
        return state

    def _key(self, sha256: str) -> str:
        if not _DIGEST.match(sha256):
            raise NotFound("blob", sha256)
        return f"{self.prefix}sha256/{sha256}"

    def put(self, data: bytes) -> BlobRef:
        d = digests(data)
        ref = BlobRef(d.sha256, len(data), d.sm3)
        if not self.exists(d.sha256):
            self.put_named(d.sha256, data)
        return ref

    def put_named(self, sha256: str, stored: bytes) -> None:
        """``stored`` as the object of blob ``sha256``; S3 checks the body against its SHA-256."""
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._key(sha256),
            Body=stored,
            ChecksumSHA256=base64.b64encode(hashlib.sha256(stored).digest()).decode(),
        )

    def names(self) -> Iterator[str]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}sha256/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = str(item["Key"]).rsplit("/", 1)[-1]
                if _DIGEST.match(name):
                    yield name

    def get(self, sha256: str) -> bytes:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._key(sha256))["Body"]
        except ClientError as exc:
            if _code(exc) in _MISSING:
                raise NotFound("blob", sha256) from None
            raise
        data: bytes = body.read()
        return data

    def exists(self, sha256: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self._key(sha256))
        except NotFound:
            return False
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return False
            raise
        return True

    def delete(self, sha256: str) -> None:
        """Remove every version of the blob (refused by the store while a retention is in force)."""
        key = self._key(sha256)
        listed = self.s3.list_object_versions(Bucket=self.bucket, Prefix=key)
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            if v["Key"] == key:
                self.s3.delete_object(Bucket=self.bucket, Key=key, VersionId=v["VersionId"])

    def retain(self, sha256: str, until: datetime) -> None:
        """COMPLIANCE retention of the blob until ``until`` (a later date already set is kept)."""
        key = self._key(sha256)
        held = self.s3.head_object(Bucket=self.bucket, Key=key).get("ObjectLockRetainUntilDate")
        if held is not None and held.astimezone(UTC) >= until.astimezone(UTC):
            return
        self.s3.put_object_retention(
            Bucket=self.bucket, Key=key, Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until}
        )
