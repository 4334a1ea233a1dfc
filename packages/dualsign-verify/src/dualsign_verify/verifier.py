"""Offline verification of an evidence bundle, in numbered steps, against a trust policy.

1. Structure: the archive, its required files, the manifest's kind and version; no unexpected member.
2. Artifacts: every listed artifact is present with its size and SHA-256 (and SM3 when asked); nothing
   unlisted.
3. Event chain: each line of events.jsonl is a record's canonical JSON, hashed as stored; records in
   sequence, each linked to the one before, head as sealed.
4. Artifacts in the chain: every artifact entered the chain when it arrived, and only those.
5. Merkle root: recomputed over the event records and artifacts (RFC 6962).
6. Platform signature: over manifest.json, by the platform certificate, issued by a pinned root.
7. Timestamp: RFC 3161 token over the signature, by a TSA certificate issued by a pinned root (the
   platform's, then labelled self-attested, or an external TSA root of the policy).
8. Transparency log: the manifest's inclusion proof against a checkpoint signed by the pinned log key.
9. PDF signatures: report.pdf and README.txt bound by the signed export statement (export.json) to
   this manifest; the report (and signed documents) carry intact, valid PAdES signatures.

Trust anchors come from the ``TrustPolicy`` only (``trust.py``), never from the bundle. Without a policy
every check still runs with what the bundle carries, but steps 6–9 are at best INDETERMINATE and say
which fingerprint they would have needed to trust.

Each step PASSED, FAILED or INDETERMINATE with a reason; the bundle's verdict is FAILED if any step
failed, INDETERMINATE if any could not be decided, else PASSED.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from dualsign_verify import merkle
from dualsign_verify.bundle import MAX_PDF, Bundle, MalformedBundle, strict_json
from dualsign_verify.canonical import canonical_json
from dualsign_verify.checkpoint import CheckpointError, parse_and_verify, verifier_key
from dualsign_verify.manifest import ExportStatement, ManifestError
from dualsign_verify.records import GENESIS, digests, sm3_hex
from dualsign_verify.report import Report as Report
from dualsign_verify.report import Status as Status
from dualsign_verify.report import Step as Step
from dualsign_verify.timestamp import TimestampError, token_certificate, verify_token
from dualsign_verify.trust import TrustPolicy, anchored, fingerprint

_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="digests")
_STEPS = ThreadPoolExecutor(max_workers=1, thread_name_prefix="artifacts-step")


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


def verify(bundle: Bundle, trust: TrustPolicy | None = None, *, sm3: bool = False) -> Report:
    """Check ``bundle`` against ``trust``: without a policy nothing is anchored and the verdict is at
    best INDETERMINATE (the steps that need an anchor say what they would have trusted).

    Every artifact is checked against its SHA-256, the digest the chain, the Merkle tree and the
    signature are built on. ``sm3`` also checks each artifact's SM3 (GM/T 0004) listed beside it, for
    a relying party that must use the national algorithm; SM3 runs at about a third of SHA-256's speed,
    so it is asked for, and the step says whether it was done."""
    r = Report()
    m = bundle.manifest
    if bundle.unexpected:
        listed = ", ".join(bundle.unexpected)
        r.steps.append(Step(1, "structure", Status.FAILED, f"unexpected members: {listed}"[:300]))
    else:
        r.steps.append(
            Step(1, "structure", Status.PASSED, f"manifest v{m['version']} of session {m.get('session_id')}")
        )
    # the artifact digests (hashlib, outside the GIL) run while this thread checks everything else
    hashing = _STEPS.submit(_guarded, 2, "artifacts", _artifacts, bundle, sm3)
    try:
        step = _chain(bundle)
    except MalformedBundle:
        raise
    except Exception as exc:  # a corrupt record no check foresaw: the step fails, the verifier does not
        step = _broken(3, "event chain", exc)
    records = list(bundle.records)
    later = [
        step,
        _guarded(4, "artifacts in the chain", _artifacts_in_chain, bundle, records),
        _guarded(5, "Merkle root", _merkle, bundle),
    ]
    try:
        root = _root(bundle, trust)
    except Exception as exc:  # a certificate too corrupt to read: no usable root
        root = _Root(None, False, f"the root cannot be read: {type(exc).__name__}")
    later.append(_guarded(6, "platform signature", _signature, bundle, root))
    later.append(_guarded(7, "timestamp", _timestamp, bundle, root, trust, r))
    later.append(_guarded(8, "transparency log", _log, bundle, trust, r))
    later.append(_guarded(9, "PDF signatures", _pdfs, bundle, root, trust))
    r.steps += [hashing.result(), *later]
    r.facts.update(
        session_id=m.get("session_id"),
        state=m.get("state"),
        sealed_at=m.get("sealed_at"),
        tsa_mode=m.get("tsa", {}).get("mode"),
        trust=root.note,
        trust_policy=trust is not None,
    )
    r.facts["fingerprints"] = _fingerprints(bundle)
    return r


def _fingerprints(bundle: Bundle) -> dict[str, str]:
    """What the bundle carries, to compare with the operator's published trust file (never trusted)."""
    out: dict[str, str] = {}
    for label, name in (("platform_root", "certs/root.pem"), ("tsa_root", "certs/tsa-root.pem")):
        try:
            out[label] = "sha256:" + fingerprint(_cert(bundle, name))
        except (_Missing, ValueError):
            continue
    try:
        key = json.loads(bundle.files["log/key.json"])
        note = bundle.files["log/checkpoint.txt"].decode("utf-8")
        out["log"] = (
            f"{note.split(chr(10), 1)[0]} {verifier_key(key['name'], base64.b64decode(key['public_key']))}"
        )
    except (KeyError, ValueError, TypeError, UnicodeDecodeError):
        pass
    return out


@dataclass(frozen=True)
class _Root:
    cert: x509.Certificate | None  # the platform root the checks use
    anchored: bool  # pinned by the trust policy (else: the bundle's own, for information)
    note: str


def _root(bundle: Bundle, trust: TrustPolicy | None) -> _Root:
    try:
        embedded: x509.Certificate | None = _cert(bundle, "certs/root.pem")
    except _Missing as exc:
        embedded, missing = None, str(exc)
    if trust is None:
        if embedded is None:
            return _Root(None, False, missing)
        return _Root(
            embedded,
            False,
            f"the bundle's own root sha256:{fingerprint(embedded)}, anchored by no trust policy",
        )
    candidates = anchored(trust.platform_roots, [embedded] if embedded is not None else [])
    try:
        platform: x509.Certificate | None = _cert(bundle, "certs/platform.pem")
    except _Missing:
        platform = None
    for cert in candidates:
        if platform is not None and platform.issuer == cert.subject:
            return _Root(cert, True, f"root sha256:{fingerprint(cert)}, pinned by the trust policy")
    if candidates and platform is None:
        return _Root(
            candidates[0], True, f"root sha256:{fingerprint(candidates[0])}, pinned by the trust policy"
        )
    carried = f"sha256:{fingerprint(embedded)}" if embedded is not None else "none"
    return _Root(
        None, False, f"no platform root of the trust policy issued this bundle (its root: {carried})"
    )


def _broken(number: int, name: str, exc: Exception) -> Step:
    return Step(number, name, Status.FAILED, f"cannot be checked: {type(exc).__name__}: {str(exc)[:200]}")


def _guarded(number: int, name: str, check: Callable[..., Step], *args: Any) -> Step:
    """Run one step; content too corrupt for its parsers fails the step instead of the verifier."""
    try:
        return check(*args)
    except MalformedBundle:
        raise
    except Exception as exc:
        return _broken(number, name, exc)


def _sha256_hex(data: bytes | memoryview) -> str | None:
    return hashlib.sha256(data).hexdigest()


def _streamed_digests(bundle: Bundle, name: str, with_sm3: bool) -> tuple[str, str | None]:
    """SHA-256 (and SM3 when asked) of a compressed member in one bounded pass (never held whole)."""
    sha = hashlib.sha256()
    sm3: Any = None
    if with_sm3:
        try:
            sm3 = hashlib.new("sm3")
        except ValueError:
            sm3 = None
    for chunk in bundle.chunks(name):
        sha.update(chunk)
        if sm3 is not None:
            sm3.update(chunk)
    return sha.hexdigest(), (sm3.hexdigest() if sm3 is not None else None)


def _artifacts(bundle: Bundle, with_sm3: bool = False) -> Step:
    listed = bundle.manifest.get("artifacts", [])
    names = [f"artifacts/{a['sha256']}" for a in listed]
    for a, name in zip(listed, names, strict=True):
        if name not in bundle.names:
            return Step(2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… is missing")
        if bundle.size(name) != a["size"]:  # decided before a byte is read or inflated
            return Step(
                2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… does not match its size"
            )
    extra = [n for n in bundle.names if n.startswith("artifacts/") and n not in set(names)]
    if extra:
        return Step(2, "artifacts", Status.FAILED, f"unlisted files: {', '.join(sorted(extra))[:200]}")
    views = {n: v for n in set(names) if (v := bundle.data(n)) is not None}
    # every digest is its own task on two threads (hashlib releases the GIL). The longest go first
    # (SM3 is ~3x slower than SHA-256 here, then larger before smaller), so the last task to finish
    # is a short one and both cores stay busy until the end. Compressed members are one streamed task.
    by_cost = sorted(views, key=lambda n: len(views[n]), reverse=True)
    streamed = {n: _POOL.submit(_streamed_digests, bundle, n, with_sm3) for n in set(names) if n not in views}
    jobs = {(n, "sm3"): _POOL.submit(sm3_hex, views[n]) for n in by_cost} if with_sm3 else {}
    jobs |= {(n, "sha256"): _POOL.submit(_sha256_hex, views[n]) for n in by_cost}
    digests = {
        n: (jobs[(n, "sha256")].result(), jobs[(n, "sm3")].result() if with_sm3 else None) for n in views
    }
    digests |= {n: f.result() for n, f in streamed.items()}
    sm3_checked = 0
    for a, name in zip(listed, names, strict=True):
        sha, sm3 = digests[name]
        if sha != a["sha256"]:
            return Step(
                2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… does not match its digest"
            )
        if a.get("sm3") and sm3 is not None:
            if sm3 != a["sm3"]:
                return Step(
                    2, "artifacts", Status.FAILED, f"{a['role']} {a['sha256'][:16]}… does not match its SM3"
                )
            sm3_checked += 1
    return Step(2, "artifacts", Status.PASSED, _artifacts_matched(len(listed), sm3_checked, with_sm3))


def _artifacts_matched(listed: int, sm3_checked: int, with_sm3: bool) -> str:
    """What step 2 established: SM3 is claimed only for the artifacts whose SM3 was compared."""
    matched = f"{listed} artifacts match their SHA-256"
    if not with_sm3:
        return f"{matched} (SM3 not checked: --sm3 checks it)"
    if sm3_checked == listed:
        return f"{matched} and SM3"
    if sm3_hex(b"") is None:
        return f"{matched} (SM3 not checked: this platform's OpenSSL has no SM3)"
    unlisted = listed - sm3_checked
    return f"{matched} (SM3 checked for {sm3_checked}; the manifest lists none for the other {unlisted})"


def _chain(bundle: Bundle) -> Step:
    """Each record is authenticated by its line as stored: the line must be the record's canonical JSON
    (so no duplicate or reordered key, no spacing can make a reader see something else), and its digests
    are taken over those bytes."""
    name = "event chain"
    prev = GENESIS
    head = None
    for i, (line, rec) in enumerate(zip(bundle.lines, bundle.records, strict=True), 1):
        if rec.get("seq") != i:
            return Step(3, name, Status.FAILED, f"record {i} is out of sequence")
        if rec.get("prev") != prev:
            return Step(3, name, Status.FAILED, f"record {i} does not link to record {i - 1}")
        try:
            canonical = canonical_json(rec)
        except (TypeError, ValueError) as exc:
            return Step(3, name, Status.FAILED, f"record {i} cannot be hashed: {exc}")
        if canonical != line:
            return Step(3, name, Status.FAILED, f"record {i} is not stored as its canonical JSON")
        head = digests(line)
        prev = head.sha256
    chain = bundle.manifest.get("chain", {})
    if head is None or chain.get("length") != len(bundle.lines) or chain.get("head_sha256") != head.sha256:
        return Step(3, name, Status.FAILED, "the chain's head is not the one sealed")
    if chain.get("head_sm3") and head.sm3 and chain["head_sm3"] != head.sm3:
        return Step(3, name, Status.FAILED, "the chain's SM3 head is not the one sealed")
    return Step(3, name, Status.PASSED, f"{len(bundle.lines)} records linked, head {head.sha256[:16]}…")


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


def _merkle(bundle: Bundle) -> Step:
    leaves = [merkle.leaf_hash(b"E" + line) for line in bundle.lines] + [
        artifact_leaf(a) for a in bundle.manifest.get("artifacts", [])
    ]
    root = merkle.root(leaves).hex()
    if bundle.manifest.get("merkle", {}).get("root") != root:
        return Step(
            5, "merkle root", Status.FAILED, "the Merkle root does not match the records and artifacts"
        )
    return Step(5, "merkle root", Status.PASSED, f"root {root[:16]}… over {len(leaves)} leaves")


def _platform_key(
    bundle: Bundle, root: x509.Certificate
) -> tuple[x509.Certificate, ec.EllipticCurvePublicKey]:
    platform = _cert(bundle, "certs/platform.pem")
    platform.verify_directly_issued_by(root)
    key = platform.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _Missing("the platform key is not ECDSA")
    return platform, key


def _signature(bundle: Bundle, root: _Root) -> Step:
    name = "platform signature"
    if root.cert is None:
        return Step(6, name, Status.FAILED, f"no usable root: {root.note}")
    signature = bundle.get("manifest.sig")
    if signature is None:
        return Step(6, name, Status.FAILED, "manifest.sig is missing")
    try:
        platform, key = _platform_key(bundle, root.cert)
        key.verify(signature, bundle.files["manifest.json"], ec.ECDSA(hashes.SHA256()))
    except _Missing as exc:
        return Step(6, name, Status.FAILED, str(exc))
    except (InvalidSignature, ValueError, TypeError):
        return Step(6, name, Status.FAILED, "the platform signature over the manifest does not verify")
    said = f"signed by {platform.subject.rfc4514_string()}; {root.note}"
    return Step(6, name, Status.PASSED if root.anchored else Status.INDETERMINATE, said)


def _tsa_issuers(
    bundle: Bundle, root: _Root, trust: TrustPolicy | None
) -> list[tuple[x509.Certificate, bool, bool]]:
    """Roots that may have issued the TSA certificate: (certificate, anchored, the platform's own).
    certs/tsa-root.pem counts only where the policy pins its fingerprint."""
    out = [(root.cert, root.anchored, True)] if root.cert is not None else []
    try:
        carried = [_cert(bundle, "certs/tsa-root.pem")] if "certs/tsa-root.pem" in bundle.files else []
    except _Missing:
        carried = []
    if trust is None or "tsa" not in trust.covers:  # nothing said of TSAs: the bundle's, for information
        return out + [(c, False, False) for c in carried]
    return out + [(c, True, False) for c in anchored(trust.tsa_roots, carried)]


def _timestamp(bundle: Bundle, root: _Root, trust: TrustPolicy | None, report: Report) -> Step:
    name = "timestamp"
    token, signature = bundle.get("manifest.tsr"), bundle.get("manifest.sig")
    if token is None or signature is None:
        return Step(7, name, Status.FAILED, "the timestamp token (or the signature it covers) is missing")
    try:
        tsa_cert = token_certificate(token) or _cert(bundle, "certs/tsa.pem")
        if "certs/tsa.pem" in bundle.files and _cert(bundle, "certs/tsa.pem") != tsa_cert:
            return Step(7, name, Status.FAILED, "certs/tsa.pem is not the certificate the token carries")
    except _Missing as exc:
        return Step(7, name, Status.FAILED, str(exc))
    issuers = _tsa_issuers(bundle, root, trust)
    issuer = next((i for i in issuers if _issued_by(tsa_cert, i[0])), None)
    if issuer is None:
        carried = _fingerprints(bundle).get("tsa_root")
        extra = f"; certs/tsa-root.pem ({carried}) is not pinned by the trust policy" if carried else ""
        return Step(7, name, Status.FAILED, f"the TSA certificate is issued by no anchored root{extra}"[:300])
    cert, is_anchored, own = issuer
    try:
        info = verify_token(token, signature, tsa_cert, cert)
    except TimestampError as exc:
        return Step(7, name, Status.FAILED, str(exc))
    report.facts["timestamp"] = info.time.isoformat()
    said = f"{info.time.isoformat()} by {info.tsa}"
    if own:  # labelled once, from the chain rather than from what the manifest claims
        said += (
            " (the platform's own TSA)"
            if "self-attested" in info.tsa
            else " (self-attested: the platform's own TSA)"
        )
    if not is_anchored:
        return Step(
            7,
            name,
            Status.INDETERMINATE,
            f"{said}; its root sha256:{fingerprint(cert)} is anchored by no trust policy",
        )
    return Step(7, name, Status.PASSED, said)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _export_statement(bundle: Bundle, root: x509.Certificate) -> tuple[str | None, str | None]:
    """(problem, note): report.pdf and README.txt must be covered by export.json, signed by the platform
    key and naming this manifest; the report the manifest announces must be there."""
    announced = bundle.manifest.get("report")
    raw, signature = bundle.get("export.json"), bundle.get("export.sig")
    loose = [n for n in ("report.pdf", "README.txt") if n in bundle.names]
    if raw is None or signature is None:
        if announced is not None or "export.json" in bundle.names or "export.sig" in bundle.names:
            return "the export statement (export.json, export.sig) is missing", None
        if "report.pdf" in loose:  # bundles sealed before export statements
            return None, "report.pdf is not bound to this manifest (no export statement in this bundle)"
        return None, None
    try:
        _, key = _platform_key(bundle, root)
        key.verify(signature, raw, ec.ECDSA(hashes.SHA256()))
    except (_Missing, InvalidSignature, ValueError, TypeError):
        return "the export statement's signature does not verify under the platform key", None
    try:
        statement = ExportStatement.parse(strict_json(raw))
    except (ManifestError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        return f"export.json is not a DualSign export statement ({exc})"[:300], None
    members = statement.members
    if statement.manifest_sha256 != hashlib.sha256(bundle.files["manifest.json"]).hexdigest():
        return "the export statement belongs to another manifest", None
    for name in loose:
        if name not in members:
            return f"{name} is not covered by the export statement", None
    for member, entry in members.items():
        data = bundle.get(member) if member in ("report.pdf", "README.txt") else None
        if data is None:
            return f"{member} is named by the export statement but missing", None
        if entry.sha256 != hashlib.sha256(data).hexdigest() or entry.size != len(data):
            return f"{member} is not the one the export statement names (digest differs)", None
    if announced is not None and announced not in members:
        return f"the manifest announces {announced} but the bundle does not carry it", None
    return None, None


def _pdfs(bundle: Bundle, root: _Root, trust: TrustPolicy | None) -> Step:
    from dualsign_verify.pdf import check_pdf

    name = "PDF signatures"
    if root.cert is None:
        return Step(9, name, Status.FAILED, f"no usable root: {root.note}")
    problem, note = _export_statement(bundle, root.cert)
    if problem:
        return Step(9, name, Status.FAILED, problem)
    signed = {
        f"artifacts/{a['sha256']}": a
        for a in bundle.manifest.get("artifacts", [])
        if a.get("role") == "signed_document"
    }
    pdfs = {
        n: bundle.read(n, MAX_PDF) or b"" for n in sorted(bundle.names) if n == "report.pdf" or n in signed
    }
    if not pdfs:
        return Step(9, name, Status.INDETERMINATE, "no signed PDF in the bundle")
    # timestamps may chain to an external TSA's root as the policy pins it (never the signers); one the
    # bundle carries unpinned is tried last, and what passes only with it is not anchored
    external = [(c, pinned) for c, pinned, own in _tsa_issuers(bundle, root, trust) if not own]
    pinned_roots = tuple(c for c, pinned in external if pinned)
    checks = [
        check_pdf(signed[n]["name"] if n in signed else n, d, root.cert, pinned_roots)
        for n, d in pdfs.items()
    ]
    bad = [c for c in checks if not c.ok]
    if bad and len(pinned_roots) < len(external):
        checks = [
            check_pdf(signed[n]["name"] if n in signed else n, d, root.cert, tuple(c for c, _ in external))
            for n, d in pdfs.items()
        ]
        bad = [c for c in checks if not c.ok]
        note = "; ".join(
            filter(None, [note, "timestamps chain only to certs/tsa-root.pem, pinned by no policy"])
        )
    if bad:
        return Step(9, name, Status.FAILED, f"{bad[0].name}: {bad[0].reason}")
    try:
        problem = _bindings([pdfs[n] for n in signed if n in pdfs], bundle)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problem = f"a document_signed record is malformed: {exc!r}"
    if problem:
        return Step(9, name, Status.FAILED, problem)
    said = "; ".join(f"{c.name}: {c.reason}" for c in checks)
    if not root.anchored:
        return Step(9, name, Status.INDETERMINATE, f"{said}; under {root.note}")
    if note:
        return Step(9, name, Status.INDETERMINATE, f"{said}; {note}")
    return Step(9, name, Status.PASSED, said)


def _bindings(documents: list[bytes], bundle: Bundle) -> str | None:
    """Every ``document_signed`` record must match a revision of a signed document in the bundle, and
    that signature's ``/Reason`` must name the chain head the record says, an earlier record's digest."""
    from dualsign_verify.pdf import signature_reasons

    earlier: set[str] = set()
    reasons = [signature_reasons(d) for d in documents]
    prev = GENESIS
    for line, r in zip(bundle.lines, bundle.records, strict=True):
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
        prev = hashlib.sha256(line).hexdigest()
    return None


def _log(bundle: Bundle, trust: TrustPolicy | None, report: Report) -> Step:
    name = "transparency log"
    note, proof_raw = bundle.get("log/checkpoint.txt"), bundle.get("log/inclusion.json")
    if note is None or proof_raw is None:
        return Step(8, name, Status.FAILED, "the inclusion proof or checkpoint is missing")
    try:
        text = note.decode("utf-8")
        origin = text.split("\n", 1)[0]
        if trust is not None and "log" in trust.covers:
            pinned = trust.log_key(origin)
            if pinned is None:
                known = ", ".join(k.origin for k in trust.logs) or "none"
                return Step(
                    8, name, Status.FAILED, f"the log {origin!r} is not one the trust policy pins ({known})"
                )
            key_name, public = pinned.name, pinned.public_key
        else:  # no policy, or one that pins no log: the bundle's key, for information only
            key_raw = bundle.get("log/key.json")
            if key_raw is None:
                return Step(
                    8, name, Status.FAILED, "log/key.json is missing and no trust policy pins a log key"
                )
            key = json.loads(key_raw)
            key_name, public = key["name"], base64.b64decode(key["public_key"])
        checkpoint = parse_and_verify(text, key_name, public)
        proof = json.loads(proof_raw)
        leaf = merkle.leaf_hash(hashlib.sha256(bundle.files["manifest.json"]).digest())
        path = [bytes.fromhex(p) for p in proof["proof"]]
        ok = proof["size"] == checkpoint.size and merkle.verify_inclusion(
            leaf, int(proof["index"]), int(proof["size"]), path, checkpoint.root
        )
    except (CheckpointError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        return Step(8, name, Status.FAILED, f"log proof unusable: {exc}")
    if not ok:
        return Step(8, name, Status.FAILED, "the manifest is not in the log at the stated position")
    report.facts["log"] = {"origin": checkpoint.origin, "size": checkpoint.size, "index": proof["index"]}
    said = f"entry {proof['index']} of {checkpoint.size} in {checkpoint.origin}"
    if trust is None or "log" not in trust.covers:
        return Step(
            8,
            name,
            Status.INDETERMINATE,
            f"{said}; the log key {verifier_key(key_name, public)} comes from the bundle, "
            "anchored by no trust policy",
        )
    return Step(8, name, Status.PASSED, f"{said}, key pinned by the trust policy")
