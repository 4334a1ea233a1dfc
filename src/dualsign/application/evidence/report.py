"""What the evidence report says, gathered from a sealed session (rendering is an adapter's job)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dualsign.application.evidence.ports import ReportData
from dualsign.application.ports import BlobStore
from dualsign.application.records import Seal, SessionRecord
from dualsign.application.signer.trace import TraceUnreadable, read_trace
from dualsign.domain.session import SigningSession
from dualsign.domain.states import EventKind


def _identity(kind: EventKind, p: Any) -> dict[str, Any]:
    distances = [float(d) for d in p.get("distances") or []]
    return {
        "kind": kind.value,
        "code": p.get("code"),
        "reason": p.get("reason"),
        "distance": max(distances) if distances else None,
        "threshold": p.get("threshold"),
        "frames": len(distances),
    }


def gather(
    session: SigningSession,
    blobs: BlobStore,
    record: SessionRecord,
    seal: Seal,
    manifest: Mapping[str, Any],
    tenant_name: str,
    verify_url: str,
) -> ReportData:
    """Everything the report shows, from the sealed session's events up to the seal."""
    events = session.events[: seal.chain_length]
    t = session.template
    questions: dict[str, dict[str, Any]] = {
        q.id: {"id": q.id, "prompt": session.prompt_text(q), "clause": q.clause, "audio": [], "attempts": []}
        for q in t.questions
    }
    labels = {v.name: v.label for v in t.variables}
    variables: list[tuple[str, str, str]] = []
    consent: list[str] = []
    refused: str | None = None
    identity: dict[str, Any] | None = None
    liveness: dict[str, Any] | None = None
    warnings: list[tuple[datetime, str, float | None]] = []
    timeline: list[tuple[datetime, str, str]] = []
    time_zone = "Asia/Shanghai"
    organisation: dict[str, Any] | None = None
    digests: dict[str, str] = {}  # role: the digest the report shows (identity photo, snapshot, frame)
    qc: dict[str, Any] = {}
    agent: dict[str, Any] | None = None
    on_camera: dict[str, float] = {}
    for e in events:
        p = e.payload
        timeline.append((e.at, e.kind.value, str(p.get("question_id", p.get("reason", "")) or "")))
        if e.kind is EventKind.SESSION_CREATED:
            time_zone = str(p.get("time_zone") or time_zone)
            organisation = dict(p["organisation"]) if p.get("organisation") else None
            if organisation is not None:
                digests["organisation_seal"] = str(organisation["seal_sha256"])
            for name, v in dict(p.get("variables") or {}).items():
                label = f"{name} — {labels[name]}" if labels.get(name) else str(name)
                variables.append((label, str(v.get("value", "")), str(v.get("spoken", ""))))
            if p.get("agent"):
                agent = {k: p["agent"].get(k) for k in ("label", "name", "number")} | {"distance": None}
                digests["agent_photo"] = str(p["agent"].get("photo_sha256"))
        elif e.kind is EventKind.DOCUMENT_SIGNED and p.get("role") == "organisation" and organisation:
            # the certificate the seal was made with (a renewal after the session's creation changes it)
            organisation["certificate_serial"] = str(p["certificate_serial"])
        elif e.kind is EventKind.ARTIFACT_STORED and p.get("role") == "identity_photo":
            digests.setdefault("identity_photo", str(p.get("sha256")))
        elif e.kind is EventKind.CONSENT_GIVEN:
            consent += [str(p[k]) for k in ("recording", "biometric") if p.get(k)]
        elif e.kind is EventKind.CONSENT_REFUSED:
            refused = str(p.get("reason") or "")
        elif e.kind in (
            EventKind.IDENTITY_VERIFIED,
            EventKind.IDENTITY_ATTEMPT_FAILED,
            EventKind.IDENTITY_FAILED,
            EventKind.IDENTITY_WAIVED,
        ):
            identity = _identity(e.kind, p)
            agent_distances = [float(d) for d in (p.get("agent") or {}).get("distances") or []]
            if agent is not None:
                agent["distance"] = max(agent_distances) if agent_distances else None
            if p.get("snapshot_sha256"):
                digests["face_snapshot"] = str(p["snapshot_sha256"])
        elif e.kind.value.startswith("liveness_") and e.kind is not EventKind.LIVENESS_CHALLENGE_ISSUED:
            liveness = {
                "kind": e.kind.value,
                "attempt": p.get("attempt"),
                "steps": [(str(s.get("action")), bool(s.get("passed"))) for s in p.get("steps", [])],
                "reason": p.get("reason"),
            }
            if p.get("frame_sha256"):
                digests["liveness_frame"] = str(p["frame_sha256"])
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
        elif e.kind is EventKind.MONITORING_SUMMARY:
            for start, end, who in p.get("presence") or []:
                on_camera[str(who)] = on_camera.get(str(who), 0.0) + float(end) - float(start)
        elif e.kind is EventKind.MONITORING_WARNING:
            after = p.get("after_s")  # how long the condition had lasted when the signer was warned
            warnings.append((e.at, str(p.get("warning")), float(after) if after is not None else None))
    reasks = sum(max(0, len(q["attempts"]) - 1) for q in questions.values())
    try:
        trace, trace_error = read_trace(session, blobs), None
    except TraceUnreadable as exc:
        trace, trace_error = None, str(exc)

    def image(role: str) -> bytes | None:
        digest = digests.get(role)
        return blobs.get(digest) if digest and blobs.exists(digest) else None

    return ReportData(
        language=t.language.family,
        time_zone=time_zone,
        session_id=record.id,
        tenant=tenant_name,
        signer_name=record.signer_name,
        signer_id_masked=record.signer_id_masked,
        scenario=f"{t.title} ({t.scenario.value})",
        template=f"{t.key} sha256:{t.content_hash()}",
        state=str(manifest["state"]),
        created_at=record.created_at,
        sealed_at=seal.sealed_at,
        manifest_sha256=seal.manifest_sha256,
        merkle_root=str(manifest["merkle"]["root"]),
        tsa=str(manifest["tsa"]["name"]),
        tsa_mode=str(manifest["tsa"]["mode"]),
        timestamp_time=seal.sealed_at,  # the token is requested as the seal is made
        log_index=seal.log_index,
        verify_url=verify_url,
        consent=consent,
        consent_refused=refused,
        identity=identity,
        liveness=liveness,
        questions=[q for q in questions.values() if q["attempts"]],
        warnings=warnings,
        timeline=timeline,
        artifacts=list(manifest["artifacts"]),
        id_photo=image("identity_photo"),
        face_snapshot=image("face_snapshot"),
        liveness_frame=image("liveness_frame"),
        reasks=reasks,
        qc=qc,
        variables=variables,
        organisation=organisation,
        organisation_seal=image("organisation_seal"),
        trace=trace,
        trace_error=trace_error,
        agent=agent,
        agent_photo=image("agent_photo"),
        on_camera=sorted(((w, round(s, 1)) for w, s in on_camera.items() if s > 0), key=lambda x: -x[1]),
    )
