"""Sealing a finished session's evidence, and exporting it as a bundle anyone can verify offline.

Sealing (once a session has ended — signed, refused, failed, cancelled or expired: failures are evidence
too): a versioned manifest lists every artifact with its SHA-256 and SM3, the event chain's head, and the
RFC 6962 Merkle root over the event records and artifacts; the platform signs it; a TSA timestamps the
signature; the manifest joins the platform transparency log. Fail closed: if signing or timestamping
fails, a ``sealing_failed`` event says why, nothing is sealed, and a durable job retries sealing with
backoff (``application/outbox/jobs.py``); each failed attempt is another ``sealing_failed`` event.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from dualsign.application.artifacts import manifest_entries
from dualsign.application.event_store import iso_time, load_aggregate, persist, stored_record
from dualsign.application.evidence.ports import EvidenceKeys, ReportMaker, Timestamper
from dualsign.application.evidence.report import gather
from dualsign.application.evidence.retention import retention_end
from dualsign.application.outbox.jobs import Backoff, enqueue_analysis, enqueue_report, enqueue_sealing
from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.application.qc import post_hoc
from dualsign.application.records import Seal, StoredEvent
from dualsign.application.signer.recording import DEFAULT_GRACE, RecordingPending, close_for_sealing
from dualsign.application.signer.trace import TraceUnreadable, read_trace
from dualsign.domain import qc
from dualsign.domain.errors import DualSignError, FieldProblem, IllegalTransition, InvalidInput, NotFound
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import ENDED_STATES, EventKind
from dualsign_verify import merkle
from dualsign_verify.canonical import canonical_json
from dualsign_verify.manifest import ExportStatement, Manifest
from dualsign_verify.timestamp import token_certificate
from dualsign_verify.trust import LogKey, TrustPolicy, anchor_of
from dualsign_verify.verifier import artifact_leaf, event_leaf

LOG_ORIGIN = "dualsign.local/log"


class SealingFailed(DualSignError):
    code = "sealing_failed"
    http_status = 503
    title = "Sealing failed"


@dataclass(frozen=True)
class SealServices:
    blobs: BlobStore
    clock: Clock
    keys: EvidenceKeys
    tsa: Timestamper
    reports: ReportMaker | None = None  # renders report.pdf into the bundle
    public_url: str = ""
    recording_grace: dt.timedelta = (
        DEFAULT_GRACE  # how long sealing waits for the page to close the recording
    )
    post_hoc: bool = False  # the closed recording is re-checked (``post_hoc``) before QC and sealing


def _records(events: list[StoredEvent]) -> list[dict[str, Any]]:
    return [stored_record(e) for e in events]


@dataclass(frozen=True)
class Waiting:
    """Sealing waits, and nothing is wrong. With ``until``: the page may still upload the end of the
    recording, and the seal job runs then. Without: the recording is being re-checked, and the
    ``analyse_recording`` job queues the seal once it has recorded its result."""

    session_id: str
    reason: str
    until: dt.datetime | None = None


class SealingPending(DualSignError):
    """Asked to seal now a session whose sealing waits (``Waiting``)."""

    code = "sealing_pending"
    http_status = 409
    title = "Sealing waits"

    def __init__(self, waiting: Waiting, now: dt.datetime) -> None:
        super().__init__(f"session {waiting.session_id} is not sealed yet: {waiting.reason}")
        self.retry_after_s = (
            max(1, round((waiting.until - now).total_seconds())) if waiting.until is not None else None
        )

    def extra(self) -> dict[str, object]:
        return {"retry_after_s": self.retry_after_s} if self.retry_after_s is not None else {}


def _before_sealing(uow: UnitOfWork, svc: SealServices, session: SigningSession) -> list[Event] | Waiting:
    """The steps before the seal, in order: close a recording the page left open (once the grace period
        has passed), have the closed recording re-checked (``post_hoc``, when on), run the quality check (with
    the page's operation trace read back from its batches).

        ``Waiting`` when a step is not done, after committing what it takes: within the grace period the seal
        job is set for its end; a recording to re-check is handed to the ``analyse_recording`` job (with the
        event that closed it here, if any), which queues the seal when it has recorded its result.
    """
    now = svc.clock.now()
    try:
        events = close_for_sealing(session, now, svc.recording_grace, svc.blobs)
    except RecordingPending as pending:
        enqueue_sealing(uow, pending.until, session.id)
        uow.commit()
        return Waiting(session.id, "the page may still upload the end of the recording", pending.until)
    if svc.post_hoc and post_hoc.wanted(session):
        persist(uow, session, events)
        enqueue_analysis(uow, now, session.id)
        uow.commit()
        return Waiting(session.id, "the recording is being re-checked")
    if qc.evaluated_at(session) is None:
        try:  # the page's operation trace, read back for its rule (unreadable: a person looks)
            trace, trace_error = read_trace(session, svc.blobs), None
        except TraceUnreadable as exc:
            trace, trace_error = None, str(exc)
        result = qc.evaluate(session, trace=trace, trace_error=trace_error)
        events.append(session.record_qc(now, result.to_payload()))
    return events


def _fail(
    uow: UnitOfWork, session: SigningSession, now: dt.datetime, reason: str, exc: Exception
) -> NoReturn:
    """Record why sealing failed and queue its durable retry, in one transaction; then raise."""
    persist(uow, session, [session.record_sealing_failure(now, reason=reason)])
    enqueue_sealing(uow, now + Backoff().delay(1), session.id)
    uow.commit()
    raise SealingFailed(f"session {session.id} was not sealed: {reason}") from exc


def seal_session(uow: UnitOfWork, svc: SealServices, session_id: str) -> Seal | Waiting:
    """Seal an ended session once the steps before it are done (``_before_sealing``), or say what it
    waits for. The manifest lists every artifact's SM3 as recorded when it was stored."""
    with uow:
        existing = uow.seals.get(session_id)
        if existing is not None:
            return existing
        record, session = load_aggregate(uow, session_id)
        if session.current_state not in ENDED_STATES:
            raise IllegalTransition(session.current_state.value, EventKind.EVIDENCE_SEALED.value)
        before = _before_sealing(uow, svc, session)
        if isinstance(before, Waiting):
            return before
        if before:
            persist(uow, session, before)
        events = list(uow.events.list(session_id))
        records = _records(events)
        artifacts = manifest_entries(uow.artifacts.list(session_id), events, svc.blobs)
        leaves = [event_leaf(r) for r in records] + [artifact_leaf(a.to_json()) for a in artifacts]
        merkle_root = merkle.root(leaves).hex()
        now = svc.clock.now()
        manifest = Manifest(
            session_id=session_id,
            tenant_id=record.tenant_id,
            state=session.current_state.value,
            template_key=session.template.key,
            template_sha256=session.template.content_hash(),
            sealed_at=iso_time(now),
            chain_length=len(events),
            head_sha256=events[-1].sha256,
            head_sm3=events[-1].sm3,
            artifacts=tuple(artifacts),
            merkle_size=len(leaves),
            merkle_root=merkle_root,
            tsa_name=svc.tsa.name,
            tsa_mode=svc.tsa.mode,
            # rendered after sealing: every bundle must then carry it, bound by the export statement
            report="report.pdf" if svc.reports is not None else None,
        )
        manifest_bytes = manifest.to_bytes()
        try:
            signature = svc.keys.sign_manifest(manifest_bytes)
            token = svc.tsa.timestamp(signature)
        except Exception as exc:  # any failure of a key or the TSA is recorded, never worked around
            _fail(uow, session, now, f"{type(exc).__name__}: {exc}", exc)
        manifest_sha = hashlib.sha256(manifest_bytes).hexdigest()
        m_ref, s_ref, t_ref = svc.blobs.put(manifest_bytes), svc.blobs.put(signature), svc.blobs.put(token)
        try:  # sealed evidence stays undeletable for its retention period where the store enforces it
            until = retention_end(session, now)
            for digest in [a.sha256 for a in artifacts] + [m_ref.sha256, s_ref.sha256, t_ref.sha256]:
                svc.blobs.retain(digest, until)
        except Exception as exc:  # a store that cannot lock the evidence fails the seal, retried later
            _fail(uow, session, now, f"retention not set: {type(exc).__name__}: {exc}", exc)
        index = uow.log.append(manifest_sha, merkle.leaf_hash(bytes.fromhex(manifest_sha)).hex(), now)
        seal = Seal(
            session_id, manifest_sha, m_ref.sha256, s_ref.sha256, t_ref.sha256, len(events), index, now
        )
        uow.seals.add(seal)
        enqueue_report(uow, now, session_id)
        persist(
            uow,
            session,
            [
                session.seal(
                    now,
                    manifest_sha256=manifest_sha,
                    log_index=index,
                    merkle_root=merkle_root,
                    tsa_mode=svc.tsa.mode,
                )
            ],
        )
        uow.commit()
        return seal


README = """DualSign evidence bundle — session {session_id}

Check it with the DualSign verifier (pip install dualsign-verify) and the platform operator's
published trust file (never a file from this bundle):
    dualsign-verify {name} --trust trust.json

Or with standard tools:
  1. Every artifact:   cd artifacts && for f in *; do echo "$f  $f" ; done | sha256sum -c
  2. The signature:    openssl dgst -sha256 -verify <(openssl x509 -in certs/platform.pem -pubkey -noout) \\
                           -signature manifest.sig manifest.json
  3. The timestamp:    openssl ts -verify -data manifest.sig -in manifest.tsr -token_in \\
                           -CAfile ROOT.pem -untrusted certs/tsa.pem
                       (ROOT.pem: the platform's root as its operator publishes it)
  4. The event chain:  each line of events.jsonl is a canonical JSON record; its "prev" is the SHA-256
                       of the line before (64 zeros for the first); the last line's SHA-256 is
                       chain.head_sha256 in manifest.json.
Timestamp authority: {tsa} ({mode}). A self-attested timestamp is the platform's own statement.
"""


def ensure_report(
    uow: UnitOfWork, svc: SealServices, session_id: str, manifest: Mapping[str, Any] | None = None
) -> str | None:
    """Render and sign the evidence report of a sealed session once, and keep it with the seal.

    Every later bundle of the session carries the same bytes. Run by the ``render_report`` job after
    sealing, or by the first export if that comes sooner (which passes the ``manifest`` it has read).
    Returns the report's blob digest.
    """
    if svc.reports is None:
        return None
    with uow:
        seal = uow.seals.get(session_id)
        if seal is None or uow.sessions.get(session_id) is None:
            raise NotFound("sealed evidence of session", session_id)
        if seal.report_blob is not None:
            return seal.report_blob
        record, session = load_aggregate(uow, session_id)
        tenant = uow.tenants.get(record.tenant_id)
        data = gather(
            session,
            svc.blobs,
            record,
            seal,
            manifest if manifest is not None else json.loads(svc.blobs.get(seal.manifest_blob)),
            tenant.name if tenant else record.tenant_id,
            f"{svc.public_url}/verify/manifests/{seal.manifest_sha256}",
        )
        blob = svc.blobs.put(svc.reports.make(data)).sha256
        svc.blobs.retain(blob, retention_end(session, seal.sealed_at))
        uow.seals.set_report(session_id, blob)
        uow.commit()
        return blob


def export_bundle(uow: UnitOfWork, svc: SealServices, tenant_id: str, session_id: str, out: BinaryIO) -> None:
    """Write the evidence bundle (a zip) of a sealed session to ``out``, a seekable file opened for
    writing, one member at a time: memory holds the largest member, never the whole bundle."""
    with uow:
        record = uow.sessions.get(session_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound("session", session_id)
        seal = uow.seals.get(session_id)
        if seal is None:
            raise NotFound("sealed evidence of session", session_id)
        events = list(uow.events.list(session_id))[: seal.chain_length]
        artifacts = list(uow.artifacts.list(session_id))
        leaves = [bytes.fromhex(h) for h in uow.log.leaves()]
    manifest = svc.blobs.get(seal.manifest_blob)
    parsed = json.loads(manifest)
    report_blob = ensure_report(uow, svc, session_id, parsed)
    report = svc.blobs.get(report_blob) if report_blob else None
    size = len(leaves)
    proof = merkle.inclusion_proof(leaves, seal.log_index)
    checkpoint = svc.keys.sign_checkpoint(LOG_ORIGIN, size, merkle.root(leaves))
    token = svc.blobs.get(seal.timestamp_blob)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", manifest)
        z.writestr("manifest.sig", svc.blobs.get(seal.signature_blob))
        z.writestr("manifest.tsr", token)
        z.writestr("events.jsonl", b"".join(canonical_json(r) + b"\n" for r in _records(events)))
        for a in {a.sha256: a for a in artifacts}.values():
            # media is compressed already: stored as is, the bundle verifies at hashing speed
            z.writestr(f"artifacts/{a.sha256}", svc.blobs.get(a.sha256), compress_type=zipfile.ZIP_STORED)
        certs = dict(svc.keys.certificates())
        carried = token_certificate(token)
        if carried is not None:  # the certificate of the TSA that actually signed the token
            certs["tsa"] = carried.public_bytes(serialization.Encoding.PEM)
        if svc.tsa.root_pem is not None:
            certs["tsa-root"] = svc.tsa.root_pem
        for name, pem in certs.items():
            z.writestr(f"certs/{name}.pem", pem)
        z.writestr("log/checkpoint.txt", checkpoint)
        z.writestr(
            "log/inclusion.json",
            json.dumps({"index": seal.log_index, "size": size, "proof": [p.hex() for p in proof]}),
        )
        z.writestr("log/key.json", svc.keys.log_key_json())
        readme = README.format(
            session_id=session_id,
            name=f"{session_id}.zip",
            tsa=parsed["tsa"]["name"],
            mode=parsed["tsa"]["mode"],
        ).encode()
        members = {"README.txt": readme} | ({"report.pdf": report} if report is not None else {})
        for name, data in members.items():
            z.writestr(name, data)
        statement = export_statement(manifest, members)
        z.writestr("export.json", statement)
        z.writestr("export.sig", svc.keys.sign_manifest(statement))


def export_statement(manifest: bytes, members: dict[str, bytes]) -> bytes:
    """What binds the members made after sealing (the report, the README) to the sealed manifest: their
    digests and the manifest's, signed by the platform key beside the bundle (export.json, export.sig)."""
    return ExportStatement.of(manifest, members).to_bytes()


def platform_trust(keys: EvidenceKeys, tsa: Timestamper) -> TrustPolicy:
    """This platform's trust policy, as its operator publishes it (``dualsign keys export-trust``) and
    as the online verification uses it: the platform root, the external TSA's root, the log's key."""
    root = x509.load_pem_x509_certificate(keys.certificates()["root"])
    tsa_roots = (anchor_of(x509.load_pem_x509_certificate(tsa.root_pem)),) if tsa.root_pem else ()
    log = json.loads(keys.log_key_json())
    return TrustPolicy(
        platform_roots=(anchor_of(root),),
        tsa_roots=tsa_roots,
        logs=(LogKey(LOG_ORIGIN, str(log["name"]), base64.b64decode(log["public_key"])),),
    )


def lookup_manifest(uow: UnitOfWork, manifest_sha256: str) -> dict[str, Any]:
    """Public facts about a sealed manifest (no personal data): when, which state, where in the log."""
    with uow:
        leaves = list(uow.log.leaves())
        leaf = merkle.leaf_hash(bytes.fromhex(manifest_sha256)).hex() if _hex64(manifest_sha256) else None
        if leaf is None or leaf not in leaves:
            raise NotFound("sealed manifest", manifest_sha256)
        index = leaves.index(leaf)
    return {
        "manifest_sha256": manifest_sha256,
        "log_index": index,
        "log_size": len(leaves),
        "log_origin": LOG_ORIGIN,
        "found": True,
    }


def _hex64(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def current_checkpoint(uow: UnitOfWork, svc: SealServices) -> str:
    """The transparency log's signed checkpoint now (C2SP signed note), for witnesses to keep."""
    with uow:
        leaves = [bytes.fromhex(h) for h in uow.log.leaves()]
    return svc.keys.sign_checkpoint(LOG_ORIGIN, len(leaves), merkle.root(leaves))


def consistency(uow: UnitOfWork, old_size: int, new_size: int) -> dict[str, Any]:
    """RFC 6962 proof that the log of ``old_size`` entries is a prefix of the log of ``new_size``."""
    with uow:
        leaves = [bytes.fromhex(h) for h in uow.log.leaves()]
    if not 0 < old_size <= new_size <= len(leaves):
        raise InvalidInput([FieldProblem("old,new", f"need 0 < old ≤ new ≤ {len(leaves)} (the log's size)")])
    tree = leaves[:new_size]
    return {
        "old_size": old_size,
        "new_size": new_size,
        "old_root": merkle.root(tree[:old_size]).hex(),
        "new_root": merkle.root(tree).hex(),
        "proof": [p.hex() for p in merkle.consistency_proof(tree, old_size)],
    }
