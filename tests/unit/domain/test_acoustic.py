"""Scored hypotheses complete the text verdict, and never turn a heard "no" into ACCEPT."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualsign.domain.acoustic import Scored, candidates, decide, is_loop, probes, rescue_blocked, to_score
from dualsign.domain.matching import Verdict, match

KNOW = ["清楚", "知道", "明白", "是的", "是"]
KNOW_REJECT = ["不清楚", "不知道", "不明白"]
FORCED = ["没有", "没有人", "都没有", "否"]


def test_opposing_answers_are_the_negations_for_a_yes_question() -> None:
    c = candidates(KNOW, KNOW_REJECT, "zh")
    assert c.acceptable == tuple(KNOW)
    assert {"不清楚", "不知道", "不明白", "不是"} <= set(c.opposing)
    assert not set(c.acceptable) & set(c.opposing)


def test_doubts_compete_with_every_expected_answer() -> None:
    for acceptable in (KNOW, FORCED):
        assert {"可能吧", "什么意思", "再说一遍"} <= set(candidates(acceptable, (), "zh").opposing)


def test_a_hedge_the_audio_explains_as_well_is_not_accepted() -> None:
    """可能吧 heard as 顺恩泰: the doubt scores close to 是, so the answer stays UNCLEAR."""
    heard, scores = _scores(("顺恩泰", -6.0), 是=-6.5, 不是=-12.0, 可能吧=-6.9)
    result = decide(
        match("顺恩泰", KNOW, KNOW_REJECT, "zh"), heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh"
    )
    assert result.verdict is Verdict.UNCLEAR
    assert result.acoustic is not None and result.acoustic["best_opposing"] == "可能吧"


def test_opposing_answers_are_the_affirmations_for_a_no_question() -> None:
    """'是否有人强迫您？' expects 没有: the opposite answers are 有 / 有人 / 是, not the negations."""
    c = candidates(FORCED, (), "zh")
    assert {"有", "有人", "是"} <= set(c.opposing)
    assert "没有" not in c.opposing


def test_english_candidates() -> None:
    c = candidates(["yes", "I agree"], (), "en")
    assert "not I agree" in c.opposing and "no" in c.opposing


def _scores(heard: tuple[str, float], **by_text: float) -> tuple[Scored, tuple[Scored, ...]]:
    return Scored(*heard), tuple(Scored(t, lp) for t, lp in by_text.items())


def test_a_misheard_clear_answer_is_accepted_by_its_score() -> None:
    heard, scores = _scores(("千注", -4.0), 清楚=-4.8, 不清楚=-9.0, 不是=-10.0)
    text = match("千注", KNOW, KNOW_REJECT, "zh")
    assert text.verdict is Verdict.UNCLEAR
    result = decide(text, heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh")
    assert result.verdict is Verdict.ACCEPT
    assert result.rule == "acoustic_match" and result.matched_phrase == "清楚"
    assert result.acoustic is not None and result.acoustic["margin_over_opposing"] == 4.2
    assert "清楚" in result.detail and "千注" in result.detail


def test_close_opposing_answer_stays_unclear() -> None:
    heard, scores = _scores(("千注", -4.0), 清楚=-4.8, 不清楚=-5.5)
    result = decide(
        match("千注", KNOW, KNOW_REJECT, "zh"), heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh"
    )
    assert result.verdict is Verdict.UNCLEAR
    assert result.acoustic is not None and result.acoustic["outcome"] == "unclear"


def test_a_transcript_far_better_than_every_candidate_stays_unclear() -> None:
    heard, scores = _scores(("今天天气很好", -3.0), 清楚=-12.0, 不清楚=-16.0)
    text = match("今天天气很好", KNOW, KNOW_REJECT, "zh")
    assert decide(text, heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh").verdict is Verdict.UNCLEAR


def test_a_candidate_covering_only_part_of_a_long_answer_stays_unclear() -> None:
    heard, scores = _scores(("是的我还有很多别的问题", -9.0), 是的=-8.0, 不是=-15.0)
    text = match("是的我还有很多别的问题", KNOW, KNOW_REJECT, "zh")
    result = decide(text, heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh")
    assert result.verdict is Verdict.UNCLEAR


@pytest.mark.parametrize("said", ["什么意思", "可能吧", "我不太清楚", "再说一遍"])
def test_doubt_in_the_transcript_is_never_outvoted(said: str) -> None:
    heard, scores = _scores((said, -5.0), 清楚=-4.0, 不清楚=-20.0)
    text = match(said, KNOW, KNOW_REJECT, "zh")
    result = decide(text, heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh")
    assert result.verdict is not Verdict.ACCEPT


def test_an_accept_from_text_is_withdrawn_when_a_negation_explains_the_audio_better() -> None:
    heard, scores = _scores(("知道", -6.0), 知道=-6.0, 不知道=-5.0)
    text = match("知道", KNOW, KNOW_REJECT, "zh")
    assert text.verdict is Verdict.ACCEPT
    result = decide(text, heard, scores, candidates(KNOW, KNOW_REJECT, "zh"), "zh")
    assert result.verdict is Verdict.UNCLEAR and result.rule == "acoustic_disagrees"


@pytest.mark.parametrize("heard", ["4.2.4", "Mario", "3-2-5"])
def test_a_mandarin_answer_heard_as_digits_or_latin_is_never_rescued(heard: str) -> None:
    scores = (Scored("同意", -3.0), Scored("不同意", -12.0), Scored("不是", -12.0))
    cands = candidates(["同意", "是的"], (), "zh")
    result = decide(match(heard, ["同意", "是的"], (), "zh"), Scored(heard, -3.0), scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR
    assert result.acoustic is not None and result.acoustic["outcome"] == "transcript_not_chinese"


def test_no_scores_leaves_the_text_verdict() -> None:
    text = match("千注", KNOW, KNOW_REJECT, "zh")
    assert decide(text, None, (), candidates(KNOW, KNOW_REJECT, "zh"), "zh") == text


NEGATIVE_ANSWERS = ["不清楚", "不知道", "我不明白", "不是", "没有", "不同意", "不", "没听懂"]


@given(
    said=st.sampled_from(NEGATIVE_ANSWERS),
    accept_lp=st.floats(-30, 0),
    oppose_lp=st.floats(-30, 0),
    heard_lp=st.floats(-30, 0),
)
def test_a_heard_negation_is_never_accepted_whatever_the_scores(
    said: str, accept_lp: float, oppose_lp: float, heard_lp: float
) -> None:
    """Fail-safe first: however the audio scores, a transcript that says no is never ACCEPT."""
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    scores = [Scored(p, accept_lp) for p in cands.acceptable] + [Scored(p, oppose_lp) for p in cands.opposing]
    text = match(said, KNOW, KNOW_REJECT, "zh")
    result = decide(text, Scored(said, heard_lp), scores, cands, "zh")
    assert result.verdict is not Verdict.ACCEPT


@given(accept_lp=st.floats(-30, 0), oppose_lp=st.floats(-30, 0), heard_lp=st.floats(-30, 0))
def test_a_yes_to_has_anyone_forced_you_is_never_accepted(
    accept_lp: float, oppose_lp: float, heard_lp: float
) -> None:
    cands = candidates(FORCED, (), "zh")
    for said in ("有", "有人", "是的", "是"):
        scores = [Scored(p, accept_lp) for p in cands.acceptable] + [
            Scored(p, oppose_lp) for p in cands.opposing
        ]
        result = decide(match(said, FORCED, (), "zh"), Scored(said, heard_lp), scores, cands, "zh")
        assert result.verdict is not Verdict.ACCEPT


SELF = ["是", "是的", "是本人", "我本人", "对"]
CONFIRM = ["同意", "确认", "是的"]


def test_a_transcript_that_sounds_like_an_acceptable_answer_is_accepted() -> None:
    """我本人 heard as 我被人: it sounds like 我本人 (1 of 6 sounds differ), far from every opposing
    answer, and the audio favours the acceptable answers, if only by 0.6."""
    cands = candidates(SELF, ["不是", "不是本人"], "zh")
    heard, scores = _scores(("我被人", -3.0), 我本人=-8.4, 是=-9.0, 不是=-9.0, 没有=-10.0)
    result = decide(match("我被人", SELF, ["不是", "不是本人"], "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.ACCEPT and result.rule == "sound_match"
    assert result.matched_phrase == "我本人"
    assert result.acoustic is not None
    assert result.acoustic["sounds_like"] == "我本人" and result.acoustic["sound_distance"] == 0.167
    assert "sounds like '我本人'" in result.detail


def test_an_answer_after_a_lead_in_is_heard_whole() -> None:
    """是的，我清楚 heard as 是的，我牵住: the lead-in form 是的我清楚 is what it sounds like."""
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    heard, scores = _scores(("是的，我牵住", -4.0), 是的=-5.0, 清楚=-9.0, 不是=-13.0)
    result = decide(match("是的，我牵住", KNOW, KNOW_REJECT, "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.ACCEPT and result.rule == "sound_match"
    assert result.matched_phrase == "清楚"


def test_no_sound_match_when_the_audio_favours_an_opposing_answer() -> None:
    cands = candidates(SELF, ["不是", "不是本人"], "zh")
    heard, scores = _scores(("我被人", -3.0), 我本人=-9.0, 不是=-8.0)
    result = decide(match("我被人", SELF, ["不是", "不是本人"], "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR


@pytest.mark.parametrize("heard", ["补装衣", "普通意"])
def test_no_sound_match_when_it_sounds_nearer_an_opposing_answer(heard: str) -> None:
    """不同意 misspelt keeps its 不 sound: nearer 不同意 than 同意, never accepted by sound."""
    cands = candidates(CONFIRM, (), "zh")
    said, scores = _scores((heard, -3.0), 同意=-5.0, 不同意=-6.0, 不是=-12.0)
    result = decide(match(heard, CONFIRM, (), "zh"), said, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR


def test_probes_put_a_negation_before_the_first_characters() -> None:
    cands = candidates(CONFIRM, (), "zh")
    assert probes("我同意", "zh", cands) == ("不我同意", "我不同意", "我同不意")
    assert probes("有", "zh", cands) == ("没有",)
    assert probes("不同意", "zh", cands) == ()  # a heard negation is the text matcher's to judge
    assert probes("我同意", "zh", candidates(FORCED, (), "zh")) == ()  # a no is what that question expects
    assert probes("I agree", "en", candidates(["I agree"], (), "en")) == ()


def test_an_accept_is_withdrawn_when_the_transcript_with_a_negation_explains_the_audio_as_well() -> None:
    """我同意 written, but 我不同意 scores within 1.0 of it: the 不 may have been lost."""
    cands = candidates(CONFIRM, (), "zh")
    heard, scores = _scores(("我同意", -4.0), 同意=-6.0, 不同意=-9.0, 我不同意=-4.5, 不我同意=-12.0)
    result = decide(match("我同意", CONFIRM, (), "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR and result.rule == "acoustic_disagrees"
    assert result.acoustic is not None and result.acoustic["outcome"] == "negation_possible"
    assert result.acoustic["negation_probe"] == "我不同意"


def test_an_accept_stands_when_a_candidate_without_the_lead_word_scores_lower() -> None:
    """我同意 against the bare candidates 同意 / 不同意: 不同意 may score higher (it has three syllables, like
    the audio), but the transcript with a 不 put in is far less likely, so the ACCEPT stands."""
    cands = candidates(CONFIRM, (), "zh")
    heard, scores = _scores(("我同意", -4.0), 同意=-7.0, 不同意=-6.0, 我不同意=-10.0, 不我同意=-12.0)
    result = decide(match("我同意", CONFIRM, (), "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.ACCEPT and result.acoustic is not None
    assert result.acoustic["outcome"] == "confirms" and result.acoustic["probe_gap"] == 6.0


def test_a_recognition_loop_is_never_an_answer() -> None:
    """不了解 from a deep voice came out as 好,好,好,好,好,好,好,好: the matcher saw 好, the loop says the
    recogniser failed."""
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    loop = "好,好,好,好,好,好,好,好,"
    heard, scores = _scores((loop, -9.0), 对=-5.0, 好=-5.0, 不知道=-8.0, 不好好好好好好好好=-20.0)
    text = match(loop, [*KNOW, "好"], KNOW_REJECT, "zh")
    assert text.verdict is Verdict.ACCEPT
    result = decide(text, heard, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR and result.rule == "recognition_loop"
    assert not is_loop("好好好好", "zh")  # a signer's own 好好好好 is an answer


@pytest.mark.parametrize("heard", ["补个键", "部长", "美好"])
def test_a_syllable_that_sounds_like_a_negation_is_never_rescued(heard: str) -> None:
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    said, scores = _scores((heard, -5.0), 知道=-4.0, 明白=-4.5, 不知道=-15.0, 不是=-15.0)
    result = decide(match(heard, KNOW, KNOW_REJECT, "zh"), said, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR
    assert result.acoustic is not None and result.acoustic["outcome"] == "sounds_negative"


def test_a_short_candidate_never_stands_for_a_longer_answer() -> None:
    """是 scoring best against a three-character transcript says little: the answer must account for
    all but one character of what was heard."""
    cands = candidates(CONFIRM, (), "zh")
    heard, scores = _scores(("先充立", -9.0), 是=-4.0, 不是=-8.0, 同意=-9.0)
    result = decide(match("先充立", [*CONFIRM, "是"], (), "zh"), heard, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR


def test_a_transcript_longer_than_every_answer_is_scored_against_the_probes_only() -> None:
    """去了我牵住 (是的，我清楚 misheard) is five characters against the two of every acceptable answer and
    sounds like none: neither kind of rescue can accept it, so the candidates are not decoded."""
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    text = match("去了我牵住", KNOW, KNOW_REJECT, "zh")
    assert text.verdict is Verdict.UNCLEAR
    assert rescue_blocked("去了我牵住", "zh", cands) == "longer_than_every_answer"
    wanted = to_score(text, "去了我牵住", "zh", cands)
    assert wanted == probes("去了我牵住", "zh", cands) and not set(wanted) & set(cands.all)
    heard, scores = _scores(("去了我牵住", -9.0), **dict.fromkeys(wanted, -15.0))
    result = decide(text, heard, scores, cands, "zh")
    assert result.verdict is Verdict.UNCLEAR
    assert result.acoustic is not None and result.acoustic["outcome"] == "longer_than_every_answer"
    # a short misheard answer is still worth every candidate
    assert rescue_blocked("千注", "zh", cands) is None
    assert set(cands.all) <= set(to_score(match("千注", KNOW, KNOW_REJECT, "zh"), "千注", "zh", cands))


def test_a_transcript_that_sounds_like_an_answer_is_scored_however_long() -> None:
    """是的我清处 is longer than every acceptable answer but sounds like 是的我清楚 (a lead-in form), which
    sound_match may accept: it is scored."""
    cands = candidates(KNOW, KNOW_REJECT, "zh")
    assert rescue_blocked("是的我清处", "zh", cands) is None


def test_what_decides_skipping_is_read_from_the_answers_the_verdict_is_judged_with() -> None:
    """The scored list is short (two answers here); the judged vocabulary holds a longer answer that
    the transcript could still be: the judged list decides."""
    scored = candidates(["清楚", "知道"], KNOW_REJECT, "zh")
    judged = candidates(["清楚", "知道", "我都明白"], KNOW_REJECT, "zh")
    text = match("卧斗米摆", ["清楚", "知道", "我都明白"], KNOW_REJECT, "zh")
    assert text.verdict is Verdict.UNCLEAR
    assert rescue_blocked("卧斗米摆", "zh", scored) is not None
    assert set(scored.all) <= set(to_score(text, "卧斗米摆", "zh", scored, judged))
