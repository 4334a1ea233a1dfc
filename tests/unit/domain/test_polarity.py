"""Expected polarity per question: natural yes/no vocabularies, fail-safe both ways, in text and audio."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dualsign.domain.acoustic import Scored, candidates, decide
from dualsign.domain.errors import TemplateInvalid
from dualsign.domain.matching import Verdict, match
from dualsign.domain.retention import PERMANENT_UNTIL, may_delete, retain_until
from dualsign.domain.templates import (
    Expects,
    Language,
    Question,
    Retention,
    answers,
    parse_template,
    reminder_text,
)

FORCED_ZH = Question(id="q", category="other", prompt="请问是否有人强迫您办理？", expects="deny")
CLEAR_ZH = Question(id="q", category="other", prompt="请问您是否清楚？", acceptable=("知晓",))
FORCED_EN = Question(id="q", category="other", prompt="Has anyone forced you?", expects="deny")


def _verdict(q: Question, answer: str, family: str = "zh") -> Verdict:
    fam = "zh" if family == "zh" else "en"
    acc, rej = answers(q, fam)
    return match(answer, acc, rej, fam).verdict


@pytest.mark.parametrize("answer", ["没人", "没", "没有", "都没有", "没有人", "没有没有", "不是"])
def test_a_no_answers_a_question_that_expects_no(answer: str) -> None:
    assert _verdict(FORCED_ZH, answer) is Verdict.ACCEPT


@pytest.mark.parametrize("answer", ["有", "有人", "是", "是的", "对", "好的", "有人强迫我", "没问题", "没错"])
def test_a_yes_to_has_anyone_forced_you_is_never_accepted(answer: str) -> None:
    assert _verdict(FORCED_ZH, answer) is not Verdict.ACCEPT


@pytest.mark.parametrize("answer", ["对", "好的", "了解", "没问题", "明白", "可以", "知晓", "是的我清楚了"])
def test_natural_affirmations_answer_a_yes_question_without_being_listed(answer: str) -> None:
    assert _verdict(CLEAR_ZH, answer) is Verdict.ACCEPT


@pytest.mark.parametrize("answer", ["没有", "不了解", "不清楚", "没人", "不是"])
def test_a_no_to_a_yes_question_is_never_accepted(answer: str) -> None:
    assert _verdict(CLEAR_ZH, answer) is not Verdict.ACCEPT


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("no", True),
        ("nobody", True),
        ("not at all", True),
        ("yes", False),
        ("yes someone did", False),
        ("sure", False),
        ("no problem", False),
    ],
)
def test_english_deny(answer: str, ok: bool) -> None:
    assert (_verdict(FORCED_EN, answer, "en") is Verdict.ACCEPT) is ok


def test_a_template_narrows_the_vocabulary_by_rejections_or_turns_it_off() -> None:
    narrowed = Question(id="q", category="other", prompt="?", rejections=("可以",))
    assert _verdict(narrowed, "可以") is Verdict.REJECT
    only = Question(id="q", category="other", prompt="?", acceptable=("我同意",), vocabulary=False)
    assert _verdict(only, "好的") is not Verdict.ACCEPT
    assert _verdict(only, "我同意") is Verdict.ACCEPT
    phrase = Question(id="q", category="other", prompt="?", expects="phrase", acceptable=("本人自愿投保",))
    assert answers(phrase, "zh") == (("本人自愿投保",), ())
    with pytest.raises(ValueError, match="at least one acceptable"):
        Question(id="q", category="other", prompt="?", expects="phrase")


def test_declared_polarity_must_agree_with_the_listed_answers() -> None:
    with pytest.raises(ValueError, match="expects deny cannot accept"):
        Question(id="q", category="other", prompt="?", expects="deny", acceptable=("是的",))
    with pytest.raises(ValueError, match="expects affirm cannot accept"):
        Question(id="q", category="other", prompt="?", expects="affirm", acceptable=("没有",))
    # affirmative idioms with a negation character are yeses
    Question(id="q", category="other", prompt="?", acceptable=("确认无误", "没问题"))


def test_older_templates_without_expects_keep_their_polarity() -> None:
    legacy = Question(id="q", category="other", prompt="?", acceptable=("没有", "没有人"))
    assert legacy.polarity is Expects.DENY
    assert _verdict(legacy, "没人") is Verdict.ACCEPT
    assert _verdict(legacy, "有") is Verdict.REJECT


def test_a_nod_cannot_answer_a_question_that_expects_no() -> None:
    doc = {
        "key": "nod-deny",
        "title": "t",
        "scenario": "other",
        "language": "zh-CN",
        "consent": {"recording": "r", "biometric": "b"},
        "questions": [
            {
                "id": "q1",
                "category": "other",
                "prompt": "有人强迫您吗？",
                "expects": "deny",
                "answer_modes": ["speech", "nod"],
            }
        ],
    }
    with pytest.raises(TemplateInvalid, match="nod"):
        parse_template(doc)


def test_acoustic_candidates_follow_the_declared_polarity() -> None:
    # a deny question whose listed answer would not look negative to the old inference (不是 is negative,
    # 否认 is not): the declaration decides, so the affirmatives oppose
    acc, rej = answers(FORCED_ZH, "zh")
    c = candidates(acc, rej, "zh", "deny")
    assert {"有", "是的", "对", "没问题"} <= set(c.opposing)
    assert not {"不没有", "不没人"} & set(c.opposing)
    affirm = candidates(("知晓",), (), "zh", "affirm")
    assert "不知晓" in affirm.opposing
    # declared deny beats inference: "保持沉默" is not a negative phrase, yet yes-answers oppose it
    declared = candidates(("保持沉默",), (), "zh", "deny")
    assert "是的" in declared.opposing and "不保持沉默" not in declared.opposing


def test_a_heard_yes_to_a_deny_question_is_never_rescued_by_the_audio() -> None:
    acc, rej = answers(FORCED_ZH, "zh")
    cands = candidates(acc, rej, "zh", "deny")
    text = match("没问题", acc, rej, "zh")
    assert text.verdict is Verdict.UNCLEAR
    scores = (Scored("没", -1.0), Scored("没问题", -1.0), Scored("有", -9.0), Scored("是的", -9.0))
    decided = decide(text, Scored("没问题", -1.0), scores, cands, "zh")
    assert decided.verdict is not Verdict.ACCEPT


def test_the_default_reminder_of_a_deny_question_asks_for_yes_or_no() -> None:
    assert "“有”或“没有”" in reminder_text(FORCED_ZH, Language.ZH_CN, "UNCLEAR")
    assert '"yes" or "no"' in reminder_text(FORCED_EN, Language.EN_US, "UNCLEAR")


def test_permanent_retention_never_allows_deletion() -> None:
    rule = Retention(years="permanent")
    ended = datetime(2026, 12, 6, tzinfo=UTC)
    assert retain_until(rule, ended, 120) == PERMANENT_UNTIL
    decision = may_delete(datetime(2999, 1, 1, tzinfo=UTC), PERMANENT_UNTIL, 0)
    assert not decision.allowed and "permanently" in decision.reason
    with pytest.raises(ValueError, match="permanent"):
        Retention(years="forever")  # type: ignore[arg-type]
