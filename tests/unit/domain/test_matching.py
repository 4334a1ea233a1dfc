"""Answer verdicts: the labelled corpus, the fail-safe properties, and the explanations."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from dualsign.domain.matching import Verdict, heard_text, match

CORPUS_PATH = Path(__file__).parents[2] / "data" / "answer_corpus.yaml"
CORPUS: list[dict[str, Any]] = yaml.safe_load(CORPUS_PATH.read_text(encoding="utf-8"))["cases"]


def judge(case: dict[str, Any]) -> Verdict:
    return match(case["answer"], case["expected"], case.get("rejections") or [], case["lang"]).verdict


def test_corpus_is_large_and_covers_both_languages() -> None:
    langs = Counter(c["lang"] for c in CORPUS)
    labels = Counter(c["label"] for c in CORPUS)
    assert len(CORPUS) >= 300
    assert langs["zh"] >= 200
    assert langs["en"] >= 100
    assert labels["ACCEPT"] >= 100
    assert labels["REJECT"] >= 50
    assert labels["UNCLEAR"] >= 100
    assert len({c["id"] for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", [c for c in CORPUS if c["label"] != "ACCEPT"], ids=lambda c: c["id"])
def test_no_negative_or_doubtful_answer_is_accepted(case: dict[str, Any]) -> None:
    """The worst error the product can make: a false ACCEPT. Zero are allowed."""
    assert judge(case) is not Verdict.ACCEPT, case.get("note")


def test_corpus_scores() -> None:
    """Clear affirmatives are accepted at a high rate; REJECT and UNCLEAR are mostly told apart."""
    accepts = [c for c in CORPUS if c["label"] == "ACCEPT"]
    recall = sum(judge(c) is Verdict.ACCEPT for c in accepts) / len(accepts)
    negatives = [c for c in CORPUS if c["label"] != "ACCEPT"]
    exact = sum(judge(c).value == c["label"] for c in negatives) / len(negatives)
    print(f"accept recall {recall:.3f} ({len(accepts)} cases); REJECT/UNCLEAR agreement {exact:.3f}")
    assert recall >= 0.88
    assert exact >= 0.80


@pytest.mark.parametrize(
    ("answer", "expected", "verdict", "rule"),
    [
        ("我不知道", "知晓|知道", "REJECT", "negated_phrase"),
        ("知不知道", "知晓|知道", "UNCLEAR", "question"),
        ("知道吗", "知晓|知道", "UNCLEAR", "question"),
        ("可能知道吧", "知晓|知道", "UNCLEAR", "hedge"),
        ("没听懂", "知晓|知道", "UNCLEAR", "not_understood"),
        ("知道，但是不同意", "知道", "UNCLEAR", "conditional"),
        ("嗯，知道的", "知晓|知道", "ACCEPT", "accepted"),
        ("知曉", "知晓|知道", "ACCEPT", "accepted"),  # traditional characters
        ("ＯＫ，知道！", "知道", "UNCLEAR", "extra_content"),  # full width folded, "ok" is not Chinese
        ("没有没有", "没有|没有人", "ACCEPT", "accepted"),
        ("不是没有", "没有", "UNCLEAR", "negated_phrase"),
        ("I don't know", "yes|I understand", "REJECT", "negation"),
        ("yes, I do understand", "yes|I understand", "ACCEPT", "accepted"),
        ("maybe yes", "yes", "UNCLEAR", "hedge"),
        ("can you repeat that", "yes", "UNCLEAR", "question"),
        ("", "yes", "UNCLEAR", "empty"),
        ("嗯……啊", "知道", "UNCLEAR", "empty"),
    ],
)
def test_verdicts_and_rules(answer: str, expected: str, verdict: str, rule: str) -> None:
    family = "en" if expected.isascii() else "zh"
    result = match(answer, expected.split("|"), (), family)
    assert (result.verdict.value, result.rule) == (verdict, rule), result


def test_explanation_names_normalised_text_rule_and_phrase() -> None:
    result = match("知消。", ["知晓", "知道"], (), "zh")
    assert result.verdict is Verdict.ACCEPT
    assert result.to_dict() == {
        "verdict": "ACCEPT",
        "rule": "accepted",
        "normalized": "知消",
        "matched_phrase": "知晓",
        "via": "pinyin",
        "detail": "said '知晓'",
    }


def test_single_syllable_homophones_do_not_match() -> None:
    assert match("十", ["是"], (), "zh").verdict is Verdict.UNCLEAR


def test_template_rejection_outranks_acceptance_elsewhere() -> None:
    result = match("有，没有", ["没有"], ["有"], "zh")
    assert result.verdict is Verdict.REJECT
    assert result.rule == "rejection_phrase"


ZH_NEGATORS = ["不", "没", "不太", "不是很", "并不", "没有", "不怎么"]
ZH_DOUBTS = ["可能", "应该", "大概", "好像", "也许", "估计"]
ZH_PHRASES = ["知道", "知晓", "清楚", "明白", "同意", "理解", "了解"]


@settings(max_examples=300, deadline=None)
@given(
    neg=st.sampled_from(ZH_NEGATORS),
    phrase=st.sampled_from(ZH_PHRASES),
    pre=st.sampled_from(["", "我", "嗯，", "这个我"]),
    post=st.sampled_from(["", "的", "了", "。", "啊"]),
)
def test_negated_affirmative_is_never_accepted(neg: str, phrase: str, pre: str, post: str) -> None:
    assert match(f"{pre}{neg}{phrase}{post}", [phrase], (), "zh").verdict is not Verdict.ACCEPT


@settings(max_examples=300, deadline=None)
@given(
    doubt=st.sampled_from(ZH_DOUBTS),
    phrase=st.sampled_from(ZH_PHRASES),
    post=st.sampled_from(["", "吧", "的", "了吧"]),
)
def test_hedged_affirmative_is_never_accepted(doubt: str, phrase: str, post: str) -> None:
    assert match(f"{doubt}{phrase}{post}", [phrase], (), "zh").verdict is not Verdict.ACCEPT


@settings(max_examples=200, deadline=None)
@given(
    neg=st.sampled_from(["not", "don't", "do not", "never", "no,", "not really", "hardly"]),
    phrase=st.sampled_from(["understand", "agree", "know"]),
)
def test_english_negation_is_never_accepted(neg: str, phrase: str) -> None:
    assert match(f"I {neg} {phrase}", [f"I {phrase}", "yes"], (), "en").verdict is not Verdict.ACCEPT


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_arbitrary_text_never_crashes_and_needs_the_phrase_to_accept(text: str) -> None:
    result = match(text, ["知道"], (), "zh")
    if result.verdict is Verdict.ACCEPT:
        assert result.matched_phrase == "知道"


# --- what the signer is told was heard -------------------------------------------------------------


def test_the_signer_is_told_the_words_in_simplified_characters() -> None:
    said = match("對的。", ["对的"], (), "zh")
    assert heard_text("對的。", said.verdict, said.to_dict()) == "对的。"
    assert heard_text(" Yes, I do. ", "ACCEPT", {"via": "exact"}) == "Yes, I do."


def test_a_chinese_transcript_is_shown_with_chinese_punctuation() -> None:
    # Whisper base now and then writes an ASCII comma between Chinese words; English keeps its own
    assert heard_text("是的,但是我還有個問題?", "UNCLEAR", {}) == "是的，但是我还有个问题？"
    assert heard_text("Yes, but I have a question?", "UNCLEAR", {}) == "Yes, but I have a question?"


def test_an_answer_accepted_on_its_sound_is_shown_as_the_answer_it_was_accepted_as() -> None:
    # 屁股 for 是的 (Whisper base on a short answer): the page says it heard 是的, the evidence keeps 屁股
    said = {"verdict": "ACCEPT", "matched_phrase": "是的", "via": "acoustic"}
    assert heard_text("屁股", "ACCEPT", said) == "是的"
    assert heard_text("是得", "ACCEPT", {"matched_phrase": "是的", "via": "pinyin"}) == "是的"


def test_an_answer_not_accepted_is_shown_as_heard_and_silence_as_nothing() -> None:
    # the signer sees what was misheard and can say it again; a refusal is never turned into a phrase
    unclear = {"verdict": "UNCLEAR", "matched_phrase": "是的", "via": "acoustic"}
    assert heard_text("名余", "UNCLEAR", unclear) == "名余"
    assert heard_text("不是", "REJECT", {"matched_phrase": "不是", "via": "exact"}) == "不是"
    assert heard_text("", "UNCLEAR", {}) is None and heard_text(None, "UNCLEAR", None) is None
