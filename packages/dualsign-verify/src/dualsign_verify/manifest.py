"""The sealed manifest and the export statement: one type each, written by the platform when it seals and
exports, read by the verifier.

``Manifest.to_bytes()`` is what the platform signs (canonical JSON); ``Manifest.parse`` reads it back and
refuses anything version 1 does not define, so what the verifier checks is exactly what was written:
``Manifest.parse(json.loads(m.to_bytes())).to_bytes() == m.to_bytes()``.

The export statement (``export.json``, signed beside the bundle) binds the members made after sealing —
the evidence report and the README — to the manifest by their digests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dualsign_verify.canonical import canonical_json

MANIFEST_KIND = "dualsign.manifest"
MANIFEST_VERSION = 1
EXPORT_KIND = "dualsign.export"
EXPORT_VERSION = 1
MERKLE_ALGORITHM = "rfc6962-sha256"
MERKLE_LEAVES = "event records, then artifacts"


class ManifestError(ValueError):
    """The JSON is not a manifest (or an export statement) of the version this code reads; says why."""


def _hex(value: object, length: int = 64) -> bool:
    return isinstance(value, str) and len(value) == length and all(c in "0123456789abcdef" for c in value)


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ManifestError(f"{where}.{key} must be a string")
    return value


def _digest(obj: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not _hex(value):
        raise ManifestError(f"{where}.{key} must be 64 lowercase hex digits")
    return str(value)


def _int(obj: Mapping[str, Any], key: str, where: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ManifestError(f"{where}.{key} must be a whole number ≥ 0")
    return value


def _object(obj: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise ManifestError(f"{where}.{key} must be an object")
    return value


def _only(obj: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise ManifestError(f"{where} has fields version 1 does not define: {', '.join(extra)}")


@dataclass(frozen=True)
class ArtifactEntry:
    """One artifact as the manifest lists it."""

    role: str
    sha256: str
    size: int
    sm3: str | None  # None where the platform's OpenSSL had no SM3
    name: str | None = None
    media_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role": self.role, "sha256": self.sha256, "sm3": self.sm3, "size": self.size}
        if self.name is not None:
            out["name"] = self.name
        if self.media_type is not None:
            out["media_type"] = self.media_type
        return out

    @classmethod
    def parse(cls, obj: object, where: str) -> ArtifactEntry:
        if not isinstance(obj, dict):
            raise ManifestError(f"{where} must be an object")
        _only(obj, {"role", "sha256", "sm3", "size", "name", "media_type"}, where)
        name, media_type = obj.get("name"), obj.get("media_type")
        if name is not None and not isinstance(name, str):
            raise ManifestError(f"{where}.name must be a string")
        if media_type is not None and not isinstance(media_type, str):
            raise ManifestError(f"{where}.media_type must be a string")
        return cls(
            role=_str(obj, "role", where),
            sha256=str(_digest(obj, "sha256", where)),
            size=_int(obj, "size", where),
            sm3=_digest(obj, "sm3", where, optional=True),
            name=name,
            media_type=media_type,
        )


@dataclass(frozen=True)
class Manifest:
    """What the platform seals: the session's end state, its chain head, every artifact, the Merkle
    root over both, and which timestamp authority stamped it."""

    session_id: str
    tenant_id: str
    state: str
    template_key: str
    template_sha256: str
    sealed_at: str  # ISO 8601, UTC ("…Z")
    chain_length: int
    head_sha256: str
    head_sm3: str | None
    artifacts: tuple[ArtifactEntry, ...]
    merkle_size: int
    merkle_root: str
    tsa_name: str
    tsa_mode: str  # self-attested | external
    report: str | None = None  # the member the report is exported as (bound by the export statement)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": MANIFEST_KIND,
            "version": MANIFEST_VERSION,
            "session_id": self.session_id,
            "tenant_id": self.tenant_id,
            "state": self.state,
            "template": {"key": self.template_key, "sha256": self.template_sha256},
            "sealed_at": self.sealed_at,
            "chain": {
                "length": self.chain_length,
                "head_sha256": self.head_sha256,
                "head_sm3": self.head_sm3,
            },
            "artifacts": [a.to_json() for a in self.artifacts],
            "merkle": {
                "algorithm": MERKLE_ALGORITHM,
                "leaves": MERKLE_LEAVES,
                "size": self.merkle_size,
                "root": self.merkle_root,
            },
            "tsa": {"name": self.tsa_name, "mode": self.tsa_mode},
        }
        if self.report is not None:
            out["report"] = self.report
        return out

    def to_bytes(self) -> bytes:
        """The canonical JSON the platform signs and the bundle carries as manifest.json."""
        return canonical_json(self.to_json())

    @classmethod
    def parse(cls, obj: object) -> Manifest:
        """A manifest from its JSON; ``ManifestError`` names the first field that is not as written."""
        if not isinstance(obj, dict) or obj.get("kind") != MANIFEST_KIND:
            raise ManifestError("manifest.json is not a DualSign manifest")
        if obj.get("version") != MANIFEST_VERSION:
            raise ManifestError(f"manifest version {obj.get('version')!r} is not one this verifier reads")
        top = {"kind", "version", "session_id", "tenant_id", "state", "template", "sealed_at", "chain"}
        _only(obj, top | {"artifacts", "merkle", "tsa", "report"}, "manifest")
        template = _object(obj, "template", "manifest")
        chain = _object(obj, "chain", "manifest")
        merkle = _object(obj, "merkle", "manifest")
        tsa = _object(obj, "tsa", "manifest")
        _only(template, {"key", "sha256"}, "manifest.template")
        _only(chain, {"length", "head_sha256", "head_sm3"}, "manifest.chain")
        _only(merkle, {"algorithm", "leaves", "size", "root"}, "manifest.merkle")
        _only(tsa, {"name", "mode"}, "manifest.tsa")
        if merkle.get("algorithm") != MERKLE_ALGORITHM or merkle.get("leaves") != MERKLE_LEAVES:
            raise ManifestError(f"manifest.merkle must be {MERKLE_ALGORITHM} over {MERKLE_LEAVES}")
        artifacts = obj.get("artifacts")
        if not isinstance(artifacts, list):
            raise ManifestError("manifest.artifacts must list {role, sha256, sm3, size} entries")
        report = obj.get("report")
        if report is not None and not isinstance(report, str):
            raise ManifestError("manifest.report must be a member name")
        return cls(
            session_id=_str(obj, "session_id", "manifest"),
            tenant_id=_str(obj, "tenant_id", "manifest"),
            state=_str(obj, "state", "manifest"),
            template_key=_str(template, "key", "manifest.template"),
            template_sha256=str(_digest(template, "sha256", "manifest.template")),
            sealed_at=_str(obj, "sealed_at", "manifest"),
            chain_length=_int(chain, "length", "manifest.chain"),
            head_sha256=str(_digest(chain, "head_sha256", "manifest.chain")),
            head_sm3=_digest(chain, "head_sm3", "manifest.chain", optional=True),
            artifacts=tuple(
                ArtifactEntry.parse(a, f"manifest.artifacts[{i}]") for i, a in enumerate(artifacts)
            ),
            merkle_size=_int(merkle, "size", "manifest.merkle"),
            merkle_root=str(_digest(merkle, "root", "manifest.merkle")),
            tsa_name=_str(tsa, "name", "manifest.tsa"),
            tsa_mode=_str(tsa, "mode", "manifest.tsa"),
            report=report,
        )


@dataclass(frozen=True)
class ExportedMember:
    sha256: str
    size: int


@dataclass(frozen=True)
class ExportStatement:
    """The members made after sealing, bound to the sealed manifest by their digests."""

    manifest_sha256: str
    members: dict[str, ExportedMember]

    @classmethod
    def of(cls, manifest: bytes, members: Mapping[str, bytes]) -> ExportStatement:
        return cls(
            hashlib.sha256(manifest).hexdigest(),
            {n: ExportedMember(hashlib.sha256(d).hexdigest(), len(d)) for n, d in members.items()},
        )

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "kind": EXPORT_KIND,
                "version": EXPORT_VERSION,
                "manifest_sha256": self.manifest_sha256,
                "members": {n: {"sha256": m.sha256, "size": m.size} for n, m in self.members.items()},
            }
        )

    @classmethod
    def parse(cls, obj: object) -> ExportStatement:
        if (
            not isinstance(obj, dict)
            or obj.get("kind") != EXPORT_KIND
            or obj.get("version") != EXPORT_VERSION
        ):
            raise ManifestError("export.json is not a DualSign export statement")
        _only(obj, {"kind", "version", "manifest_sha256", "members"}, "export.json")
        members = _object(obj, "members", "export.json")
        parsed = {}
        for name, entry in members.items():
            where = f"export.json.members[{name!r}]"
            if not isinstance(entry, dict):
                raise ManifestError(f"{where} must be an object")
            _only(entry, {"sha256", "size"}, where)
            parsed[name] = ExportedMember(str(_digest(entry, "sha256", where)), _int(entry, "size", where))
        return cls(str(_digest(obj, "manifest_sha256", "export.json")), parsed)
