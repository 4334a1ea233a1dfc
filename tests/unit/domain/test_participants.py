"""Participants: a template that puts an agent on camera with the signer — its parsing, the monitoring
rules for one, two and three faces in both modes, the agent's introduction, and the quality check."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dualsign.domain.errors import TemplateInvalid
from dualsign.domain.event_payloads import IdentityCheck
from dualsign.domain.matching import match
from dualsign.domain.monitoring import FaceMonitor, Observation, WarningKind
from dualsign.domain.participants import Agent, judge_introduction, name_heard, number_heard
from dualsign.domain.qc import Verdict, evaluate
from dualsign.domain.templates import Monitoring, Participant, Template, parse_template
from tests.unit.domain.test_session import DOC, Driver

INTRO = {
    "id": "agent_intro",
    "category": "informed_confirmation",
    "speaker": "agent",
    "prompt": "请销售人员说出您的姓名和执业证编号，并向镜头出示执业证件。",
}
AGENT = Agent("销售人员", "李四", "0200014400008000", "b" * 64)


def agent_template(**changes: Any) -> Template:
    doc = yaml.safe_load(yaml.safe_dump(DOC))
    doc["participants"] = ["signer", "agent"]
    doc["agent"] = {"label": "销售人员"}
    doc["questions"] = [INTRO, *doc["questions"]]
    doc.update(changes)
    return parse_template(doc, "unit")


# --- the template ------------------------------------------------------------------------------------


def test_the_signer_alone_is_the_default_and_keeps_the_content_hash() -> None:
    plain = parse_template(yaml.safe_load(yaml.safe_dump(DOC)), "unit")
    said = parse_template({**yaml.safe_load(yaml.safe_dump(DOC)), "participants": "signer"}, "unit")
    assert plain.participants == said.participants == (Participant.SIGNER,)
    assert not plain.has_agent and plain.agent is None
    assert plain.content_hash() == said.content_hash()  # older templates keep their version ids
    assert "participants" not in plain.to_document() and "speaker" not in plain.to_document()["questions"][0]


def test_an_agent_template_parses_and_round_trips() -> None:
    t = agent_template()
    assert t.has_agent and t.agent is not None and t.agent.label == "销售人员"
    assert t.questions[0].speaker is Participant.AGENT
    again = parse_template(t.to_document(), "again")
    assert again.content_hash() == t.content_hash() != parse_template(DOC, "plain").content_hash()


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"agent": None}, "", "needs its role"),
        ({"participants": "signer"}, "", "participants declares no agent"),
        ({"participants": ["agent", "signer"]}, "", "signer, or [signer, agent]"),
        ({"participants": ["signer", "seller"]}, "participants.1", "Input should be"),
        ({"questions": DOC["questions"]}, "", "first question, and only it"),
        ({"questions": [*DOC["questions"][:1], INTRO, *DOC["questions"][1:]]}, "", "first question"),
    ],
)
def test_a_wrong_declaration_names_the_problem(changes: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(TemplateInvalid) as exc:
        agent_template(**changes)
    assert any(p.path == field and words in p.reason for p in exc.value.problems), exc.value.problems


def test_the_introduction_lists_no_answers_and_is_spoken() -> None:
    for extra in ({"acceptable": ["是"]}, {"answer_modes": ["speech", "nod"]}, {"expects_answer": False}):
        with pytest.raises(TemplateInvalid) as exc:
            agent_template(questions=[{**INTRO, **extra}, *DOC["questions"]])
        assert any("questions.0" in p.path for p in exc.value.problems), exc.value.problems


def test_a_signer_template_cannot_have_an_agent_speak() -> None:
    doc = {**yaml.safe_load(yaml.safe_dump(DOC)), "questions": [INTRO, *DOC["questions"]]}
    with pytest.raises(TemplateInvalid) as exc:
        parse_template(doc, "unit")
    assert "speaker agent but participants declares none" in str(exc.value.problems)


# --- monitoring: 1, 2 and 3 faces, signer alone and with the agent ------------------------------------


def watch(expected: int, faces: int, **who: bool | None) -> tuple[set[WarningKind], dict[str, Any]]:
    """Six seconds of one situation at 2 fps after two seconds of the declared people on camera."""
    m = FaceMonitor(Monitoring(), expected)
    raised: set[WarningKind] = set()
    normal = {"signer": True, "agent": True} if expected == 2 else {"signer": True}
    for i in range(16):
        now = (faces, who) if i >= 4 else (expected, normal)
        raised |= {w.kind for w in m.observe(Observation(t=i / 2, faces=now[0], **now[1]))}
    return raised, dict(m.stats.to_dict(("signer", "agent") if expected == 2 else ("signer",)))


@pytest.mark.parametrize(
    ("expected", "faces", "who", "warned"),
    [
        (1, 1, {"signer": True}, set()),
        (1, 2, {}, {WarningKind.SEVERAL_FACES}),
        (1, 3, {}, {WarningKind.SEVERAL_FACES}),
        (1, 1, {"signer": False}, {WarningKind.NOT_THE_SIGNER}),
        (2, 2, {"signer": True, "agent": True}, set()),
        (2, 1, {"signer": True, "agent": False}, {WarningKind.PARTY_MISSING}),  # the agent left
        (2, 1, {"signer": False, "agent": True}, {WarningKind.PARTY_MISSING}),  # the signer left
        (2, 3, {}, {WarningKind.EXTRA_FACE}),
        (2, 2, {"signer": True, "agent": False}, {WarningKind.UNKNOWN_FACE}),  # someone else sits down
        (2, 1, {"signer": False, "agent": False}, {WarningKind.PARTY_MISSING, WarningKind.UNKNOWN_FACE}),
        (2, 0, {}, {WarningKind.NO_FACE}),
    ],
)
def test_warnings_follow_the_declared_participants(
    expected: int, faces: int, who: dict[str, bool], warned: set[WarningKind]
) -> None:
    raised, _ = watch(expected, faces, **who)
    assert raised == warned


def test_figures_with_the_agent_count_the_time_both_were_on_camera() -> None:
    _, both = watch(2, 2, signer=True, agent=True)
    assert both["face_present_ratio"] == 1.0 and both["several_faces_s"] == 0 and both["missing_s"] == 0
    assert both["participants"] == ["signer", "agent"]
    assert {run[2] for run in both["presence"]} == {"both"}
    _, left = watch(2, 1, signer=True, agent=False)
    assert left["missing_s"] == 6.0 and left["face_present_ratio"] < 0.3
    assert left["presence"][-1][2] == "signer"  # the signer stayed, the agent left
    _, third = watch(2, 3)
    assert third["several_faces_s"] == 6.0 and third["presence"][-1][2] == "several"
    _, alone = watch(1, 1, signer=True)
    assert "participants" not in alone and "missing_s" not in alone  # the signer-alone form is unchanged


# --- the introduction ----------------------------------------------------------------------------------


def test_the_introduction_is_accepted_once_heard_and_records_what_was_recognised() -> None:
    said = "我是销售人员李四，执业证编号0200014400008000，这是我的执业证。"
    result = judge_introduction(said, AGENT, "zh")
    assert result.verdict.value == "ACCEPT" and result.rule == "introduction_complete"
    homophone = judge_introduction("我是李思，证件号码零二零零零一四四零零零零八零零零", AGENT, "zh")
    assert homophone.rule == "introduction_complete"  # same pinyin, digits read as numerals
    assert judge_introduction("我是李四", AGENT, "zh").rule == "introduction_name_only"
    assert judge_introduction("您好，这是我的证件", AGENT, "zh").rule == "introduction_unconfirmed"
    assert judge_introduction("。", AGENT, "zh").verdict.value == "UNCLEAR"


def test_a_masked_number_is_compared_on_its_visible_ends() -> None:
    assert number_heard("号码 1101 0519 4912 3100 2X", "1101**********002X")
    assert not number_heard("号码 3201 0519 4912 3100 2X", "1101**********002X")
    assert name_heard("my name is Jane Doe", "Jane Doe", "en") and not name_heard("Jane", "Jane Doe", "en")


# --- the quality check ---------------------------------------------------------------------------------

FIGURES: dict[str, Any] = {
    "observed_s": 60.0,
    "face_present_ratio": 0.97,
    "longest_absence_s": 0.0,
    "several_faces_s": 0.0,
    "mismatch_s": 0.0,
    "frames": 120,
    "warnings": {},
    "presence": [[0.0, 60.0, "both"]],
    "started_ms": 0,
}


def agent_session(identity: IdentityCheck, introduction: str, figures: dict[str, Any]) -> dict[str, Any]:
    d = Driver.__new__(Driver)
    from dualsign.domain.session import SigningSession
    from tests.unit.domain.test_session import T0

    d.s, d.t = SigningSession("ses_a", agent_template(identity={"required": True})), T0
    agent = {"label": "销售人员", "name": "李四", "number": "0200014400008000", "photo_sha256": "b" * 64}
    d.s.create(d.tick(), {"signer_name": "张三", "agent": agent})  # type: ignore[typeddict-item]
    d.s.open(d.tick())
    d.s.give_consent(d.tick())
    d.s.record_identity(d.tick(), passed=True, details=identity)
    d.ask()
    assert d.s.agent == AGENT and d.s.current_question is not None
    d.s.answer(d.tick(), transcript=introduction, result=judge_introduction(introduction, AGENT, "zh"))
    for text in ("知道", "是", "没有"):  # the signer's questions, affirmed
        d.ask()
        q = d.s.current_question
        assert q is not None
        d.s.answer(d.tick(), transcript=text, result=match(text, q.acceptable, q.rejections, "zh"))
    d.s.summarize_monitoring(d.tick(), figures)  # type: ignore[arg-type]
    d.s.cancel(d.tick(), reason="test", by="integrator")
    return {r.rule: r for r in evaluate(d.s).rules}


CHECKED: IdentityCheck = {
    "method": "face_1to1",
    "code": "matched",
    "reason": "",
    "distances": [0.31, 0.35, 0.33],
    "threshold": 0.5,
    "frames": 5,
    "good_frames": 3,
    "median_distance": 0.33,
    "agent": {"distances": [0.2, 0.42, 0.3], "median_distance": 0.3},
}
WITH_AGENT = {**FIGURES, "participants": ["signer", "agent"], "missing_s": 1.5}


def test_two_known_faces_pass_face_presence_and_both_identities_are_reported() -> None:
    rules = agent_session(CHECKED, "我是李四，执业证编号0200014400008000", WITH_AGENT)
    face = rules["face_presence"]
    assert face.verdict is Verdict.PASS and face.finding == "monitoring_with_agent", face.detail
    assert "both on camera 97.0% of 60.0 s" in face.detail and "away 1.5 s" in face.detail
    identity = rules["identity_verified"]
    assert identity.verdict is Verdict.PASS and "signer 0.350, agent 0.420" in identity.detail
    assert rules["answers_affirmed"].verdict is Verdict.PASS


def test_faces_watched_for_the_signer_alone_fail_an_agent_session() -> None:
    rules = agent_session(CHECKED, "我是李四", FIGURES)
    assert rules["face_presence"].verdict is Verdict.FAIL
    assert rules["face_presence"].finding == "monitoring_without_agent"


def test_a_third_face_or_the_agent_away_too_long_fails() -> None:
    third = agent_session(CHECKED, "我是李四", {**WITH_AGENT, "several_faces_s": 4.0})
    assert (
        third["face_presence"].verdict is Verdict.FAIL
        and "a third face 4.0 s" in third["face_presence"].detail
    )
    away = agent_session(CHECKED, "我是李四", {**WITH_AGENT, "face_present_ratio": 0.6, "missing_s": 24.0})
    assert away["face_presence"].verdict is Verdict.FAIL


def test_identity_without_the_agent_compared_fails() -> None:
    alone: IdentityCheck = {k: v for k, v in CHECKED.items() if k != "agent"}  # type: ignore[assignment]
    rules = agent_session(alone, "我是李四", WITH_AGENT)
    assert rules["identity_verified"].verdict is Verdict.FAIL
    assert rules["identity_verified"].finding == "agent_not_verified"


def test_an_introduction_without_the_name_or_number_goes_to_a_person() -> None:
    rules = agent_session(CHECKED, "您好，这是我的证件", WITH_AGENT)
    answers = rules["answers_affirmed"]
    assert answers.verdict is Verdict.NEEDS_REVIEW and "您好，这是我的证件" in answers.detail
