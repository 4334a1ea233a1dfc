"""Automatic quality check (质检) of an ended session: domain rules over its events.

Each rule names the requirement it enforces and where it comes from, and gives PASS, FAIL or
NEEDS_REVIEW with the figures it looked at. The overall verdict is FAIL if any rule fails, else
NEEDS_REVIEW if any rule needs a person, else PASS. The rule set is versioned: the version is recorded
with the results, and a change to any rule is a new version.

Clause references name the regulation and, where the article is certain, the article. The deploying
institution's compliance team owns the final mapping (its templates may add stricter thresholds).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from dualsign.domain.event_payloads import QcEvaluated, QcRuleItem
from dualsign.domain.recording_time import monitoring_totals
from dualsign.domain.session import Event, QuestionOutcome, SigningSession
from dualsign.domain.states import EventKind, SessionState

RULESET_VERSION = "qc-2026.12.3"  # answers_affirmed tells typed answers from spoken ones
SYNC_TOLERANCE_S = 2.0  # recorded length vs. the session's own clock
CLOCK_SKEW_S = 300.0  # signer clock vs. system time beyond this: time not trustworthy


class Verdict(StrEnum):
    PASS = "PASS"  # noqa: S105 (a verdict, not a password)
    FAIL = "FAIL"
    NEEDS_REVIEW = "NEEDS_REVIEW"


@dataclass(frozen=True)
class RuleResult:
    rule: str
    title: str
    clause: str
    verdict: Verdict
    detail: str

    def to_payload(self) -> QcRuleItem:
        return {
            "rule": self.rule,
            "title": self.title,
            "clause": self.clause,
            "verdict": self.verdict.value,
            "detail": self.detail,
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

    def __init__(self, s: SigningSession) -> None:
        self.s = s
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


Rule = Callable[[_Facts], tuple[Verdict, str]]
P, F, R = Verdict.PASS, Verdict.FAIL, Verdict.NEEDS_REVIEW


def _consent_first(f: _Facts) -> tuple[Verdict, str]:
    consent = f.first.get(EventKind.CONSENT_GIVEN)
    chunks = f.chunks()
    if consent is None:
        if chunks:
            return F, f"{len(chunks)} recording chunks stored without consent"
        return P, "no consent given and nothing recorded"
    early = [c for c in chunks if f.index(c) < f.index(consent)]
    if early:
        return F, f"{len(early)} recording chunks stored before consent"
    if not (consent.payload.get("recording") and consent.payload.get("biometric")):
        return R, "consent given, but the consent texts were not recorded with it"
    return P, "consent to recording and, separately stated, to biometric processing before recording"


def _prompt_played(f: _Facts) -> tuple[Verdict, str]:
    asked = f.all(EventKind.QUESTION_ASKED)
    if not asked:
        return R, "no question was asked"
    full: set[tuple[Any, Any]] = set()
    short: dict[tuple[Any, Any], str] = {}
    for e in f.all(EventKind.PROMPT_PLAYED):
        key = (e.payload.get("question_id"), e.payload.get("attempt"))
        if e.payload.get("played_in_full"):
            full.add(key)
        else:
            parts = e.payload.get("parts") or []
            short[key] = ", ".join(
                f"{p.get('role')} {p.get('played_s')} of {p.get('duration_s')} s"
                for p in parts
                if not p.get("full")
            )
    keys = [(e.payload.get("question_id"), e.payload.get("attempt")) for e in asked]
    silent = [e for e in asked if not e.payload.get("audio")]
    cut = [k for k in keys if k not in full and k in short]
    unreported = [k for k in keys if k not in full and k not in short]
    if cut:
        return F, "; ".join(f"{q} attempt {a} not played in full ({short[(q, a)]})" for q, a in cut)
    if silent:
        return R, f"{len(silent)} of {len(asked)} prompts have no audio recorded (text only)"
    if unreported:
        named = ", ".join(f"{q} attempt {a}" for q, a in unreported)
        return R, f"the page did not report playing {len(unreported)} of {len(asked)} prompts: {named}"
    return P, f"{len(asked)} prompts played in full, as the page reported against the recorded audio"


def _identity(f: _Facts) -> tuple[Verdict, str]:
    if EventKind.IDENTITY_VERIFIED in f.first:
        p = f.first[EventKind.IDENTITY_VERIFIED].payload
        return (
            P,
            f"identity verified (distance {p.get('distance', '?')}, threshold {p.get('threshold', '?')})",
        )
    if EventKind.IDENTITY_WAIVED in f.first:
        return R, f"identity check waived: {f.first[EventKind.IDENTITY_WAIVED].payload.get('reason', '')}"
    if EventKind.IDENTITY_FAILED in f.first:
        return F, "identity check failed"
    return F, "identity never verified"


def _liveness(f: _Facts) -> tuple[Verdict, str]:
    if EventKind.LIVENESS_PASSED in f.first:
        tries = len(f.all(EventKind.LIVENESS_ATTEMPT_FAILED)) + 1
        return P, f"liveness passed on attempt {tries}"
    if EventKind.LIVENESS_WAIVED in f.first:
        return R, f"liveness waived: {f.first[EventKind.LIVENESS_WAIVED].payload.get('reason', '')}"
    return F, "liveness not passed"


def _answers(f: _Facts) -> tuple[Verdict, str]:
    required = [q for q in f.s.template.questions if q.required and q.expects_answer]
    progress = f.s.progress
    outcome = {q.id: progress[q.id].outcome for q in required}
    failed = [q for q, o in outcome.items() if o is QuestionOutcome.FAILED]
    flagged = [q for q, o in outcome.items() if o is QuestionOutcome.FLAGGED]
    open_ = [q for q, o in outcome.items() if o is None or o is QuestionOutcome.PENDING]
    if failed or open_:
        return F, f"not affirmed: {', '.join(failed + open_)}"
    if flagged:
        return R, f"accepted only after review flag: {', '.join(flagged)}"
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
        return F, f"typed, not spoken, where the template requires spoken answers: {', '.join(typed)}"
    detail = f"{len(required)} required questions affirmed ({reasks} re-asks)"
    if typed:
        detail += f"; typed answers (the template allows them): {', '.join(typed)}"
    return P, detail


def _monitoring(f: _Facts) -> tuple[Verdict, str]:
    summaries = f.all(EventKind.MONITORING_SUMMARY)
    if not summaries:
        return F, "no face monitoring figures recorded"
    totals = monitoring_totals([e.payload for e in summaries])
    observed, ratio = totals["observed_s"], totals["face_present_ratio"]
    several, mismatch = totals["several_faces_s"], totals["mismatch_s"]
    t = f.s.template.monitoring
    detail = (
        f"face present {ratio:.1%} of {observed:.1f} s (minimum {t.min_face_present_ratio:.0%}); "
        f"several faces {several:.1f} s (limit {t.multiple_faces_seconds} s); "
        f"another person {mismatch:.1f} s (limit {t.mismatch_seconds} s)"
    )
    if (
        ratio < t.min_face_present_ratio
        or several > t.multiple_faces_seconds
        or mismatch > t.mismatch_seconds
    ):
        return F, detail
    return P, detail


def _signed_on_camera(f: _Facts) -> tuple[Verdict, str]:
    applied = f.first.get(EventKind.SIGNATURE_APPLIED)
    if applied is None:
        return F, "the documents were not signed"
    chunks = f.chunks()
    after = [c for c in chunks if f.index(c) > f.index(applied)]
    before = [c for c in chunks if f.index(c) < f.index(applied)]
    if not before or not after:
        return F, "no recording covers the moment of signing"
    return P, "recording chunks arrived before and after the signature"


def _recording(f: _Facts) -> tuple[Verdict, str]:
    closed = f.first.get(EventKind.RECORDING_CLOSED)
    if closed is None:
        return F, "no recording was uploaded" if not f.chunks() else "the recording was never closed"
    p = closed.payload
    if p.get("gaps"):
        return F, f"recording has gaps: {p['gaps']}"
    consent = f.first.get(EventKind.CONSENT_GIVEN)
    start = consent.at if consent is not None else f.events[0].at
    end = f.s.ended_at or closed.at
    span = (end - start).total_seconds()
    recorded = float(p.get("recorded_seconds", 0))
    if recorded + SYNC_TOLERANCE_S < span:
        return F, f"{recorded:.1f} s recorded for {span:.1f} s of session (from consent to the end)"
    for m in p.get("media") or []:
        if m.get("error"):
            return F, f"segment {m.get('segment')} cannot be read: {m['error']}"
        audio, video = m.get("audio_s"), m.get("video_s")
        if audio is None or video is None:
            return F, f"segment {m.get('segment')} has no {'audio' if audio is None else 'video'}"
        if abs(float(audio) - float(video)) > SYNC_TOLERANCE_S / 2:
            return F, f"segment {m.get('segment')}: audio {audio} s and video {video} s out of sync"
    by = p.get("closed_by")
    if by != "signer":
        return R, f"{p.get('chunks')} chunks, no gap, but the page did not close the recording ({by})"
    synced = f", audio and video in sync in {len(p['media'])} segment(s)" if p.get("media") else ""
    return P, f"{p.get('chunks')} chunks in {p.get('segments')} segments, {recorded:.1f} s, no gap{synced}"


def _answer_name(a: dict[str, Any]) -> str:
    heard = f" heard {a['transcript']!r}" if a.get("transcript") else " heard nothing"
    return f"{a.get('question_id')}#{a.get('attempt')} ({a.get('recording') or 'no verdict'},{heard})"


def _reconciled(f: _Facts) -> tuple[Verdict, str]:
    analysed = f.first.get(EventKind.RECORDING_ANALYSED)
    if analysed is None:
        if not f.chunks():
            return P, "nothing was recorded to re-check"
        return R, "the recording was not re-checked after the session (post-hoc analysis is off)"
    p = analysed.payload
    if p.get("errors"):
        return F, "; ".join(str(e) for e in p["errors"])[:500]
    accepted = [a for a in p.get("answers") or [] if a.get("live") == "ACCEPT"]
    contradicted = [a for a in accepted if a.get("recording") == "REJECT"]
    unconfirmed = [a for a in accepted if a.get("recording") not in ("ACCEPT", "REJECT")]
    if contradicted:
        names = ", ".join(_answer_name(a) for a in contradicted)
        return F, f"accepted live, but the recording says no: {names}"
    problems = []
    if unconfirmed:
        problems.append(
            f"accepted live, not confirmed by the recording: {', '.join(map(_answer_name, unconfirmed))}"
        )
    unplaced = [f"{q}#{n}" for q, n in p.get("unplaced_answers") or []]
    if unplaced:
        problems.append(f"answers no recording segment covers: {', '.join(unplaced)}")
    faces = p.get("faces") or {}
    for d in faces.get("disagreements") or []:
        problems.append(f"{d['measure']}: live {d['live']}, recording {d['recording']}")
    if problems:
        return R, "; ".join(problems)[:500]
    if not accepted and not faces:
        return P, "nothing to re-check: no spoken answer was accepted and no face was monitored live"
    seen = (faces.get("recording") or {}).get("frames")
    frames = f"; face figures agree over {seen} frames" if faces else ""
    return P, f"{len(accepted)} accepted answers heard again in the recording{frames}"


def _system_time(f: _Facts) -> tuple[Verdict, str]:
    times = [e.at for e in f.events]
    if any(b < a for a, b in itertools.pairwise(times)):
        return F, "event times go backwards"
    skewed = []
    for c in f.chunks():
        ended = int(c.payload.get("ended_ms") or 0)
        if ended and abs(ended / 1000 - c.at.timestamp()) > CLOCK_SKEW_S:
            skewed.append(int(c.payload.get("index", -1)))
    if skewed:
        return R, f"the signer's clock differs from system time by over {CLOCK_SKEW_S:.0f} s"
    return P, "every event stamped by the server clock, in order"


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
    RuleSpec("face_presence", "Signer on camera, no one else", f"{TRACE}: 现场同步录音录像", _monitoring),
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
        "system_time",
        "Session time system-stamped",
        "《电子签名法》第八条（数据电文的真实性审查）",
        _system_time,
    ),
)


def evaluate(session: SigningSession, rules: Sequence[RuleSpec] = RULES) -> QcResult:
    """The quality check of an ended session (a session still open cannot be judged)."""
    if session.current_state is None or session.current_state.is_open:
        raise ValueError("only an ended session can be quality-checked")
    facts = _Facts(session)
    results = []
    for spec in rules:
        verdict, detail = spec.check(facts)
        results.append(RuleResult(spec.rule, spec.title, spec.clause, verdict, detail))
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
