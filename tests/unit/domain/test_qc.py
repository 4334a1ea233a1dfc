"""The automatic quality check: the rule "mandated prompts played in full" judged from playback reports."""

from __future__ import annotations

from dualsign.domain.qc import Verdict, evaluate
from tests.unit.domain.test_session import Driver, template


def prompt_rule(d: Driver) -> tuple[Verdict, str]:
    d.s.cancel(d.tick(), reason="test", by="integrator")
    rule = next(r for r in evaluate(d.s).rules if r.rule == "prompt_played")
    return rule.verdict, rule.detail


def through_q1(*, play_q1: float | None, ended: bool = True) -> Driver:
    d = Driver(template())
    d.s.give_consent(d.tick())
    d.ask()  # the statement is played in full and passes; q1 is asked
    if play_q1 is not None:
        d.play(play_q1, ended=ended)
    d.s.answer(d.tick(), transcript="知道", result=None)
    return d


def test_every_prompt_played_in_full_passes() -> None:
    verdict, detail = prompt_rule(through_q1(play_q1=2.0))
    assert verdict is Verdict.PASS, detail


def test_a_prompt_cut_short_fails_and_says_how_much_was_played() -> None:
    verdict, detail = prompt_rule(through_q1(play_q1=0.7, ended=False))
    assert verdict is Verdict.FAIL
    assert "q1 attempt 1 not played in full (question 0.7 of 2.0 s)" in detail


def test_a_prompt_the_page_never_reported_needs_a_person() -> None:
    verdict, detail = prompt_rule(through_q1(play_q1=None))
    assert verdict is Verdict.NEEDS_REVIEW
    assert "did not report playing 1 of 2 prompts: q1 attempt 1" in detail


def test_a_replay_played_in_full_makes_up_for_a_cut_one() -> None:
    d = Driver(template())
    d.s.give_consent(d.tick())
    d.ask()
    d.play(0.5, ended=False)
    d.s.repeat_question(d.tick())
    d.play(2.0)
    d.s.answer(d.tick(), transcript="知道", result=None)
    verdict, detail = prompt_rule(d)
    assert verdict is Verdict.PASS, detail


def _typed_through_q1(typed_answers: bool | None) -> tuple[Verdict, str]:
    from dualsign.domain.matching import match

    d = Driver(template() if typed_answers is None else template(typed_answers=typed_answers))
    d.s.give_consent(d.tick())
    d.ask()
    for text in ("知道", "是", "没有"):
        q = d.s.current_question
        assert q is not None
        d.s.answer(
            d.tick(),
            transcript=text,
            result=match(text, q.acceptable, q.rejections, "zh"),
            evidence={"input": "text"},
        )
        d.ask()
    d.s.cancel(d.tick(), reason="test", by="integrator")
    rule = next(r for r in evaluate(d.s).rules if r.rule == "answers_affirmed")
    return rule.verdict, rule.detail


def test_typed_answers_fail_a_template_that_asks_for_spoken_ones() -> None:
    verdict, detail = _typed_through_q1(None)  # a Mandarin template: spoken confirmation by default
    assert verdict is Verdict.FAIL and "typed, not spoken" in detail and "q1" in detail


def test_typed_answers_a_template_allows_pass_and_are_named() -> None:
    verdict, detail = _typed_through_q1(True)
    assert verdict is Verdict.PASS and "typed answers" in detail and "q3" in detail
