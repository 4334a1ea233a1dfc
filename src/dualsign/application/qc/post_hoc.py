"""Post-hoc analysis: the uploaded recording re-checked against what was decided live, before sealing.

The recording is the primary evidence. Once it is closed, a durable job (``analyse_recording``) decodes
each segment, re-recognises the speech in every spoken answer's window (``rerecognition``) and runs the
face-monitoring rules over its frames (``video_analysis``), then records one ``recording_analysed``
event: per answer the live verdict and the recording's; the face figures of both and where they differ
beyond tolerance; and every error. The QC rule ``recording_reconciled`` judges it. Sealing hands the
closed recording to this job and waits; the job queues the seal with its result, once.

Fail closed: a recording that cannot be decoded is recorded as an error (QC fails). An engine that
fails is retried by the job; on the job's last attempt the failure itself is recorded, so the session is
sealed with a failing check rather than left waiting or checked by something weaker.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dualsign.application.event_store import load_aggregate, persist
from dualsign.application.outbox.jobs import RunAgain, enqueue_sealing
from dualsign.application.perception.vision import reference_embedding
from dualsign.application.ports import BlobStore, Clock, UnitOfWork
from dualsign.application.qc.rerecognition import rerecognize
from dualsign.application.qc.video_analysis import analyze_recording, reconcile
from dualsign.application.signer.recording import segment_bytes
from dualsign.domain.errors import DualSignError
from dualsign.domain.event_payloads import RecordingAnalysed, ReheardAnswerItem
from dualsign.domain.recording_time import monitoring_totals, place_answers
from dualsign.domain.session import SigningSession
from dualsign.domain.states import EventKind
from dualsign.engines.base import AsrEngine, VadEngine
from dualsign.engines.vision_base import Embedding, VisionEngines
from dualsign.media.audio import AudioDecodeError
from dualsign.media.video import ImageDecodeError

SEAL_RUNNING_WAIT = dt.timedelta(seconds=30)  # longer than a seal takes, TSA timeout included


@dataclass(frozen=True)
class PostHocServices:
    blobs: BlobStore
    clock: Clock
    vad: VadEngine | None
    asr: AsrEngine | None
    vision: VisionEngines | None


def analysed(session: SigningSession) -> bool:
    return any(e.kind is EventKind.RECORDING_ANALYSED for e in session.events)


def wanted(session: SigningSession) -> bool:
    """A closed recording with chunks that has not been re-checked yet."""
    return session.recording_closed and bool(session.recording_chunks()) and not analysed(session)


@dataclass(frozen=True)
class Analysed:
    """What one run of the ``analyse_recording`` job did."""

    result: RecordingAnalysed | None  # recorded by this run (None: recorded before, or nothing to re-check)
    again: RunAgain | None = None  # the seal could not be queued yet: run the job again then


def analyse_recording(
    uow: UnitOfWork, svc: PostHocServices, session_id: str, *, last_attempt: bool = False
) -> Analysed:
    """Re-check the session's recording and record the result; in the same transaction the seal is
    queued (sealing waits for this job and runs once after it). On ``last_attempt`` an unexpected
    failure is recorded as the result.

    A seal job running just as the result is recorded may have looked before it (and found the
    recording not yet re-checked): its seal cannot be queued while it runs, so this job runs again
    ``SEAL_RUNNING_WAIT`` later and queues it then."""
    with uow:
        _, session = load_aggregate(uow, session_id)
        if uow.seals.get(session_id) is not None:
            return Analysed(None)
        if analysed(session):  # by an earlier run, whose seal could not be queued then
            return Analysed(None, _queue_seal(uow, svc.clock.now(), session_id))
        if not wanted(session):
            return Analysed(None)
        photo = next((a.sha256 for a in uow.artifacts.list(session_id) if a.role == "identity_photo"), None)
    try:
        result = _analyse(session, svc, photo)
    except Exception as exc:
        if not last_attempt:
            raise
        failed = f"analysis failed: {type(exc).__name__}: {exc}"[:300]
        result = {"answers": [], "unplaced_answers": [], "faces": None, "compute_s": 0.0, "errors": [failed]}
    with uow:
        _, session = load_aggregate(uow, session_id)
        if not wanted(session) or uow.seals.get(session_id) is not None:
            return Analysed(None)
        now = svc.clock.now()
        persist(uow, session, [session.record_recording_analysis(now, result)])
        return Analysed(result, _queue_seal(uow, now, session_id))


def _queue_seal(uow: UnitOfWork, now: dt.datetime, session_id: str) -> RunAgain | None:
    """Queue the seal and commit; when a seal job is running just now, say when to try again."""
    queued = enqueue_sealing(uow, now, session_id)
    uow.commit()
    if queued:
        return None
    return RunAgain(now + SEAL_RUNNING_WAIT, "a seal job was running: its seal is queued after it")


def _analyse(session: SigningSession, svc: PostHocServices, photo: str | None) -> RecordingAnalysed:
    started = time.perf_counter()
    windows, unplaced = place_answers(session)
    segments = segment_bytes(session, svc.blobs)
    errors: list[str] = []
    answers: list[ReheardAnswerItem] = []
    faces: list[dict[str, object]] = []
    # faces are looked at only where they were live (a template may process no face data)
    live_faces = [e.payload for e in session.events if e.kind is EventKind.MONITORING_SUMMARY]
    vision = svc.vision if live_faces else None
    reference = _reference(vision, svc.blobs, photo, errors)
    agent = session.agent
    agent_reference = _reference(vision, svc.blobs, agent.photo_sha256, errors) if agent else None
    for segment, data in segments.items():
        if windows.get(segment) and svc.vad is not None and svc.asr is not None:
            try:
                heard = rerecognize(data, windows[segment], session.template, svc.vad, svc.asr, agent)
            except AudioDecodeError as exc:
                errors.append(f"segment {segment}: the audio cannot be decoded: {exc}"[:300])
                heard = []
            for r in heard:
                answers.append(
                    {
                        "question_id": r.window.question_id,
                        "attempt": r.window.attempt,
                        "segment": segment,
                        "window_s": [r.window.start_s, r.window.end_s],
                        "live": r.window.live_verdict,
                        "recording": r.result.verdict.value if r.result is not None else None,
                        "transcript": r.transcript.text if r.transcript is not None else None,
                        "speech_s": r.speech_s,
                        "engine": r.transcript.model if r.transcript is not None else None,
                        "error": r.error,
                    }
                )
        if vision is not None:
            try:
                seen = analyze_recording(data, session.template, vision, reference, agent_reference)
            except ImageDecodeError as exc:
                errors.append(f"segment {segment}: the video cannot be decoded: {exc}"[:300])
                continue
            faces.append(seen.stats)
    return {
        "answers": answers,
        "unplaced_answers": [list(u) for u in unplaced],
        "faces": _faces(live_faces, faces) if vision is not None else None,
        "errors": errors,
        "compute_s": round(time.perf_counter() - started, 3),
    }


def _reference(
    vision: VisionEngines | None, blobs: BlobStore, photo: str | None, errors: list[str]
) -> Embedding | None:
    if vision is None or photo is None:
        return None
    try:
        return reference_embedding(blobs.get(photo), vision)
    except DualSignError as exc:
        errors.append(f"identity photo: {exc}"[:300])
        return None


def _faces(live_parts: Sequence[Mapping[str, Any]], recording: list[dict[str, object]]) -> dict[str, Any]:
    seen = monitoring_totals(recording)
    live = monitoring_totals(live_parts)
    return {
        "recording": seen,
        "live": live,
        "disagreements": [d.to_dict() for d in reconcile(dict(live), dict(seen))],
    }
