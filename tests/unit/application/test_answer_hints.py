"""What recognition is biased toward and scores: short, symmetric, by the declared polarity."""

from __future__ import annotations

from dualsign.application.perception.speech import answer_hints
from dualsign.domain.templates import Question

FORCED = Question(id="q", category="other", prompt="是否有人强迫您？", expects="deny")
CLEAR = Question(id="q", category="other", prompt="您是否清楚？", acceptable=("知晓",))


def test_a_deny_question_scores_the_affirmatives_as_opposing() -> None:
    hints = answer_hints(FORCED, "zh")
    assert {"没有", "没人"} <= set(hints.candidates)
    assert {"有", "是的"} <= set(hints.candidates)
    assert "不没有" not in hints.candidates


def test_the_scored_set_stays_small_whatever_the_vocabulary() -> None:
    # every candidate costs a decoder pass: the whole vocabulary is matched as text, not scored
    assert len(answer_hints(CLEAR, "zh").candidates) <= 25
    assert len(answer_hints(FORCED, "zh").candidates) <= 25


def test_scoring_is_decided_on_the_full_vocabulary() -> None:
    hints = answer_hints(CLEAR, "zh")
    assert hints.to_score is not None
    # ACCEPT by text (了解 is not scored, but it is in the vocabulary): only the negation probes
    assert hints.to_score("了解") == ("不了解", "了不解")
    assert hints.to_score("不了解") == ()  # REJECT: nothing to confirm
    # misheard: every candidate, and the probes
    rescue = hints.to_score("千注")
    assert set(hints.candidates) <= set(rescue) and {"不千注", "千不注"} <= set(rescue)
    # misheard, but longer than every answer in the whole vocabulary and sounding like none: no score
    # could accept it, so only the probes are decoded
    assert hints.to_score("去了我牵住我都在") == (
        "不去了我牵住我都在",
        "去不了我牵住我都在",
        "去了不我牵住我都在",
        "去了我不牵住我都在",
    )


def test_a_yes_to_a_question_that_expects_no_is_scored_against_every_candidate() -> None:
    hints = answer_hints(FORCED, "zh")
    assert hints.to_score is not None and hints.to_score("没有") == hints.candidates
