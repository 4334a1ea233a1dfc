"""What the evidence report says, gathered from a sealed session (rendering is an adapter's job)."""

from __future__ import annotations

from typing import Any

from dualsign.application.event_store import iso_time, load_aggregate
from dualsign.application.evidence.ports import ReportData
from dualsign.application.ports import BlobStore, UnitOfWork
from dualsign.application.records import Seal, SessionRecord
from dualsign.domain.states import EventKind


def gather(
    uow: UnitOfWork,
    blobs: BlobStore,
    record: SessionRecord,
    seal: Seal,
    manifest: dict[str, Any],
    tenant_name: str,
    timestamp_time: str,
    verify_url: str,
) -> ReportData:
    """Everything the report shows, from the session's stored events (inside an open unit of work)."""
    _, session = load_aggregate(uow, record.id)
    events = session.events[: seal.chain_length]
    t = session.template
    questions: dict[str, dict[str, Any]] = {
        q.id: {"id": q.id, "prompt": session.prompt_text(q), "clause": q.clause, "audio": [], "attempts": []}
        for q in t.questions
    }
    labels = {v.name: v.label for v in t.variables}
    variables: list[tuple[str, str, str]] = []
    consent, identity, liveness, warnings, timeline = [], "—", "—", [], []
    snapshot_digest = None
    qc: dict[str, Any] = {}
    for e in events:
        p = e.payload
        timeline.append((iso_time(e.at), e.kind.value, str(p.get("question_id", p.get("reason", "")) or "")))
        if e.kind is EventKind.SESSION_CREATED:
            for name, v in dict(p.get("variables") or {}).items():
                label = f"{name} — {labels[name]}" if labels.get(name) else str(name)
                variables.append((label, str(v.get("value", "")), str(v.get("spoken", ""))))
        elif e.kind is EventKind.CONSENT_GIVEN:
            consent += [str(p.get("recording", "")), str(p.get("biometric", ""))]
        elif e.kind is EventKind.CONSENT_REFUSED:
            consent.append(f"refused: {p.get('reason', '')}")
        elif e.kind in (
            EventKind.IDENTITY_VERIFIED,
            EventKind.IDENTITY_ATTEMPT_FAILED,
            EventKind.IDENTITY_FAILED,
            EventKind.IDENTITY_WAIVED,
        ):
            identity = f"{e.kind.value}: {p.get('reason', '')} {p.get('distances', '')}".strip()
            snapshot_digest = p.get("snapshot_sha256") or snapshot_digest
        elif e.kind.value.startswith("liveness_") and e.kind is not EventKind.LIVENESS_CHALLENGE_ISSUED:
            steps = ", ".join(f"{s['action']} {'✓' if s['passed'] else '✗'}" for s in p.get("steps", []))
            liveness = f"{e.kind.value}: {steps or p.get('reason', '')}"
        elif e.kind is EventKind.QUESTION_ASKED and str(p.get("question_id")) in questions:
            heard = questions[str(p["question_id"])]["audio"]  # the digests of the audio played
            heard += [
                str(a["sha256"]) for a in p.get("audio", []) if a.get("sha256") and a["sha256"] not in heard
            ]
        elif e.kind is EventKind.ANSWER_JUDGED and str(p.get("question_id")) in questions:
            questions[str(p["question_id"])]["attempts"].append(
                {
                    "attempt": p.get("attempt"),
                    "transcript": p.get("transcript"),
                    "verdict": p.get("verdict"),
                    "input": p.get("input"),
                }
            )
        elif e.kind is EventKind.QC_EVALUATED:
            qc = dict(p)
        elif e.kind is EventKind.MONITORING_WARNING:
            warnings.append(f"{iso_time(e.at)} {p.get('warning')} (after {p.get('after_s')} s)")
    reasks = sum(max(0, len(q["attempts"]) - 1) for q in questions.values())
    snapshot = (
        blobs.get(str(snapshot_digest)) if snapshot_digest and blobs.exists(str(snapshot_digest)) else None
    )
    return ReportData(
        language=t.language.family,
        session_id=record.id,
        tenant=tenant_name,
        signer_name=record.signer_name,
        signer_id_masked=record.signer_id_masked,
        scenario=f"{t.title} ({t.scenario.value})",
        template=f"{t.key} sha256:{t.content_hash()}",
        state=str(manifest["state"]),
        created_at=iso_time(record.created_at),
        sealed_at=str(manifest["sealed_at"]),
        manifest_sha256=seal.manifest_sha256,
        merkle_root=str(manifest["merkle"]["root"]),
        tsa=str(manifest["tsa"]["name"]),
        tsa_mode=str(manifest["tsa"]["mode"]),
        timestamp_time=timestamp_time,
        log_index=seal.log_index,
        verify_url=verify_url,
        consent=consent,
        identity=identity,
        liveness=liveness,
        questions=[q for q in questions.values() if q["attempts"]],
        warnings=warnings,
        timeline=timeline,
        artifacts=list(manifest["artifacts"]),
        face_snapshot=snapshot,
        reasks=reasks,
        qc=qc,
        variables=variables,
    )
