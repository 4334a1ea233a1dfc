"""The chain's canonical form of every event kind, as written before payloads were typed.

``tests/assets/events/every_kind.jsonl`` holds the canonical records (``{kind, version, seq, time,
payload, prev}``) and their SHA-256 / SM3 digests of sessions that, together, append every kind of
event. It was written by the code as it was before event payloads got their own types (the commit
that added it). The aggregate here drives the same sessions again: every record must come out byte for
byte the same, so a bundle sealed before the change and one sealed after hash their events alike.

``tests/assets/events/service_events.jsonl`` holds records the running service appended (one per kind
and shape of payload, captured from the integration tests before the change): they must load into
the aggregate's types as stored.
"""

from __future__ import annotations

import json
import types
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
import yaml

from dualsign.domain import recording
from dualsign.domain.events import EVENT_TYPES, QUESTION_ASKED
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import Template, parse_template
from dualsign_verify.canonical import canonical_json
from dualsign_verify.records import GENESIS, make_record, record_digests

ASSETS = Path(__file__).parents[2] / "assets" / "events"
GOLDEN = Path(__file__).parents[2] / "assets" / "bundles" / "insurance_cancelled.zip"  # sealed 2026-11-27
SCENARIOS = Path(__file__).parents[3] / "src" / "dualsign" / "scenarios"
EVERY_KIND = ASSETS / "every_kind.jsonl"
T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
H = "ab" * 32  # a SHA-256 the scenario stores (content does not matter to the chain's form)


def _hex(n: int) -> str:
    return f"{n:064x}"


TEMPLATE: dict[str, Any] = {
    "key": "canonical-form",
    "title": "每一种事件",
    "scenario": "bank_loan",
    "language": "zh-CN",
    "consent": {"recording": "本次办理全程录音录像", "biometric": "同意人脸识别"},
    "identity": {"required": True, "max_attempts": 2},
    "liveness": {"required": True, "max_attempts": 2, "count": 2},
    "variables": [
        {"name": "amount", "type": "money", "label": "借款金额"},
        {"name": "rate", "type": "percent", "label": "年化利率"},
    ],
    "documents": {"review_required": True, "read_to_end": True, "min_review_seconds": 5},
    "questions": [
        {
            "id": "notice",
            "category": "verbatim_regulatory",
            "prompt": "以下内容请认真听取。",
            "expects_answer": False,
        },
        {
            "id": "q1",
            "category": "informed_confirmation",
            "prompt": "您本次借款金额为{amount}，年化利率为{rate}，请问您是否确认？",
            "acceptable": ["确认"],
        },
        {
            "id": "q2",
            "category": "other",
            "prompt": "是否自愿？",
            "acceptable": ["是"],
            "max_attempts": 2,
            "on_fail": "manual_review",
        },
        {"id": "q3", "category": "risk_disclosure", "prompt": "您是否知晓风险？", "acceptable": ["知晓"]},
    ],
}
VALUES = {"amount": "500000", "rate": "3.85"}
DETAILS: dict[str, Any] = {
    "tenant_id": "ten_0123456789abcdef01234567",
    "signer_name": "张三",
    "signer_id_masked": "1101**********002X",
    "signer_id_hmac": "a37b934519b7c7112193447f0f9a65b15ce9eab22ac1701a57230ed59a29b32e",
    "expires_at": "2026-12-02T09:30:00+00:00",
    "contract_term_months": 36,
    "continues_session": None,
    "external_ref": "LOAN-2026-0001",
    "summary": "个人消费贷款",
}
IDENTITY = {
    "method": "face_1to1",
    "code": "matched",
    "reason": "matches the ID photo",
    "distances": [0.3642, 0.367, 0.3648],
    "threshold": 0.5,
    "frames": 5,
    "good_frames": 3,
    "median_distance": 0.3648,
}
IDENTITY_FAILED = {
    "method": "face_1to1",
    "code": "poor_frames",
    "reason": "0 usable frames of 3 needed",
    "distances": [],
    "threshold": 0.5,
    "frames": 5,
    "good_frames": 0,
    "median_distance": None,
}
STEPS = [
    {"action": "blink", "start_s": 0.0, "end_s": 3.0},
    {"action": "open_mouth", "start_s": 3.0, "end_s": 6.0},
]


def liveness(passed: bool) -> dict[str, Any]:
    return {
        "mode": "action",
        "frames": 60,
        "steps": [
            {"action": "blink", "passed": passed, "reason": "eyes closed and reopened", "measured": 0.491},
            {"action": "open_mouth", "passed": passed, "reason": "mouth opened", "measured": 0.348},
        ],
        "frame_sha256": _hex(7),
    }


def audio(role: str, n: int, seconds: float, text: str) -> dict[str, Any]:
    return {
        "role": role,
        "sha256": _hex(n),
        "engine": "espeak-ng",
        "voice": "cmn@150wpm",
        "duration_s": seconds,
        "text": text,
    }


def accepted(phrase: str) -> MatchResult:
    return MatchResult(Verdict.ACCEPT, "accepted", phrase, phrase, "exact", f"said {phrase!r}")


def unclear(said: str) -> MatchResult:
    return MatchResult(Verdict.UNCLEAR, "no_match", said, None, None, "no acceptable phrase heard")


SPEECH = {
    "input": "speech",
    "audio_sha256": _hex(21),
    "speech_start_ms": 512,
    "speech_end_ms": 2016,
    "endpoint_wait_ms": 608,
    "engine": "faster-whisper",
    "model": "whisper-base",
    "confidence": 0.5827,
    "no_speech_prob": 0.2565,
    "asr_compute_s": 0.1625,
}


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self, seconds: float = 1.0) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


def template() -> Template:
    return parse_template(json.loads(json.dumps(TEMPLATE)), "canonical-form")


def signed_session(at: Clock) -> SigningSession:
    """Every step of a session that is signed, recorded, checked, sealed, reviewed, held and deleted."""
    s = SigningSession("ses_every_kind", template())
    s.create(at(), {**DETAILS, "speech_warnings": ["zh: no recogniser for this language"]}, VALUES)
    s.store_artifact(
        at(), role="identity_photo", sha256=_hex(1), sm3=_hex(2), size=36930, media_type="image/jpeg"
    )
    placements = [{"role": "signer", "page": 0, "box": [72.0, 56.0, 232.0, 120.0]}]
    s.store_artifact(
        at(),
        role="document",
        sha256=H,
        sm3=_hex(3),
        size=2053,
        media_type="application/pdf",
        placements=placements,
    )
    s.open(at(), {"user_agent": "Mozilla/5.0", "language": "zh-CN"})
    s.give_consent(at())
    s.store_recording_chunk(at(), recording.Chunk(0, 0, _hex(4), 4096, 1795000000000, 1795000002000), _hex(5))
    s.store_artifact(at(), role="face_snapshot", sha256=_hex(6), sm3=None, size=1200, media_type="image/jpeg")
    s.record_identity(at(), passed=False, details=IDENTITY_FAILED)
    s.record_identity(at(), passed=True, details={**IDENTITY, "snapshot_sha256": _hex(6)})
    s.issue_challenge(at(), steps=STEPS)
    s.record_liveness(at(), passed=False, details=liveness(False))
    s.issue_challenge(at(), steps=STEPS)
    s.record_liveness(at(), passed=True, details=liveness(True))
    s.warn(
        at(),
        warning="no_face",
        details={
            "since_s": 3.0,
            "raised_at_s": 4.5,
            "after_s": 1.5,
            "stream_time_s": 4.5,
            "snapshot_sha256": _hex(6),
        },
    )
    # the statement: played in part, then in full
    s.ask(at(), audio=[audio("question", 10, 2.5, "以下内容请认真听取。")])
    part = {"sha256": _hex(10), "played_s": 1.25, "ended": False}
    s.report_playback(at(), question_id="notice", attempt=1, parts=[part])
    s.report_playback(
        at(), question_id="notice", attempt=1, parts=[{**part, "played_s": 2.5, "ended": True}], rate=1.25
    )
    # q1: asked, repeated, not understood, asked again with its reminder, accepted
    prompt = s.next_prompt()
    assert prompt is not None
    s.ask(at(), audio=[audio("question", 11, 6.0, prompt.text)])
    s.repeat_question(at())
    s.answer(at(), transcript="什么", result=unclear("什么"), evidence=SPEECH)
    prompt = s.next_prompt()
    assert prompt is not None and prompt.reminder
    s.ask(
        at(),
        audio=[audio("reminder", 12, 3.0, prompt.reminder), audio("question", 11, 6.0, prompt.question_text)],
    )
    s.answer(at(), transcript="确认", result=accepted("确认"), evidence=SPEECH)
    # q2: nothing heard, then the recogniser fails: sent to manual review
    s.ask(at(), audio=[audio("question", 13, 1.5, "是否自愿？")])
    s.answer(at(), transcript=None, result=None, evidence={"input": "speech"})
    s.ask(at(), audio=[])
    s.answer(at(), transcript=None, result=None, evidence={"input": "speech"}, failure="TimeoutError: asr")
    # q3: a nod
    s.ask(at(), audio=[audio("question", 14, 2.0, "您是否知晓风险？")])
    nod = MatchResult(Verdict.ACCEPT, "nod", "", None, "nod", "nodded (pitch swing 0.244 over 8 frames)")
    s.answer(at(), transcript=None, result=nod, evidence={"input": "nod", "frames": 8})
    s.view_document(at(), document=H, page=1, pages=2)
    s.view_document(at(), document=H, page=2, pages=2)
    s.finish_review(at(10), [H])
    s.sign_document(
        at(),
        role="signer",
        document=0,
        source_sha256=H,
        field="Signer1_ses_every_kind",
        page=1,
        box=[72.0, 93.72, 222.0, 153.72],
        certificate_serial="494ea3b8800cbe033034e6a5ebfc16877048c200",
        certificate_subject="CN=张三,O=DualSign event certificate",
        level="B-T",
        chain_head=_hex(30),
        revision_sha256=_hex(31),
        revision_size=36068,
    )
    s.sign_document(
        at(),
        role="institution",
        document=0,
        source_sha256=H,
        field="Institution1_ses_every_kind",
        page=1,
        box=[340.0, 56.0, 500.0, 120.0],
        certificate_serial="5e",
        certificate_subject="CN=某银行",
        level="B-T",
        chain_head=_hex(32),
        revision_sha256=_hex(33),
        revision_size=40000,
    )
    s.sign(at(), {"documents": [_hex(34)], "level": "B-T", "mark_sha256": None})
    stats = {
        "observed_s": 62.5,
        "face_present_ratio": 0.9812,
        "longest_absence_s": 1.5,
        "several_faces_s": 0.0,
        "mismatch_s": 0.0,
        "frames": 125,
        "warnings": {"no_face": 1},
        "presence": [[0.0, 3.0, "signer"], [3.0, 4.5, "none"], [4.5, 62.5, "signer"]],
        "started_ms": 1795000000000,
        "frames_skipped": 2,
    }
    s.summarize_monitoring(at(), stats)
    s.store_recording_chunk(at(), recording.Chunk(0, 2, _hex(8), 4096, 1795000004000, 1795000006000), _hex(9))
    s.close_recording(
        at(), by="signer", declared={0: 3}, media=[{"segment": 0, "audio_s": 6.0, "video_s": 5.96}]
    )
    s.record_recording_analysis(
        at(),
        {
            "answers": [
                {
                    "question_id": "q1",
                    "attempt": 2,
                    "segment": 0,
                    "window_s": [40.5, 44.0],
                    "live": "ACCEPT",
                    "recording": "ACCEPT",
                    "transcript": "确认",
                    "speech_s": 0.8,
                    "engine": "whisper-base",
                    "error": None,
                }
            ],
            "unplaced_answers": [["q2", 1]],
            "faces": {"segments": 1, "face_present_ratio": 0.97},
            "errors": [],
            "compute_s": 3.215,
        },
    )
    s.record_qc(
        at(),
        {
            "ruleset": "qc-2026.12.3",
            "verdict": "NEEDS_REVIEW",
            "rules": [
                {
                    "rule": "recording_complete",
                    "title": "Recording without gaps",
                    "clause": "《保险销售行为可回溯管理暂行办法》第七条",
                    "verdict": "NEEDS_REVIEW",
                    "detail": "chunk 1 of segment 0 is missing",
                }
            ],
        },
    )
    s.seal(at(), manifest_sha256=_hex(40), log_index=7, merkle_root=_hex(41), tsa_mode="self-attested")
    s.decide_review(at(), decision="approve", comment="看过录像", by="alice", role="reviewer")
    s.decide_review(
        at(),
        decision="reject",
        comment="0:42 人脸遮挡",
        by="bob",
        role="reviewer",
        override_reason="漏看遮挡",
    )
    s.place_hold(at(), reason="court case 2033-17", by="integrator")
    s.release_hold(at(), reason="case closed", by="integrator")
    s.tombstone(
        at(),
        deleted=[_hex(1), _hex(4)],
        kept_shared=[H],
        reason="retention over",
        by="integrator",
        retain_until="2031-12-01T09:30:00+00:00",
    )
    return s


def short_sessions(at: Clock) -> Iterator[SigningSession]:
    """The other ways a session ends."""
    t = template()
    minimal = {"signer_name": "李四", "simulation": True}

    refused = SigningSession("ses_refused", t)
    refused.create(at(), minimal, VALUES)
    refused.open(at())
    refused.refuse_consent(at(), "不同意录像")
    refused.record_sealing_failure(at(), reason="TimestampRequestError: the TSA did not answer")
    refused.seal(at(), manifest_sha256=_hex(50), log_index=8, merkle_root=_hex(51), tsa_mode="rfc3161")
    yield refused

    identity = SigningSession("ses_identity", t)
    identity.create(at(), minimal, VALUES)
    identity.open(at())
    identity.give_consent(at())
    identity.record_identity(at(), passed=False, details=IDENTITY_FAILED)
    identity.record_identity(at(), passed=False, details=IDENTITY_FAILED)
    yield identity

    live = SigningSession("ses_liveness", t)
    live.create(at(), minimal, VALUES)
    live.open(at())
    live.give_consent(at())
    live.record_identity(at(), passed=True, details=IDENTITY)
    for _ in range(2):
        live.issue_challenge(at(), steps=STEPS)
        live.record_liveness(at(), passed=False, details=liveness(False))
    yield live

    question = SigningSession("ses_question", t)
    question.create(at(), minimal, VALUES)
    question.open(at())
    question.give_consent(at(), waive_vision_reason="text-mode simulation")
    question.ask(at())
    question.report_playback(at(), question_id="notice", attempt=1, parts=[], source="simulation")
    for _ in range(3):
        question.ask(at())
        question.answer(at(), transcript="不", result=unclear("不"), evidence={"input": "text"})
    yield question

    for ending in ("cancel", "expire", "fail"):
        s = SigningSession(f"ses_{ending}", t)
        s.create(at(), minimal, VALUES)
        s.open(at())
        if ending == "cancel":
            s.cancel(at(), reason="客户撤回", by="integrator")
        elif ending == "expire":
            s.expire(at())
        else:
            s.give_consent(at())
            s.fail(at(), reason="the camera stopped")
        yield s


def sessions() -> list[SigningSession]:
    at = Clock()
    return [signed_session(at), *short_sessions(at)]


def chain(events: list[Event]) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each event's canonical record with its digests, linked as the evidence log links them."""
    prev = GENESIS
    for seq, e in enumerate(events, 1):
        time = e.at.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
        record = make_record(kind=e.kind.value, seq=seq, time=time, payload=dict(e.payload), prev=prev)
        d = record_digests(record)
        yield record, d.sha256, d.sm3
        prev = d.sha256


def lines() -> list[str]:
    """The fixture's lines, as this code writes them."""
    out = []
    for s in sessions():
        for record, sha256, sm3 in chain(s.events):
            line = {"session": s.id, "record": record, "sha256": sha256, "sm3": sm3}
            out.append(json.dumps(line, ensure_ascii=False, sort_keys=True))
    return out


def test_the_scenario_appends_every_kind_of_event() -> None:
    kinds = {e.kind for s in sessions() for e in s.events}
    assert kinds == set(EventKind)


def test_every_record_has_the_bytes_and_digests_it_had_before_payloads_were_typed() -> None:
    stored = EVERY_KIND.read_text(encoding="utf-8").splitlines()
    made = lines()
    assert len(made) == len(stored)
    for now, before in zip(made, stored, strict=True):
        was, is_ = json.loads(before), json.loads(now)
        assert canonical_json(is_["record"]) == canonical_json(was["record"]), was["record"]["kind"]
        assert (is_["sha256"], is_["sm3"]) == (was["sha256"], was["sm3"])
    assert made == stored


def test_the_fixture_digests_are_those_of_its_records() -> None:
    """The fixture itself is what the verifier would recompute (guards against a hand-edited file)."""
    for line in EVERY_KIND.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        d = record_digests(item["record"])
        assert (d.sha256, d.sm3) == (item["sha256"], item["sm3"])


def test_a_replayed_session_holds_the_same_events() -> None:
    for s in sessions():
        again = SigningSession.replay(
            s.id, s.template, [Event(e.kind, e.at, json.loads(json.dumps(e.payload))) for e in s.events]
        )
        assert again.current_state is s.current_state
        assert [canonical_json(dict(e.payload)) for e in again.events] == [
            canonical_json(dict(e.payload)) for e in s.events
        ]


def test_the_service_records_are_what_their_digests_cover() -> None:
    for line in (ASSETS / "service_events.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        d = record_digests(item["record"])
        assert (d.sha256, d.sm3) == (item["sha256"], item["sm3"])


# --- the payload types describe what is stored -------------------------------------------------------


def problems(value: Any, hint: Any, where: str) -> list[str]:
    """How ``value`` (decoded JSON) departs from the type ``hint`` (a payload type or part of one)."""
    if is_typeddict(hint):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        fields = get_type_hints(hint)
        out = [f"{where}.{k}: missing" for k in sorted(hint.__required_keys__) if k not in value]
        out += [f"{where}.{k}: not declared" for k in value if k not in fields]
        for k, v in value.items():
            if k in fields:
                out += problems(v, fields[k], f"{where}.{k}")
        return out
    origin = get_origin(hint)
    if hint is object:
        return []
    if origin in (Union, types.UnionType):
        alternatives = [problems(value, h, where) for h in get_args(hint)]
        return [] if any(not a for a in alternatives) else min(alternatives, key=len)
    if origin is list:
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [p for i, v in enumerate(value) for p in problems(v, get_args(hint)[0], f"{where}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        return [p for k, v in value.items() for p in problems(v, get_args(hint)[1], f"{where}.{k}")]
    if hint is type(None):
        return [] if value is None else [f"{where}: {value!r} is not null"]
    if hint is float:  # a JSON number: 2 is as good a float as 2.0
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not an integer"]
    return [] if isinstance(value, hint) else [f"{where}: {value!r} is not {hint.__name__}"]


def stored_records() -> list[tuple[str, dict[str, Any]]]:
    """Records from every source the repository keeps: the scenario's, the service's, the golden bundle's."""
    out = []
    for name in ("every_kind.jsonl", "service_events.jsonl"):
        for line in (ASSETS / name).read_text(encoding="utf-8").splitlines():
            out.append((name, json.loads(line)["record"]))
    with zipfile.ZipFile(GOLDEN) as z:
        for line in z.read("events.jsonl").decode().splitlines():
            out.append((GOLDEN.name, json.loads(line)))
    return out


def test_every_kind_has_one_payload_type_of_its_own() -> None:
    assert set(EVENT_TYPES) == set(EventKind)
    assert all(t.kind is kind for kind, t in EVENT_TYPES.items())
    assert len({t.payload for t in EVENT_TYPES.values()}) == len(EventKind)


def test_every_stored_payload_is_of_its_kinds_type() -> None:
    """Old and new records, made by the scenario, by the service and (2026-11-27) by the golden bundle's
    seal: each payload has the keys its type requires, no key it does not declare, values of the
    declared types, nested items included."""
    seen = set()
    for source, record in stored_records():
        kind = EventKind(record["kind"])
        seen.add(kind)
        found = problems(record["payload"], EVENT_TYPES[kind].payload, f"{source} #{record['seq']} {kind}")
        assert not found, found
    assert seen == set(EventKind)


def test_the_checker_finds_what_departs_from_a_type() -> None:
    """The check above can fail: a missing key, an undeclared one and a wrong value are each named."""
    asked = QUESTION_ASKED.payload
    good = {"question_id": "q1", "attempt": 1, "text": "?", "reminder": None, "expects_answer": True}
    assert problems({**good, "audio": []}, asked, "p") == []
    assert problems(good, asked, "p") == ["p.audio: missing"]
    assert problems({**good, "audio": [], "colour": "red"}, asked, "p") == ["p.colour: not declared"]
    assert "p.audio[0].role: 1 is not str" in problems({**good, "audio": [{"role": 1}]}, asked, "p")
    assert problems({**good, "audio": [], "attempt": True}, asked, "p") == [
        "p.attempt: True is not an integer"
    ]


def events_of(records: list[dict[str, Any]]) -> list[Event]:
    """Events as the service reads them back from storage (``evidence_log.to_domain``)."""
    return [
        Event(EventKind(r["kind"]), datetime.fromisoformat(r["time"].replace("Z", "+00:00")), r["payload"])
        for r in records
    ]


def test_the_stored_sessions_load_into_the_aggregate_as_they_were() -> None:
    by_session: dict[str, list[dict[str, Any]]] = {}
    for line in EVERY_KIND.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        by_session.setdefault(item["session"], []).append(item["record"])
    states = {}
    for session_id, records in by_session.items():
        s = SigningSession.replay(session_id, template(), events_of(records))
        states[session_id] = s.current_state
        assert list(chain(s.events)) == [
            (r, record_digests(r).sha256, record_digests(r).sm3) for r in records
        ]
    assert states == {
        "ses_every_kind": SessionState.SEALED,
        "ses_refused": SessionState.REFUSED,
        "ses_identity": SessionState.FAILED,
        "ses_liveness": SessionState.FAILED,
        "ses_question": SessionState.FAILED,
        "ses_cancel": SessionState.CANCELLED,
        "ses_expire": SessionState.EXPIRED,
        "ses_fail": SessionState.FAILED,
    }
    signed = SigningSession.replay("ses_every_kind", template(), events_of(by_session["ses_every_kind"]))
    assert signed.variables == {"amount": "人民币伍拾万元整", "rate": "百分之三点八五"}
    assert signed.signed_documents == [H] and signed.holds == 0 and signed.sealed
    assert signed.flagged_questions == ["q2"] and signed.recording_closed


def test_the_golden_bundles_events_sealed_before_typed_payloads_load() -> None:
    """A session sealed on 2026-11-27 (its ``session_created`` has no ``continues_session``, which later
    versions write): it replays and its records come out as they are in the bundle."""
    with zipfile.ZipFile(GOLDEN) as z:
        records = [json.loads(line) for line in z.read("events.jsonl").decode().splitlines()]
    doc = yaml.safe_load((SCENARIOS / "insurance-epolicy-zh.yaml").read_text(encoding="utf-8"))
    s = SigningSession.replay("golden", parse_template(doc, "insurance-epolicy-zh"), events_of(records))
    assert s.current_state is SessionState.CANCELLED
    assert "continues_session" not in s.events[0].payload
    assert [r for r, _, _ in chain(s.events)] == records


def test_reading_an_event_as_another_kind_is_refused() -> None:
    event = Event(EventKind.QUESTION_PASSED, T0, {"question_id": "q1", "attempts": 1})
    with pytest.raises(ValueError, match="question_passed event read as question_asked"):
        QUESTION_ASKED.of(event)
