"""Signer-side use cases of the camera: identity against the ID photo, liveness challenges, monitoring.

Frames arrive as JPEG snapshots from the signer's page. Every decision is an event with its figures
(distances and threshold, per-action measurements, warning onset) and the frames that decided it are
stored as face snapshots, their digests in the chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dualsign.application.artifacts import store_artifact
from dualsign.application.event_store import load_aggregate, persist
from dualsign.application.perception.agent_identity import verify_identity_with_agent
from dualsign.application.perception.vision import (
    LiveMonitor,
    SignerFace,
    reference_embedding,
    verify_identity,
)
from dualsign.application.ports import UnitOfWork
from dualsign.application.signer.answers import Renderer, ask_next
from dualsign.application.signer.flow import SignerServices, SignerView, act, load_open
from dualsign.domain.errors import IllegalTransition
from dualsign.domain.event_payloads import ChallengeStepItem, LivenessCheck, MonitoringSummary
from dualsign.domain.liveness import ChallengeStep, Sample, issue_challenge, judge_challenge
from dualsign.domain.monitoring import FaceWarning
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import ENDED_STATES, RECORDING_STATES, EventKind, SessionState
from dualsign.engines.vision_base import Embedding, Image, VisionEngines
from dualsign.media.video import ImageDecodeError, decode_image, encode_jpeg


def _vision(svc: SignerServices) -> VisionEngines:
    if svc.vision is None:
        raise IllegalTransition("identity", "camera step without vision engines")
    return svc.vision


def _snapshot(
    uow: UnitOfWork, svc: SignerServices, s: SigningSession, now: datetime, image: Image, role: str
) -> tuple[str, Event]:
    stored = store_artifact(
        uow,
        svc.blobs,
        svc.ids,
        s,
        now,
        encode_jpeg(image),
        role=role,
        name=f"{role}-{now:%H%M%S%f}.jpg",
        media_type="image/jpeg",
    )
    return stored.sha256, stored.event


def signer_reference(uow: UnitOfWork, svc: SignerServices, s: SigningSession) -> Embedding:
    """The embedding of the integrator's identity photo of this session."""
    photo = next(a for a in uow.artifacts.list(s.id) if a.role == "identity_photo")
    return reference_embedding(svc.blobs.get(photo.sha256), _vision(svc))


def agent_reference(svc: SignerServices, s: SigningSession) -> Embedding | None:
    """The embedding of the agent's photo, when the session has an agent on camera."""
    if s.agent is None:
        return None
    return reference_embedding(svc.blobs.get(s.agent.photo_sha256), _vision(svc), "agent_photo")


def decode_frames(jpegs: Sequence[bytes]) -> list[Image]:
    images = []
    for data in jpegs:
        try:
            images.append(decode_image(data, max_width=640))
        except ImageDecodeError:
            continue  # a damaged snapshot is simply not a usable frame
    return images


def verify_identity_live(
    uow: UnitOfWork, svc: SignerServices, token: str, jpegs: Sequence[bytes]
) -> SignerView:
    vision = _vision(svc)
    images = decode_frames(jpegs)

    def decide(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        if s.current_state is not SessionState.IDENTITY:
            raise IllegalTransition(s.current_state.value, EventKind.IDENTITY_VERIFIED.value)
        reference, agent = signer_reference(uow, svc, s), agent_reference(svc, s)
        good = s.template.identity.min_good_frames
        if agent is not None:  # both faces, each against its own photo
            outcome = verify_identity_with_agent(images, reference, agent, vision, good)
        else:
            outcome = verify_identity(images, reference, vision, good)
        events: list[Event] = []
        details = outcome.to_payload()
        if outcome.best_frame is not None:
            digest, stored = _snapshot(uow, svc, s, now, images[outcome.best_frame], "face_snapshot")
            events.append(stored)
            details["snapshot_sha256"] = digest
        events += s.record_identity(now, passed=outcome.passed, details=details)
        return events + ask_next(s, now, render)

    return act(uow, svc, token, decide)


@dataclass(frozen=True)
class Challenge:
    steps: list[ChallengeStep]
    view: SignerView


def start_liveness(uow: UnitOfWork, svc: SignerServices, token: str) -> Challenge:
    chosen: list[ChallengeStep] = []

    def issue(s: SigningSession, now: datetime, _r: Renderer | None) -> list[Event]:
        if s.current_state is not SessionState.LIVENESS:
            raise IllegalTransition(s.current_state.value, EventKind.LIVENESS_CHALLENGE_ISSUED.value)
        live = s.template.liveness
        chosen.extend(issue_challenge(live.actions, live.count, live.window_seconds, svc.rng))
        steps: list[ChallengeStepItem] = [
            {"action": c.action.value, "start_s": c.start_s, "end_s": c.end_s} for c in chosen
        ]
        return [s.issue_challenge(now, steps=steps)]

    view = act(uow, svc, token, issue)
    return Challenge(chosen, view)


def finish_liveness(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    steps: Sequence[ChallengeStep],
    samples: Sequence[Sample],
    evidence_frame: Image | None,
) -> SignerView:
    def decide(s: SigningSession, now: datetime, render: Renderer | None) -> list[Event]:
        results = judge_challenge(steps, samples)
        passed = all(r.passed for r in results)
        details: LivenessCheck = {
            "mode": "action",
            "frames": len(samples),
            "steps": [
                {"action": r.action.value, "passed": r.passed, "reason": r.reason, "measured": r.measured}
                for r in results
            ],
        }
        events: list[Event] = []
        if evidence_frame is not None:
            digest, stored = _snapshot(uow, svc, s, now, evidence_frame, "liveness_frame")
            events.append(stored)
            details["frame_sha256"] = digest
        events.append(s.record_liveness(now, passed=passed, details=details))
        return events + ask_next(s, now, render)

    return act(uow, svc, token, decide)


def begin_monitoring(uow: UnitOfWork, svc: SignerServices, token: str) -> LiveMonitor:
    vision = _vision(svc)
    with uow:
        _, s = load_open(uow, svc, token)
        reference = signer_reference(uow, svc, s)
    return LiveMonitor(s.template.monitoring, vision, reference, agent_reference=agent_reference(svc, s))


def signer_face(uow: UnitOfWork, svc: SignerServices, token: str) -> SignerFace | None:
    """With an agent on camera, what tells the signer's face from the agent's for a liveness challenge
    or a nod; None when the signer is alone (the lone face is theirs)."""
    vision = _vision(svc)
    with uow:
        _, s = load_open(uow, svc, token)
        if s.agent is None:
            return None
        return SignerFace(vision, signer_reference(uow, svc, s))


def record_warnings(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    warnings: Sequence[FaceWarning],
    frame: Image,
    session_time: float,
) -> SignerView:
    def record(s: SigningSession, now: datetime, _r: Renderer | None) -> list[Event]:
        if s.current_state.value not in {x.value for x in SessionState if x.is_open} or not warnings:
            return []
        digest, stored = _snapshot(uow, svc, s, now, frame, "face_snapshot")
        events = [stored]
        for w in warnings:
            events.append(
                s.warn(
                    now,
                    warning=w.kind.value,
                    details={
                        "since_s": round(w.since, 2),
                        "raised_at_s": round(w.raised_at, 2),
                        "after_s": round(w.raised_at - w.since, 2),
                        "stream_time_s": round(session_time, 2),
                        "snapshot_sha256": digest,
                    },
                )
            )
        return events

    return act(uow, svc, token, record)


def summarize_monitoring(
    uow: UnitOfWork,
    svc: SignerServices,
    token: str,
    monitor: LiveMonitor,
    started_ms: int | None = None,
    frames_skipped: int = 0,
) -> None:
    """Record a connection's monitoring figures; also just after the session ended (the page closes
    its live channel once it has signed), but not once it is sealed. ``frames_skipped``: frames that
    arrived while an earlier one was still being analysed and were replaced by a newer one."""
    if not monitor.monitor.stats.frames:
        return
    # started_ms: the page's clock at t = 0
    stats: MonitoringSummary = {
        **monitor.monitor.stats.to_dict(monitor.participants),
        "started_ms": started_ms,
        "frames_skipped": frames_skipped,
    }
    claim = svc.links.verify_signature(token)
    with uow:
        _record, session = load_aggregate(uow, claim.session_id)
        if session.current_state not in RECORDING_STATES | ENDED_STATES:
            raise IllegalTransition(session.current_state.value, EventKind.MONITORING_SUMMARY.value)
        persist(uow, session, [session.summarize_monitoring(svc.clock.now(), stats)])
        uow.commit()
