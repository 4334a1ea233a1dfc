"""Automatic quality check (质检) of an ended session: domain rules over its events.

Each rule names the requirement it enforces and where it comes from, and gives PASS, FAIL or
NEEDS_REVIEW with the figures it looked at. The overall verdict is FAIL if any rule fails, else
NEEDS_REVIEW if any rule needs a person, else PASS. The rule set is versioned: the version is recorded
with the results, and a change to any rule is a new version.

Clause references name the regulation and, where the article is certain, the article. The deploying
institution's compliance team owns the final mapping (its templates may add stricter thresholds).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dualsign.domain.event_payloads import QcEvaluated, QcRuleItem
from dualsign.domain.qc_wording import finding_text
from dualsign.domain.recording_time import monitoring_totals
from dualsign.domain.session import Event, QuestionOutcome, SigningSession
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import Participant
from dualsign.domain.trace import TraceSummary

# qc-2026.12.5: operation_trace (the page's trace covers the session); face_presence and identity follow
# the declared participants
RULESET_VERSION = "qc-2026.12.5"
SYNC_TOLERANCE_S = 2.0  # recorded length vs. the session's own clock
CLOCK_SKEW_S = 300.0  # signer clock vs. system time beyond this: time not trustworthy


class Verdict(StrEnum):
    PASS = "PASS"  # noqa: S105 (a verdict, not a password)
    FAIL = "FAIL"
    NEEDS_REVIEW = "NEEDS_REVIEW"


@dataclass(frozen=True)
class Finding:
    """What a rule found: a code with its figures, worded in each language by ``qc_wording``."""

    verdict: Verdict
    code: str
    facts: dict[str, Any]

    @property
    def detail(self) -> str:
        return finding_text(self.code, self.facts, "en")


def _found(verdict: Verdict, code: str, **facts: Any) -> Finding:
    for language in ("en", "zh"):  # an unknown code or a missing figure fails here, not in a report
        finding_text(code, facts, language)
    return Finding(verdict, code, facts)


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    clause: str
    verdict: Verdict
    detail: str  # the English wording of the finding (what the console and the API show)
    finding: str = ""  # the finding's code, and its figures: the report words them in its language
    facts: dict[str, Any] | None = None

    def to_payload(self) -> QcRuleItem:
        return {
            "rule": self.rule,
            "title": self.title,
            "clause": self.clause,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "finding": self.finding,
            "facts": dict(self.facts or {}),
        }


@dataclass(frozen=True)
class QcResult:
    ruleset: str
    verdict: Verdict
    rules: tuple[RuleResult, ...]

    def to_payload(self) -> QcEvaluated:
        return {
            "ruleset": self.ruleset,
            "verdict": self.verdict.value,
            "rules": [r.to_payload() for r in self.rules],
        }


class _Facts:
    """What the rules look at, read once from the events."""

    def __init__(self, s: SigningSession, trace: TraceSummary | None, trace_error: str | None) -> None:
        self.s = s
        self.trace = trace  # the page's operation trace read back (None: not read, or none sent)
        self.trace_error = trace_error
        self.events = s.events
        self.first: dict[EventKind, Event] = {}
        self._position = {id(e): i for i, e in enumerate(self.events)}
        for e in self.events:
            self.first.setdefault(e.kind, e)

    def all(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]

    def chunks(self) -> list[Event]:
        return self.s.recording_chunk_events()

    def index(self, e: Event) -> int:
        return self._position[id(e)]


Rule = Callable[[_Facts], Finding]
P, F, R = Verdict.PASS, Verdict.FAIL, Verdict.NEEDS_REVIEW


def _consent_first(f: _Facts) -> Finding:
    consent = f.first.get(EventKind.CONSENT_GIVEN)
    chunks = f.chunks()
    if consent is None:
        if chunks:
            return _found(F, "chunks_without_consent", chunks=len(chunks))
        return _found(P, "no_consent_nothing_recorded")
    early = [c for c in chunks if f.index(c) < f.index(consent)]
    if early:
        return _found(F, "chunks_before_consent", chunks=len(early))
    if not (consent.payload.get("recording") and consent.payload.get("biometric")):
        return _found(R, "consent_texts_missing")
    return _found(P, "consent_before_recording")


def _prompt_played(f: _Facts) -> Finding:
    asked = f.all(EventKind.QUESTION_ASKED)
    if not asked:
        return _found(R, "no_question_asked")
    full: set[tuple[Any, Any]] = set()
    short: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for e in f.all(EventKind.PROMPT_PLAYED):
        key = (e.payload.get("question_id"), e.payload.get("attempt"))
        if e.payload.get("played_in_full"):
            full.add(key)
        else:
            short[key] = [
                {"role": p.get("role"), "played_s": p.get("played_s"), "duration_s": p.get("duration_s")}
                for p in e.payload.get("parts") or []
                if not p.get("full")
            ]
    keys = [(e.payload.get("question_id"), e.payload.get("attempt")) for e in asked]
    silent = [e for e in asked if not e.payload.get("audio")]
    cut = [k for k in keys if k not in full and k in short]
    unreported = [k for k in keys if k not in full and k not in short]
    if cut:
        return _found(
            F, "prompts_cut", cut=[{"question": q, "attempt": a, "parts": short[(q, a)]} for q, a in cut]
        )
    if silent:
        return _found(R, "prompts_without_audio", silent=len(silent), asked=len(asked))
    if unreported:
        return _found(R, "prompts_unreported", unreported=[list(k) for k in unreported], asked=len(asked))
    return _found(P, "prompts_played", asked=len(asked))


def _identity(f: _Facts) -> Finding:
    if EventKind.IDENTITY_VERIFIED in f.first:
        p = f.first[EventKind.IDENTITY_VERIFIED].payload
        distances = [float(d) for d in p.get("distances") or []]
        if not distances or p.get("threshold") is None:
            return _found(P, "identity_verified_no_figures")
        if f.s.template.has_agent:
            agent = [float(d) for d in (p.get("agent") or {}).get("distances") or []]
            if not agent:
                return _found(F, "agent_not_verified")
            return _found(
                P,
                "identity_verified_with_agent",
                distance=f"{max(distances):.3f}",
                agent_distance=f"{max(agent):.3f}",
                threshold=f"{float(p['threshold']):.3f}",
                frames=len(distances),
            )
        return _found(
            P,
            "identity_verified",
            distance=f"{max(distances):.3f}",
            threshold=f"{float(p['threshold']):.3f}",
            frames=len(distances),
        )
    if EventKind.IDENTITY_WAIVED in f.first:
        return _found(
            R, "identity_waived", reason=f.first[EventKind.IDENTITY_WAIVED].payload.get("reason", "")
        )
    if EventKind.IDENTITY_FAILED in f.first:
        return _found(F, "identity_failed")
    return _found(F, "identity_never_verified")


def _liveness(f: _Facts) -> Finding:
    if EventKind.LIVENESS_PASSED in f.first:
        tries = len(f.all(EventKind.LIVENESS_ATTEMPT_FAILED)) + 1
        return _found(P, "liveness_passed", attempt=tries)
    if EventKind.LIVENESS_WAIVED in f.first:
        return _found(
            R, "liveness_waived", reason=f.first[EventKind.LIVENESS_WAIVED].payload.get("reason", "")
        )
    return _found(F, "liveness_not_passed")


def _answers(f: _Facts) -> Finding:
    required = [q for q in f.s.template.questions if q.required and q.expects_answer]
    progress = f.s.progress
    outcome = {q.id: progress[q.id].outcome for q in required}
    failed = [q for q, o in outcome.items() if o is QuestionOutcome.FAILED]
    flagged = [q for q, o in outcome.items() if o is QuestionOutcome.FLAGGED]
    open_ = [q for q, o in outcome.items() if o is None or o is QuestionOutcome.PENDING]
    if failed or open_:
        return _found(F, "not_affirmed", questions=", ".join(failed + open_))
    if flagged:
        return _found(R, "accepted_after_flag", questions=", ".join(flagged))
    reasks = sum(max(progress[q.id].attempts - 1, 0) for q in required)
    ids = {q.id for q in required}
    typed = [
        str(e.payload["question_id"])
        for e in f.all(EventKind.ANSWER_JUDGED)
        if e.payload.get("verdict") == "ACCEPT"
        and e.payload.get("input") == "text"
        and e.payload.get("question_id") in ids
    ]
    if typed and not f.s.template.typed_answers_allowed:
        return _found(F, "typed_not_allowed", questions=", ".join(typed))
    unconfirmed = _introduction_unconfirmed(f)
    if unconfirmed is not None:
        return _found(R, "introduction_unconfirmed", question=unconfirmed[0], transcript=unconfirmed[1])
    if typed:
        return _found(P, "affirmed_some_typed", required=len(required), reasks=reasks, typed=", ".join(typed))
    return _found(P, "affirmed", required=len(required), reasks=reasks)


def _introduction_unconfirmed(f: _Facts) -> tuple[str, str] | None:
    """The agent's accepted introduction, when neither their name nor their number was recognised in it
    (question id and what was heard); None when there is no agent or it was recognised."""
    speakers = {q.id for q in f.s.template.questions if q.speaker is Participant.AGENT}
    for e in f.all(EventKind.ANSWER_JUDGED):
        p = e.payload
        if p.get("question_id") in speakers and p.get("verdict") == "ACCEPT":
            rule = (p.get("explanation") or {}).get("rule")
            if rule == "introduction_unconfirmed":
                return str(p["question_id"]), str(p.get("transcript") or "")
    return None


def _monitoring(f: _Facts) -> Finding:
    summaries = f.all(EventKind.MONITORING_SUMMARY)
    if not summaries:
        return _found(F, "no_monitoring_figures")
    totals = monitoring_totals([e.payload for e in summaries])
    observed, ratio = totals["observed_s"], totals["face_present_ratio"]
    several, mismatch = totals["several_faces_s"], totals["mismatch_s"]
    t = f.s.template.monitoring
    if f.s.template.has_agent:
        if any("agent" not in (e.payload.get("participants") or []) for e in summaries):
            return _found(F, "monitoring_without_agent")  # watched for the signer alone: fail closed
        missing = sum(float(e.payload.get("missing_s", 0)) for e in summaries)
        figures = {
            "present": f"{ratio:.1%}",
            "observed_s": f"{observed:.1f}",
            "min_present": f"{t.min_face_present_ratio:.0%}",
            "missing_s": f"{missing:.1f}",
            "extra_s": f"{several:.1f}",
            "extra_limit_s": t.multiple_faces_seconds,
            "other_s": f"{mismatch:.1f}",
            "other_limit_s": t.mismatch_seconds,
        }
        passed = not (
            ratio < t.min_face_present_ratio
            or several > t.multiple_faces_seconds
            or mismatch > t.mismatch_seconds
        )
        return _found(P if passed else F, "monitoring_with_agent", **figures)
    figures = {
        "present": f"{ratio:.1%}",
        "observed_s": f"{observed:.1f}",
        "min_present": f"{t.min_face_present_ratio:.0%}",
        "several_s": f"{several:.1f}",
        "several_limit_s": t.multiple_faces_seconds,
        "other_s": f"{mismatch:.1f}",
        "other_limit_s": t.mismatch_seconds,
    }
    if (
        ratio < t.min_face_present_ratio
        or several > t.multiple_faces_seconds
        or mismatch > t.mismatch_seconds
    ):
        return _found(F, "monitoring", **figures)
    return _found(P, "monitoring", **figures)


def _signed_on_camera(f: _Facts) -> Finding:
    applied = f.first.get(EventKind.SIGNATURE_APPLIED)
    if applied is None:
        return _found(F, "not_signed")
    chunks = f.chunks()
    after = [c for c in chunks if f.index(c) > f.index(applied)]
    before = [c for c in chunks if f.index(c) < f.index(applied)]
    if not before or not after:
        return _found(F, "signing_not_recorded")
    return _found(P, "signing_recorded")


def _recording(f: _Facts) -> Finding:
    closed = f.first.get(EventKind.RECORDING_CLOSED)
    if closed is None:
        return _found(F, "no_recording" if not f.chunks() else "recording_not_closed")
    p = closed.payload
    if p.get("gaps"):
        return _found(F, "recording_gaps", gaps=str(p["gaps"]))
    consent = f.first.get(EventKind.CONSENT_GIVEN)
    start = consent.at if consent is not None else f.events[0].at
    end = f.s.ended_at or closed.at
    span = (end - start).total_seconds()
    recorded = float(p.get("recorded_seconds", 0))
    if recorded + SYNC_TOLERANCE_S < span:
        return _found(F, "recording_short", recorded_s=f"{recorded:.1f}", span_s=f"{span:.1f}")
    for m in p.get("media") or []:
        if m.get("error"):
            return _found(F, "segment_unreadable", segment=m.get("segment"), error=str(m["error"]))
        audio, video = m.get("audio_s"), m.get("video_s")
        if audio is None or video is None:
            return _found(
                F, "segment_no_audio" if audio is None else "segment_no_video", segment=m.get("segment")
            )
        if abs(float(audio) - float(video)) > SYNC_TOLERANCE_S / 2:
            return _found(F, "segment_out_of_sync", segment=m.get("segment"), audio_s=audio, video_s=video)
    by = p.get("closed_by")
    if by != "signer":
        return _found(R, "recording_closed_by_other", chunks=p.get("chunks"), closed_by=str(by))
    figures = {"chunks": p.get("chunks"), "segments": p.get("segments"), "recorded_s": f"{recorded:.1f}"}
    if p.get("media"):
        return _found(P, "recording_complete_in_sync", in_sync=len(p["media"]), **figures)
    return _found(P, "recording_complete", **figures)


def _answer(a: dict[str, Any]) -> dict[str, Any]:
    """An answer as a finding names it: question, attempt, the recording's verdict, what it heard."""
    return {
        "question": a.get("question_id"),
        "attempt": a.get("attempt"),
        "recording": a.get("recording"),
        "transcript": a.get("transcript") or "",
    }


def _reconciled(f: _Facts) -> Finding:
    analysed = f.first.get(EventKind.RECORDING_ANALYSED)
    if analysed is None:
        if not f.chunks():
            return _found(P, "nothing_to_recheck")
        return _found(R, "not_rechecked")
    p = analysed.payload
    if p.get("errors"):
        return _found(F, "recheck_errors", errors="; ".join(str(e) for e in p["errors"])[:500])
    accepted = [a for a in p.get("answers") or [] if a.get("live") == "ACCEPT"]
    contradicted = [a for a in accepted if a.get("recording") == "REJECT"]
    unconfirmed = [a for a in accepted if a.get("recording") not in ("ACCEPT", "REJECT")]
    if contradicted:
        return _found(F, "recording_contradicts", answers=[_answer(a) for a in contradicted])
    unplaced = [f"{q}#{n}" for q, n in p.get("unplaced_answers") or []]
    faces = p.get("faces") or {}
    disagreements = [
        {"measure": d["measure"], "live": d["live"], "recording": d["recording"]}
        for d in faces.get("disagreements") or []
    ]
    if unconfirmed or unplaced or disagreements:
        return _found(
            R,
            "recheck_problems",
            unconfirmed=[_answer(a) for a in unconfirmed],
            unplaced=unplaced,
            disagreements=disagreements,
        )
    if not accepted and not faces:
        return _found(P, "nothing_to_recheck_live")
    if faces:
        frames = (faces.get("recording") or {}).get("frames")
        return _found(P, "rechecked_with_faces", accepted=len(accepted), frames=frames)
    return _found(P, "rechecked", accepted=len(accepted))


def _system_time(f: _Facts) -> Finding:
    times = [e.at for e in f.events]
    if any(b < a for a, b in itertools.pairwise(times)):
        return _found(F, "time_backwards")
    skewed = []
    for c in f.chunks():
        ended = int(c.payload.get("ended_ms") or 0)
        if ended and abs(ended / 1000 - c.at.timestamp()) > CLOCK_SKEW_S:
            skewed.append(int(c.payload.get("index", -1)))
    if skewed:
        return _found(R, "signer_clock_skewed", skew_s=f"{CLOCK_SKEW_S:.0f}")
    return _found(P, "time_in_order")


def _trace_gaps(f: _Facts, t: TraceSummary) -> list[str]:
    """What the session went through that the trace does not show (screens, questions, documents)."""
    missing: list[str] = []
    consent = EventKind.CONSENT_GIVEN in f.first or EventKind.CONSENT_REFUSED in f.first
    if consent and t.first_shown("consent") is None:
        missing.append("screen:consent")
    shown_questions = {v.question for v in t.screens if v.step == "question"}
    for e in f.all(EventKind.QUESTION_ASKED):
        qid = str(e.payload.get("question_id"))
        if qid not in shown_questions and f"question:{qid}" not in missing:
            missing.append(f"question:{qid}")
    reviewed = EventKind.DOCUMENTS_REVIEWED in f.first or EventKind.SIGNATURE_APPLIED in f.first
    signing = t.first_shown("signing")
    if reviewed:
        documents = [
            str(e.payload["sha256"])
            for e in f.all(EventKind.ARTIFACT_STORED)
            if e.payload.get("role") == "document"
        ]
        for digest in documents:
            d = t.document(digest)
            if d is None or d.first_ms is None:
                missing.append(f"document:{digest[:16]}")
            elif signing is not None and d.first_ms > signing:
                missing.append(f"document_before_signing:{digest[:16]}")
    missing += _texts_differ(f, t)
    if EventKind.SIGNATURE_APPLIED in f.first:
        if signing is None:
            missing.append("screen:signing")
        documents_shown = t.first_shown("documents")
        if documents_shown is None or (signing is not None and documents_shown > signing):
            missing.append("screen:documents_before_signing")
    return missing


def _texts_differ(f: _Facts, t: TraceSummary) -> list[str]:
    """Texts the page displayed other than the ones the server gave: the consent texts of the template,
    each prompt as ``question_asked`` recorded it (compared by their UTF-8 SHA-256)."""
    consent = f.s.template.consent
    expected: dict[tuple[str, str | None, Any], str] = {
        ("consent-recording", None, None): consent.recording,
        ("consent-biometric", None, None): consent.biometric,
    }
    for e in f.all(EventKind.QUESTION_ASKED):
        key = ("question-text", str(e.payload.get("question_id")), e.payload.get("attempt"))
        expected[key] = str(e.payload.get("text", ""))
    differ = []
    for shown in t.texts:
        text = expected.get((shown.target, shown.question, shown.attempt))
        if text is not None and hashlib.sha256(text.encode()).hexdigest() != shown.sha256:
            where = f":{shown.question}#{shown.attempt}" if shown.question else ""
            differ.append(f"text_differs:{shown.target}{where}")
    return differ


def _operation_trace(f: _Facts) -> Finding:
    batches = f.s.trace_batches()
    if f.trace_error is not None:
        return _found(R, "trace_unreadable", error=f.trace_error)
    if not batches:
        return _found(R, "trace_missing")
    t = f.trace
    if t is None:  # batches stored but not read for the check: never a silent pass
        return _found(R, "trace_not_read", batches=len(batches))
    if t.missing_batches:
        return _found(R, "trace_batches_missing", missing=", ".join(str(n) for n in t.missing_batches))
    gaps = _trace_gaps(f, t)
    if gaps:
        return _found(R, "trace_incomplete", missing=", ".join(gaps))
    return _found(
        P,
        "trace_covers",
        batches=len(t.batches),
        entries=t.entries,
        screens=len(t.screens),
        documents=len(t.documents),
        texts=len(t.texts),
    )


@dataclass(frozen=True)
class RuleSpec:
    rule: str
    title: str
    clause: str
    check: Rule


PIPL_29 = "《个人信息保护法》第二十八条、第二十九条（敏感个人信息单独同意）"
TRACE = "《保险销售行为可回溯管理暂行办法》（保监发〔2017〕54号）"
ESIG_13 = "《电子签名法》第十三条（可靠的电子签名）"

RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "consent_before_recording",
        "Consent before any recording",
        f"{TRACE} 第六条; {PIPL_29}",
        _consent_first,
    ),
    RuleSpec(
        "prompt_played", "Mandated prompts played in full", f"{TRACE}: 说明义务的履行过程", _prompt_played
    ),
    RuleSpec("identity_verified", "Signer's identity verified", f"{TRACE}: 身份核验; {ESIG_13}", _identity),
    RuleSpec(
        "answers_affirmed", "Every required question affirmed", f"{TRACE}: 投保人作出明确肯定答复", _answers
    ),
    RuleSpec(
        "liveness_passed",
        "Liveness passed",
        "《人脸识别技术应用安全管理办法》: 本人现场操作 (活体检测)",
        _liveness,
    ),
    RuleSpec(
        "face_presence",
        "Declared participants on camera, no one else",
        f"{TRACE}: 现场同步录音录像",
        _monitoring,
    ),
    RuleSpec(
        "signed_on_camera",
        "Signing done on camera",
        f"{TRACE}: 签署投保单等文件的过程; {ESIG_13}",
        _signed_on_camera,
    ),
    RuleSpec(
        "recording_complete",
        "Recording complete, no gap, in sync",
        f"{TRACE}: 视听资料完整、连续",
        _recording,
    ),
    RuleSpec(
        "recording_reconciled",
        "Recording agrees with the live decisions",
        f"{TRACE}: 视听资料真实、完整; {ESIG_13}",
        _reconciled,
    ),
    RuleSpec(
        "operation_trace",
        "Page operation trace covers the session",
        "《关于规范互联网保险销售行为可回溯管理的通知》（银保监办发〔2020〕26号）: 页面操作轨迹",
        _operation_trace,
    ),
    RuleSpec(
        "system_time",
        "Session time system-stamped",
        "《电子签名法》第八条（数据电文的真实性审查）",
        _system_time,
    ),
)


def evaluate(
    session: SigningSession,
    rules: Sequence[RuleSpec] = RULES,
    *,
    trace: TraceSummary | None = None,
    trace_error: str | None = None,
) -> QcResult:
    """The quality check of an ended session (a session still open cannot be judged). ``trace``: the
    page's operation trace read back from its batches (``trace_error``: why it could not be)."""
    if session.current_state is None or session.current_state.is_open:
        raise ValueError("only an ended session can be quality-checked")
    facts = _Facts(session, trace, trace_error)
    results = []
    for spec in rules:
        found = spec.check(facts)
        results.append(
            RuleResult(
                spec.rule, spec.title, spec.clause, found.verdict, found.detail, found.code, found.facts
            )
        )
    if session.current_state is not SessionState.SIGNED and session.current_state is not SessionState.SEALED:
        overall = F  # a session that did not end in a signature never passes QC
    elif any(r.verdict is F for r in results):
        overall = F
    elif any(r.verdict is R for r in results):
        overall = R
    else:
        overall = P
    return QcResult(RULESET_VERSION, overall, tuple(results))


def evaluated_at(session: SigningSession) -> datetime | None:
    return next((e.at for e in session.events if e.kind is EventKind.QC_EVALUATED), None)
