"""Offline verification of an evidence bundle, in numbered steps.

1. Structure: the archive, its required files, the manifest's kind and version.
2. Artifacts: every listed artifact is present with its SHA-256, SM3 and size; nothing unlisted.
3. Event chain: records in sequence, each linked to the one before, digests as recorded, head as sealed.
4. Artifacts in the chain: every artifact entered the chain when it arrived, and only those.
5. Merkle root: recomputed over the event records and artifacts (RFC 6962).
6. Platform signature: over manifest.json, by the platform certificate, issued by the root.
7. Timestamp: RFC 3161 token over the signature, by a timestamping certificate issued by the root.
8. Transparency log: the manifest's inclusion proof against a checkpoint signed by the log key.
9. PDF signatures: the evidence report (and signed documents) carry intact, valid PAdES signatures.

Each step PASSED, FAILED or INDETERMINATE with a reason; the bundle's verdict is FAILED if any step
failed, INDETERMINATE if any could not be decided, else PASSED.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from dualsign_verify import merkle
from dualsign_verify.bundle import Bundle
from dualsign_verify.canonical import canonical_json
from dualsign_verify.checkpoint import CheckpointError, parse_and_verify
from dualsign_verify.records import GENESIS, record_digests, sm3_hex
from dualsign_verify.timestamp import TimestampError, verify_token

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="digests")
_STEPS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="artifacts-step")


class Status(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"
    INDETERMINATE = "INDETERMINATE"


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: Status
    reason: str


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Status:
        statuses = {s.status for s in self.steps}
        if Status.FAILED in statuses:
            return Status.FAILED
        if Status.INDETERMINATE in statuses:
            return Status.INDETERMINATE
        return Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "steps": [
                {"step": s.number, "name": s.name, "status": s.status.value, "reason": s.reason}
                for s in self.steps
            ],
            "facts": self.facts,
        }


def event_leaf(record: dict[str, Any]) -> bytes:
    return merkle.leaf_hash(b"E" + canonical_json(record))


def artifact_leaf(entry: dict[str, Any]) -> bytes:
    return merkle.leaf_hash(b"A" + canonical_json(entry))


class _Missing(Exception):
    pass


def _cert(bundle: Bundle, name: str) -> x509.Certificate:
    data = bundle.get(name)
    if data is None:
        raise _Missing(f"{name} is missing")
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError:
        raise _Missing(f"{name} is not a PEM certificate") from None


def verify(bundle: Bundle, trusted_roots: list[x509.Certificate] | None = None) -> Report:
    r = Report()
    m = bundle.manifest
    r.steps.append(
        Step(1, "structure", Status.PASSED, f"manifest v{m['version']} of session {m.get('session_id')}")
    )
    # the artifact digests (hashlib, outside the GIL) run while this thread checks everything else
    hashing = _STEPS.submit(_guarded, 2, "artifacts", _artifacts, bundle)
    try:
        records, step = _chain(bundle)
    except Exception as exc:  # a corrupt record no check foresaw: the step fails, the verifier does not
        records, step = [], _broken(3, "event chain", exc)
    later = [
        step,
        _guarded(4, "artifacts in the chain", _artifacts_in_chain, bundle, records),
        _guarded(5, "Merkle root", _merkle, bundle, records),
    ]
    try:
        root_step, root = _root(bundle, trusted_roots)
    except Exception as exc:  # a certificate too corrupt to read: no usable root
        root_step, root = f"the root cannot be read: {type(exc).__name__}", None
    later.append(_guarded(6, "platform signature", _signature, bundle, root, root_step))
    later.append(_guarded(7, "timestamp", _timestamp, bundle, root, r))
    later.append(_guarded(8, "transparency log", _log, bundle, r))
    later.append(_guarded(9, "PDF signatures", _pdfs, bundle, root, records))
    r.steps += [hashing.result(), *later]
    r.facts.update(
        session_id=m.get("session_id"),
        state=m.get("state"),
        sealed_at=m.get("sealed_at"),
        tsa_mode=m.get("tsa", {}).get("mode"),
        trust=root_step,
    )
    return r


def _broken(number: int, name: str, exc: Exception) -> Step:
    return Step(number, name, Status.FAILED, f"cannot be checked: {type(exc).__name__}: {str(exc)[:200]}")


def _guarded(number: int, name: str, check: Callable[..., Step], *args: Any) -> Step:
    """Run one step; content too corrupt for its parsers fails the step instead of the verifier."""
    try:
        return check(*args)
    except Exception as exc:
        return _broken(number, name, exc)


def _sha256_hex(data: bytes | memoryview) -> str | None:
    return hashlib.sha256(data).hexdigest()


def _artifacts(bundle: Bundle) -> Step:
    listed = bundle.manifest.get("artifacts", [])
    names = [f"artifacts/{a['sha256']}" for a in listed]
    data = {n: bundle.data(n) for n in names}
    for a, name in zip(listed, names, strict=True):
        if data[name] is None:
            return Step(2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… is missing")
    blobs = {n: d for n, d in data.items() if d is not None}
    # every digest is its own task on two threads (hashlib releases the GIL). The longest go first
    # (SM3 is ~7x slower than SHA-256 here, then larger before smaller), so the last task to finish
    # is a short one and both cores stay busy until the end
    by_cost = sorted(blobs, key=lambda n: len(blobs[n]), reverse=True)
    jobs = {(n, "sm3"): _POOL.submit(sm3_hex, blobs[n]) for n in by_cost}
    jobs |= {(n, "sha256"): _POOL.submit(_sha256_hex, blobs[n]) for n in by_cost}
    digests = [(jobs[(n, "sha256")].result(), jobs[(n, "sm3")].result()) for n in names]
    for a, name, (sha, sm3) in zip(listed, names, digests, strict=True):
        if sha != a["sha256"] or len(blobs[name]) != a["size"]:
            return Step(
                2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… does not match its digest"
            )
        if a.get("sm3") and sm3 is not None and sm3 != a["sm3"]:
            return Step(
                2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… does not match its SM3"
            )
    extra = [n for n in bundle.names if n.startswith("artifacts/") and n not in set(names)]
    if extra:
        return Step(2, "artifacts", Status.FAILED, f"unlisted files: {', '.join(sorted(extra))[:200]}")
    return Step(2, "artifacts", Status.PASSED, f"{len(listed)} artifacts match their SHA-256 and SM3")


def _chain(bundle: Bundle) -> tuple[list[dict[str, Any]], Step]:
    records: list[dict[str, Any]] = []
    try:
        for line in bundle.files["events.jsonl"].decode("utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    except (ValueError, UnicodeDecodeError) as exc:
        return [], Step(3, "event chain", Status.FAILED, f"events.jsonl is not JSON lines: {exc}")
    prev = GENESIS
    head = None
    for i, rec in enumerate(records, 1):
        if not isinstance(rec, dict) or rec.get("seq") != i:
            return records, Step(3, "event chain", Status.FAILED, f"record {i} is out of sequence")
        if rec.get("prev") != prev:
            return records, Step(
                3, "event chain", Status.FAILED, f"record {i} does not link to record {i - 1}"
            )
        try:
            head = record_digests(rec)
        except (TypeError, ValueError) as exc:
            return records, Step(3, "event chain", Status.FAILED, f"record {i} cannot be hashed: {exc}")
        prev = head.sha256
    chain = bundle.manifest.get("chain", {})
    if head is None or chain.get("length") != len(records) or chain.get("head_sha256") != head.sha256:
        return records, Step(3, "event chain", Status.FAILED, "the chain's head is not the one sealed")
    if chain.get("head_sm3") and head.sm3 and chain["head_sm3"] != head.sm3:
        return records, Step(3, "event chain", Status.FAILED, "the chain's SM3 head is not the one sealed")
    return records, Step(
        3, "event chain", Status.PASSED, f"{len(records)} records linked, head {head.sha256[:16]}…"
    )


def _artifacts_in_chain(bundle: Bundle, records: list[dict[str, Any]]) -> Step:
    in_chain = {
        r["payload"].get("sha256")
        for r in records
        if r.get("kind") == "artifact_stored" and isinstance(r.get("payload"), dict)
    }
    listed = {a["sha256"] for a in bundle.manifest.get("artifacts", [])}
    if listed - in_chain:
        return Step(4, "artifacts in chain", Status.FAILED, "an artifact never entered the event chain")
    if in_chain - listed:
        return Step(4, "artifacts in chain", Status.FAILED, "an artifact of the chain is not in the bundle")
    return Step(4, "artifacts in chain", Status.PASSED, "every artifact entered the chain when it arrived")


def _merkle(bundle: Bundle, records: list[dict[str, Any]]) -> Step:
    leaves = [event_leaf(r) for r in records] + [
        artifact_leaf(a) for a in bundle.manifest.get("artifacts", [])
    ]
    root = merkle.root(leaves).hex()
    if bundle.manifest.get("merkle", {}).get("root") != root:
        return Step(
            5, "merkle root", Status.FAILED, "the Merkle root does not match the records and artifacts"
        )
    return Step(5, "merkle root", Status.PASSED, f"root {root[:16]}… over {len(leaves)} leaves")


def _root(bundle: Bundle, trusted: list[x509.Certificate] | None) -> tuple[str, x509.Certificate | None]:
    try:
        embedded = _cert(bundle, "certs/root.pem")
    except _Missing as exc:
        return str(exc), None
    if trusted is None:
        return "embedded root (pass --trust ROOT.pem to pin the platform)", embedded
    if any(t.fingerprint(hashes.SHA256()) == embedded.fingerprint(hashes.SHA256()) for t in trusted):
        return "trusted root", embedded
    return "root not trusted", None


def _signature(bundle: Bundle, root: x509.Certificate | None, trust: str) -> Step:
    name = "platform signature"
    if root is None:
        return Step(6, name, Status.FAILED, f"no usable root: {trust}")
    signature = bundle.get("manifest.sig")
    if signature is None:
        return Step(6, name, Status.FAILED, "manifest.sig is missing")
    try:
        platform = _cert(bundle, "certs/platform.pem")
        platform.verify_directly_issued_by(root)
        key = platform.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return Step(6, name, Status.FAILED, "the platform key is not ECDSA")
        key.verify(signature, bundle.files["manifest.json"], ec.ECDSA(hashes.SHA256()))
    except _Missing as exc:
        return Step(6, name, Status.FAILED, str(exc))
    except (InvalidSignature, ValueError, TypeError):
        return Step(6, name, Status.FAILED, "the platform signature over the manifest does not verify")
    return Step(6, name, Status.PASSED, f"signed by {platform.subject.rfc4514_string()}; {trust}")


def _timestamp(bundle: Bundle, root: x509.Certificate | None, report: Report) -> Step:
    if root is None:
        return Step(7, "timestamp", Status.FAILED, "no usable root")
    token, signature = bundle.get("manifest.tsr"), bundle.get("manifest.sig")
    if token is None or signature is None:
        return Step(
            7, "timestamp", Status.FAILED, "the timestamp token (or the signature it covers) is missing"
        )
    try:
        issuer = _cert(bundle, "certs/tsa-root.pem") if "certs/tsa-root.pem" in bundle.files else root
        info = verify_token(token, signature, _cert(bundle, "certs/tsa.pem"), issuer)
    except (TimestampError, _Missing) as exc:
        return Step(7, "timestamp", Status.FAILED, str(exc))
    mode = bundle.manifest.get("tsa", {}).get("mode", "?")
    report.facts["timestamp"] = info.time.isoformat()
    note = " (self-attested: the platform's own TSA)" if mode == "self-attested" else ""
    return Step(7, "timestamp", Status.PASSED, f"{info.time.isoformat()} by {info.tsa}{note}")


def _pdfs(bundle: Bundle, root: x509.Certificate | None, records: list[dict[str, Any]]) -> Step:
    from dualsign_verify.pdf import check_pdf

    signed = {
        f"artifacts/{a['sha256']}": a
        for a in bundle.manifest.get("artifacts", [])
        if a.get("role") == "signed_document"
    }
    pdfs = {
        n: bytes(bundle.data(n) or b"")
        for n in bundle.names
        if n == "report.pdf" or n.startswith("signed/") or n in signed
    }
    if not pdfs:
        return Step(9, "PDF signatures", Status.INDETERMINATE, "no signed PDF in the bundle")
    if root is None:
        return Step(9, "PDF signatures", Status.FAILED, "no usable root")
    try:  # an external TSA's root, carried in the bundle, may anchor the timestamps (never the signers)
        tsa_roots = (_cert(bundle, "certs/tsa-root.pem"),) if "certs/tsa-root.pem" in bundle.files else ()
    except _Missing:
        tsa_roots = ()
    checks = [
        check_pdf(signed[n]["name"] if n in signed else n, d, root, tsa_roots)
        for n, d in sorted(pdfs.items())
    ]
    bad = [c for c in checks if not c.ok]
    if bad:
        return Step(9, "PDF signatures", Status.FAILED, f"{bad[0].name}: {bad[0].reason}")
    try:
        problem = _bindings([pdfs[n] for n in signed if n in pdfs], records)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"a document_signed record is malformed: {exc!r}"
    if problem:
        return Step(9, "PDF signatures", Status.FAILED, problem)
    return Step(9, "PDF signatures", Status.PASSED, "; ".join(f"{c.name}: {c.reason}" for c in checks))


def _bindings(documents: list[bytes], records: list[dict[str, Any]]) -> str | None:
    """Every ``document_signed`` record must match a revision of a signed document in the bundle, and
    that signature's ``/Reason`` must name the chain head the record says, an earlier record's digest."""
    from dualsign_verify.pdf import signature_reasons

    earlier: set[str] = set()
    reasons = [signature_reasons(d) for d in documents]
    prev = GENESIS
    for r in records:
        earlier.add(prev)
        if r.get("kind") == "document_signed":
            p = r["payload"]
            head, field = str(p.get("chain_head")), str(p.get("field"))
            size, digest = int(p.get("revision_size", -1)), str(p.get("revision_sha256"))
            if head not in earlier:
                return f"signature {field} is bound to {head[:16]}…, not a record before it"
            owner = next(
                (i for i, d in enumerate(documents) if hashlib.sha256(d[:size]).hexdigest() == digest), None
            )
            if owner is None:
                return f"no signed document has the revision of signature {field}"
            if head not in reasons[owner].get(field, ""):
                return f"signature {field} does not carry the chain head {head[:16]}…"
        prev = record_digests(r).sha256
    return None


def _log(bundle: Bundle, report: Report) -> Step:
    note, proof_raw, key_raw = (
        bundle.get("log/checkpoint.txt"),
        bundle.get("log/inclusion.json"),
        bundle.get("log/key.json"),
    )
    if note is None or proof_raw is None or key_raw is None:
        return Step(8, "transparency log", Status.FAILED, "the inclusion proof or checkpoint is missing")
    try:
        key = json.loads(key_raw)
        proof = json.loads(proof_raw)
        checkpoint = parse_and_verify(note.decode("utf-8"), key["name"], base64.b64decode(key["public_key"]))
        leaf = merkle.leaf_hash(hashlib.sha256(bundle.files["manifest.json"]).digest())
        path = [bytes.fromhex(p) for p in proof["proof"]]
        ok = proof["size"] == checkpoint.size and merkle.verify_inclusion(
            leaf, int(proof["index"]), int(proof["size"]), path, checkpoint.root
        )
    except (CheckpointError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        return Step(8, "transparency log", Status.FAILED, f"log proof unusable: {exc}")
    if not ok:
        return Step(
            8, "transparency log", Status.FAILED, "the manifest is not in the log at the stated position"
        )
    report.facts["log"] = {"origin": checkpoint.origin, "size": checkpoint.size, "index": proof["index"]}
    return Step(
        8,
        "transparency log",
        Status.PASSED,
        f"entry {proof['index']} of {checkpoint.size} in {checkpoint.origin}",
    )
