"""How a transcript sounds next to the expected answers: initials and finals, and the distance between."""

from __future__ import annotations

import pytest

from dualsign.domain.phonetic import distance, nearest, phones, with_lead_ins


def test_phones_are_toneless_initials_and_finals() -> None:
    assert phones("我被人") == ("w", "o", "b", "ei", "r", "en")
    assert phones("對") == phones("对") == ("d", "ui")  # traditional script sounds the same


def test_punctuation_latin_and_digits_have_no_sound() -> None:
    assert phones("是的，我清楚!") == phones("是的我清楚")
    assert phones("OK 3") == ()


@pytest.mark.parametrize(
    ("heard", "meant", "at_most"),
    [
        ("我被人", "我本人", 0.17),
        ("我自然", "我自愿", 0.34),
        ("美余仁", "没有人", 0.17),
        ("名牌", "明白", 0.25),
    ],
)
def test_misheard_answers_sound_close(heard: str, meant: str, at_most: float) -> None:
    assert distance(phones(heard), phones(meant)) <= at_most


def test_a_negation_is_a_syllable_of_its_own() -> None:
    """补装衣 (b u zh uang y i) is nearer 不同意 than 同意: the negation was heard, only misspelt."""
    heard = phones("补装衣")
    assert distance(heard, phones("不同意")) < distance(heard, phones("同意"))


def test_distance_bounds() -> None:
    assert distance(phones("同意"), phones("同意")) == 0.0
    assert distance((), phones("同意")) == 1.0
    assert distance(phones("今天天气很好"), phones("是")) > 0.8


def test_answers_are_also_heard_after_a_lead_in() -> None:
    forms = with_lead_ins(["清楚", "我同意"])
    assert {"清楚", "是的清楚", "是的我清楚", "对我清楚", "我同意", "是的我同意"} <= set(forms)
    found = nearest("是的，我牵住", ["清楚", "知道"])
    assert found is not None and found.phrase == "是的我清楚" and found.distance == 0.2


def test_nearest_of_nothing_is_none() -> None:
    assert nearest("清楚", []) is None
