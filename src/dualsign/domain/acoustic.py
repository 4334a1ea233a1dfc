"""Verdicts that hold on imperfect recognition: the expected answers scored against the answer audio.

A small model mishears short Mandarin answers (我同意 → 我尚意, 清楚 → 千注), so the text matcher alone
leaves many clear answers UNCLEAR. The recogniser therefore also scores, on the same audio, each
acceptable answer, each *opposing* answer (the acceptable ones negated, the template's rejections, the
generic negatives — or, for a question that expects "no", the affirmatives — and common doubts: 可能吧,
什么意思, 再说一遍 …), and its own free transcript (the null hypothesis). This module decides with
those numbers, fail-safe first:

1. The text verdict is judged first; a REJECT stays REJECT (a heard negation is never outvoted).
2. An ACCEPT from text stays ACCEPT only if no opposing answer explains the audio at least as well as
   the best acceptable one (else UNCLEAR: ``acoustic_disagrees``).
3. An UNCLEAR from text becomes ACCEPT (``acoustic_match``) only when the transcript showed nothing
   that means doubt (no question, hedge, condition, negation, "didn't understand": only ``no_match``
   or ``extra_content``), the transcript is not itself an opposing answer, and the best acceptable answer
   - beats every opposing answer by ``OPPOSING_MARGIN`` (log-probability, natural log), and
   - comes within ``NULL_MARGIN`` of the free transcript (it explains the audio about as well as what
     the recogniser heard), and
   - is not much shorter than the transcript (it covers the whole answer, not a prefix of it);
   and, for Mandarin, the transcript is mostly Chinese characters (a recogniser that wrote digits or
   Latin letters did not hear Mandarin words, and a score cannot stand in for that).
   Anything else stays UNCLEAR, with the winning hypothesis and the margins in the explanation.

Margins were set on the espeak-ng voices of bench/answer_corpus_zh (docs/speech.md has the table).
Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from dualsign.domain.answer_vocabulary import ZH_NEGATION_CHARS
from dualsign.domain.matching import MatchResult, Verdict, is_negative_phrase
from dualsign.domain.normalization import LanguageFamily, normalize

OPPOSING_MARGIN = 2.0
NULL_MARGIN = 6.0
EXTRA_TOKENS = 2  # the transcript may be this many characters (zh) / words (en) longer than the answer
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# text rules after which the audio may still show a clear acceptable answer (misheard words, not doubt)
RESCUABLE_RULES = frozenset({"no_match", "extra_content"})

ZH_GENERIC_NEGATIVES = ("不知道", "不清楚", "不明白", "不同意", "不是", "没有", "不愿意", "不确认", "不对")
ZH_GENERIC_AFFIRMATIVES = ("是", "是的", "有", "有的", "对", "同意", "知道")
# doubt competes with every expected answer: a hedge or a question back is never a clear answer
ZH_DOUBTS = ("可能吧", "应该吧", "不太清楚", "不确定", "什么意思", "再说一遍", "没听清")
EN_DOUBTS = ("maybe", "I think so", "not sure", "what do you mean", "pardon")
EN_GENERIC_NEGATIVES = ("no", "not", "I don't know", "I do not understand", "I don't agree", "never")
EN_GENERIC_AFFIRMATIVES = ("yes", "yes I do", "I agree", "yes there is", "yes someone did")


@dataclass(frozen=True)
class Candidates:
    """The phrases to score: what counts as the expected answer, and what would mean the opposite."""

    acceptable: tuple[str, ...]
    opposing: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return (*self.acceptable, *self.opposing)


def candidates(
    acceptable: Sequence[str],
    rejections: Sequence[str],
    family: LanguageFamily,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
) -> Candidates:
    """The acceptable answers, and their opposites by the question's declared polarity (``expects``:
    deny → the affirmatives oppose; affirm / phrase → the negations do). Without a declaration (a caller
    that has no template) the polarity is inferred: deny when every acceptable answer is negative."""
    accept = tuple(dict.fromkeys(p.strip() for p in acceptable if p.strip()))
    opposing: list[str] = [r.strip() for r in rejections if r.strip()]
    if expects is None:
        expects_no = bool(accept) and all(is_negative_phrase(p, family) for p in accept)
    else:
        expects_no = expects == "deny"
    if expects_no:
        # "has anyone forced you?" → 没有 / no: the opposite is a yes
        opposing += [_affirmed(p, family) for p in accept]
        opposing += ZH_GENERIC_AFFIRMATIVES if family == "zh" else EN_GENERIC_AFFIRMATIVES
    else:
        opposing += [_negated(p, family) for p in accept]
        opposing += ZH_GENERIC_NEGATIVES if family == "zh" else EN_GENERIC_NEGATIVES
    opposing += ZH_DOUBTS if family == "zh" else EN_DOUBTS
    taken = set(accept)
    return Candidates(accept, tuple(p for p in dict.fromkeys(opposing) if p and p not in taken))


def _negated(phrase: str, family: LanguageFamily) -> str:
    if family == "zh":
        if phrase.startswith("我") and len(phrase) > 1:
            return "我" + _negated(phrase[1:], family)
        return "没" + phrase if phrase.startswith("有") else "不" + phrase
    return f"not {phrase}" if phrase.lower() not in ("yes", "yes i do") else "no"


def _affirmed(phrase: str, family: LanguageFamily) -> str:
    if family == "zh":
        stripped = "".join(ch for ch in phrase if ch not in ZH_NEGATION_CHARS)
        return stripped or "是"
    words = [w for w in phrase.split() if w.lower() not in ("no", "not", "never", "nobody", "none")]
    return " ".join(words) or "yes"


def worth_scoring(text_result: MatchResult) -> bool:
    """Scores can change this verdict: an ACCEPT to confirm, or an UNCLEAR of misheard words."""
    return text_result.verdict is Verdict.ACCEPT or (
        text_result.verdict is Verdict.UNCLEAR and text_result.rule in RESCUABLE_RULES
    )


@dataclass(frozen=True)
class Scored:
    text: str
    logprob: float


def decide(
    text_result: MatchResult,
    heard: Scored | None,
    scores: Sequence[Scored],
    cands: Candidates,
    family: LanguageFamily,
) -> MatchResult:
    """The verdict from the text matcher, confirmed or completed by the scored hypotheses."""
    if heard is None or not scores:
        return text_result
    by_text = {s.text: s.logprob for s in scores}
    accept = [(p, by_text[p]) for p in cands.acceptable if p in by_text]
    oppose = [(p, by_text[p]) for p in cands.opposing if p in by_text]
    if not accept:
        return text_result
    best_p, best = max(accept, key=lambda a: a[1])
    opp_p, opp = max(oppose, key=lambda a: a[1]) if oppose else ("", float("-inf"))
    figures: dict[str, object] = {
        "best_acceptable": best_p,
        "best_acceptable_logprob": round(best, 3),
        "best_opposing": opp_p,
        "best_opposing_logprob": round(opp, 3) if oppose else None,
        "transcript_logprob": round(heard.logprob, 3),
        "margin_over_opposing": round(best - opp, 3) if oppose else None,
        "gap_to_transcript": round(heard.logprob - best, 3),
    }

    def with_acoustic(result: MatchResult, outcome: str) -> MatchResult:
        return replace(result, acoustic={"outcome": outcome, **figures})

    if text_result.verdict is Verdict.REJECT:
        return with_acoustic(text_result, "text_rejects")
    if text_result.verdict is Verdict.ACCEPT:
        if oppose and opp >= best:
            return replace(
                text_result,
                verdict=Verdict.UNCLEAR,
                rule="acoustic_disagrees",
                detail=f"the text says {text_result.matched_phrase!r}, but {opp_p!r} explains the audio "
                f"as well or better ({opp:.2f} vs {best:.2f})",
                acoustic={"outcome": "disagrees", **figures},
            )
        return with_acoustic(text_result, "confirms")
    if text_result.rule not in RESCUABLE_RULES:
        return with_acoustic(text_result, "doubt_in_text")
    said = normalize(heard.text, family).text
    if any(normalize(p, family).text == said for p in cands.opposing):
        # the words heard are an opposing answer (有 to "has anyone forced you?"): never outvoted
        return with_acoustic(text_result, "transcript_is_opposing")
    margin = best - opp
    gap = heard.logprob - best
    length = _length(heard.text, family)
    covers = length <= _length(best_p, family) + EXTRA_TOKENS
    if family == "zh" and 2 * len(_HAN.findall(heard.text)) < max(1, length):
        return with_acoustic(text_result, "transcript_not_chinese")
    if margin >= OPPOSING_MARGIN and gap <= NULL_MARGIN and covers:
        return MatchResult(
            Verdict.ACCEPT,
            "acoustic_match",
            text_result.normalized,
            best_p,
            "acoustic",
            f"{best_p!r} explains the answer audio better than every opposing answer by {margin:.2f} "
            f"and within {max(gap, 0.0):.2f} of the transcript {heard.text!r}",
            acoustic={"outcome": "accepts", **figures},
        )
    why = (
        f"opposing {opp_p!r} within {margin:.2f}"
        if margin < OPPOSING_MARGIN
        else f"the transcript explains the audio better by {gap:.2f}"
        if gap > NULL_MARGIN
        else f"the transcript is longer than {best_p!r}"
    )
    return replace(
        text_result, detail=f"{text_result.detail}; audio: {why}", acoustic={"outcome": "unclear", **figures}
    )


def _length(text: str, family: LanguageFamily) -> int:
    return len(normalize(text, family).tokens)
