"""Verdicts that hold on imperfect recognition: the expected answers scored against the answer audio.

A small model mishears short Mandarin answers (我同意 → 我尚意, 清楚 → 千注), so the text matcher alone
leaves many clear answers UNCLEAR. The recogniser therefore also scores, on the same audio, each
acceptable answer, each *opposing* answer (the acceptable ones negated, the template's rejections, the
generic negatives — or, for a question that expects "no", the affirmatives — and common doubts: 可能吧,
什么意思, 再说一遍 …), its own free transcript (the null hypothesis) and *negation probes* (the
transcript with a 不 put in: was there a 不 it did not write?). This module decides, fail-safe first:

1. The text verdict is judged first; a REJECT stays REJECT (a heard negation is never outvoted). A
   transcript that loops (one word ``LOOP_REPEATS`` times) is never an answer.
2. An ACCEPT from text stands unless a negation probe explains the audio within ``PROBE_MARGIN`` of the
   transcript (for a question that expects "no": unless an affirmation explains it as well as the best
   acceptable answer) — else UNCLEAR (``acoustic_disagrees``).
3. An UNCLEAR from text may become ACCEPT only when the transcript showed nothing that means doubt (only
   ``no_match`` or ``extra_content``), is not itself an opposing answer, is mostly Chinese characters
   (Mandarin), no negation probe comes within ``PROBE_MARGIN``, and (for a yes-question) no character
   reads bu / mei / bie. Then:
   - ``acoustic_match``: the best acceptable answer beats every opposing one by ``OPPOSING_MARGIN``
     (natural-log probability), comes within ``NULL_MARGIN`` of the transcript and accounts for all but
     ``EXTRA_TOKENS`` of its characters; or
   - ``sound_match`` (Mandarin): the transcript sounds like an acceptable answer (``domain.phonetic``,
     ≤ ``SOUND_DISTANCE``), ``SOUND_MARGIN`` nearer it than any opposing one, and the audio scores the
     acceptable answers at least as high as the opposing ones.
   Anything else stays UNCLEAR, with the hypotheses and margins in the explanation. A transcript whose
   own words already rule both out (``rescue_blocked``: a loop, an opposing answer, not Chinese, a
   negation-like syllable, longer than every acceptable answer and sounding like none) is scored
   against the negation probes only, not the candidates: the verdict is the same, for a fraction of
   the decoding.

Thresholds were set on the espeak-ng tuning voices of bench/answer_latency and checked on held-out
voices and answers (docs/speech.md has the table). Pure functions, no I/O.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from dualsign.domain import phonetic
from dualsign.domain.answer_vocabulary import ZH_NEGATION_CHARS, ZH_NEGATION_SOUNDS
from dualsign.domain.matching import MatchResult, Verdict, is_negative_phrase
from dualsign.domain.normalization import HAN, LanguageFamily, normalize, syllable

OPPOSING_MARGIN = 2.0
NULL_MARGIN = 6.0
# a transcript that sounds like an acceptable answer (phonetic.distance) is accepted when at most this
# far from it, at least SOUND_MARGIN nearer it than any opposing answer, and the audio's scores do not
# favour an opposing answer (best acceptable - best opposing >= SOUND_ACOUSTIC_MARGIN)
SOUND_DISTANCE = 0.34
SOUND_MARGIN = 0.1
SOUND_ACOUSTIC_MARGIN = 0.0
# an ACCEPT needs the transcript to explain the audio this much better than the transcript with a
# negation put in (probes); PROBE_POSITIONS: the first characters a 不 is tried before
PROBE_MARGIN = 1.0
PROBE_POSITIONS = 4
LOOP_REPEATS = 5  # one word this many times in a row: the recogniser looped (a signer's 好好好好 is 4)
EXTRA_TOKENS = 1  # the transcript may be this many characters (zh) / words (en) longer than the answer
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
    deny: bool = False  # the question expects a no: its acceptable answers are the negative ones

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
    return Candidates(accept, tuple(p for p in dict.fromkeys(opposing) if p and p not in taken), expects_no)


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


def sounds_like(accept: phonetic.Nearest, oppose: phonetic.Nearest | None) -> bool:
    """The transcript sounds like an acceptable answer, and clearly more than like any opposing one."""
    if accept.distance > SOUND_DISTANCE:
        return False
    return oppose is None or round(oppose.distance - accept.distance, 3) >= SOUND_MARGIN


def _answer_of(heard_as: str, acceptable: Sequence[str]) -> str:
    """The acceptable answer inside a lead-in form (是的我清楚 → 清楚)."""
    for a in sorted(acceptable, key=len, reverse=True):
        if heard_as.endswith(a.removeprefix("我")):
            return a
    return heard_as


def probes(transcript: str, family: LanguageFamily, cands: Candidates) -> tuple[str, ...]:
    """The transcript with a 不 put before each of its first characters (and 没 before 有): if one of them
    explains the audio about as well as the transcript, the signer may have said no and the recogniser
    lost the negation. Only for a Mandarin question that expects a yes, and a transcript without one."""
    text = transcript.strip()
    if family != "zh" or cands.deny or not text or any(ch in ZH_NEGATION_CHARS for ch in text):
        return ()
    positions = [i for i, ch in enumerate(text) if HAN.match(ch)][:PROBE_POSITIONS]
    out = [text[:i] + ("没" if text[i] == "有" else "不") + text[i:] for i in positions]
    return tuple(dict.fromkeys(out))


def is_loop(text: str, family: LanguageFamily) -> bool:
    """The recogniser stuck in a loop (好,好,好,好,好 / 行行行行行): one word said LOOP_REPEATS times or more
    in a row is a decoding failure, not an answer."""
    tokens = normalize(text, family).tokens
    run = 1
    for a, b in itertools.pairwise(tokens):
        run = run + 1 if a == b else 1
        if run >= LOOP_REPEATS:
            return True
    return False


def sounds_negative(text: str) -> bool:
    """A Chinese character in the transcript reads bu / mei / bie: it may be a misspelt 不 / 没 / 别."""
    return any(HAN.match(ch) and syllable(ch) in ZH_NEGATION_SOUNDS for ch in normalize(text, "zh").tokens)


def to_score(
    text_result: MatchResult,
    transcript: str,
    family: LanguageFamily,
    cands: Candidates,
    judged: Candidates | None = None,
) -> tuple[str, ...]:
    """What to score against the audio for this transcript: nothing after a heard no or doubt; for a yes
    the matcher read (to a question that expects yes) only the negation probes, which alone can withdraw
    it; the same for a misheard transcript that no score could rescue (``rescue_blocked``: the probes
    still show a lost 不 and let ``decide`` say why); else every candidate and the probes. Each text
    scored costs a decoder pass. ``judged``: the candidates ``decide`` will be given (built from every
    answer the text matcher judges with; default ``cands``), so that both read the words alike."""
    if text_result.verdict is Verdict.ACCEPT and not cands.deny:
        return probes(transcript, family, cands)
    if not worth_scoring(text_result):
        return ()
    unclear = text_result.verdict is Verdict.UNCLEAR
    if unclear and rescue_blocked(transcript, family, judged or cands) is not None:
        return probes(transcript, family, cands)
    return (*cands.all, *probes(transcript, family, cands))


def rescue_blocked(transcript: str, family: LanguageFamily, cands: Candidates) -> str | None:
    """Why no score could turn this misheard transcript into an ACCEPT, read from its words alone (the
    outcome ``decide`` records), or None when the scores decide: the recogniser looped; the words are an
    opposing answer; a Mandarin transcript mostly not Chinese; a syllable that sounds like 不 / 没 / 别
    (to a yes-question); or longer than every acceptable answer by more than ``EXTRA_TOKENS`` and
    sounding like none of them (``acoustic_match`` needs the first, ``sound_match`` the second). The
    acceptable answers scored are among ``cands.acceptable``, so being longer than all of these rules
    out every scored one."""
    if is_loop(transcript, family):
        return "loop"
    said = normalize(transcript, family).text
    if any(normalize(p, family).text == said for p in cands.opposing):
        return "transcript_is_opposing"
    length = _length(transcript, family)
    if family == "zh" and 2 * len(HAN.findall(transcript)) < max(1, length):
        return "transcript_not_chinese"
    if family == "zh" and not cands.deny and sounds_negative(transcript):
        return "sounds_negative"
    if cands.acceptable and all(length > _length(p, family) + EXTRA_TOKENS for p in cands.acceptable):
        near_accept = phonetic.nearest(transcript, cands.acceptable) if family == "zh" else None
        if near_accept is None or not sounds_like(near_accept, phonetic.nearest(transcript, cands.opposing)):
            return "longer_than_every_answer"
    return None


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
    if text_result.verdict is not Verdict.REJECT and is_loop(heard.text, family):
        return replace(
            text_result,
            verdict=Verdict.UNCLEAR,
            rule="recognition_loop",
            detail=f"the recogniser repeated itself ({heard.text!r}): not an answer to judge",
            acoustic={"outcome": "loop"},
        )
    by_text = {s.text: s.logprob for s in scores}
    accept = [(p, by_text[p]) for p in cands.acceptable if p in by_text]
    oppose = [(p, by_text[p]) for p in cands.opposing if p in by_text]
    best_p, best = max(accept, key=lambda a: a[1]) if accept else ("", float("-inf"))
    opp_p, opp = max(oppose, key=lambda a: a[1]) if oppose else ("", float("-inf"))
    probe_scores = [(p, by_text[p]) for p in probes(heard.text, family, cands) if p in by_text]
    probe_p, probe = max(probe_scores, key=lambda a: a[1]) if probe_scores else ("", float("-inf"))
    probe_gap = heard.logprob - probe
    figures: dict[str, object] = {"transcript_logprob": round(heard.logprob, 3)}
    if accept:
        figures |= {
            "best_acceptable": best_p,
            "best_acceptable_logprob": round(best, 3),
            "best_opposing": opp_p,
            "best_opposing_logprob": round(opp, 3) if oppose else None,
            "margin_over_opposing": round(best - opp, 3) if oppose else None,
            "gap_to_transcript": round(heard.logprob - best, 3),
        }
    if probe_scores:
        figures |= {"negation_probe": probe_p, "probe_gap": round(probe_gap, 3)}
    negation_possible = bool(probe_scores) and probe_gap < PROBE_MARGIN

    def with_acoustic(result: MatchResult, outcome: str) -> MatchResult:
        return replace(result, acoustic={"outcome": outcome, **figures})

    if text_result.verdict is Verdict.REJECT:
        return with_acoustic(text_result, "text_rejects")
    if text_result.verdict is Verdict.ACCEPT:
        if negation_possible:
            return replace(
                text_result,
                verdict=Verdict.UNCLEAR,
                rule="acoustic_disagrees",
                detail=f"the text says {text_result.matched_phrase!r}, but {probe_p!r} explains the audio "
                f"almost as well ({probe:.2f} vs {heard.logprob:.2f}): a 不 may have been lost",
                acoustic={"outcome": "negation_possible", **figures},
            )
        if cands.deny and accept and oppose and opp >= best:
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
        return with_acoustic(text_result, "doubt_in_text") if accept else text_result
    # the words heard are an opposing answer (有 to "has anyone forced you?"): never outvoted; a syllable
    # that sounds like 不 / 没 / 别 (补个键 for 不了解) is never rescued into a yes
    blocked = rescue_blocked(heard.text, family, cands)
    if blocked in ("transcript_is_opposing", "transcript_not_chinese"):
        return with_acoustic(text_result, blocked)
    if negation_possible:
        return with_acoustic(text_result, "negation_possible")
    if blocked is not None:
        return with_acoustic(text_result, blocked)
    if not accept:
        return text_result
    margin = best - opp
    gap = heard.logprob - best
    covers = _length(heard.text, family) <= _length(best_p, family) + EXTRA_TOKENS
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
    if family == "zh" and margin >= SOUND_ACOUSTIC_MARGIN:
        near_accept = phonetic.nearest(heard.text, cands.acceptable)
        near_oppose = phonetic.nearest(heard.text, cands.opposing)
        if near_accept is not None and sounds_like(near_accept, near_oppose):
            return MatchResult(
                Verdict.ACCEPT,
                "sound_match",
                text_result.normalized,
                _answer_of(near_accept.phrase, cands.acceptable),
                "acoustic+sound",
                f"{heard.text!r} sounds like {near_accept.phrase!r} (distance {near_accept.distance:.2f}"
                + (
                    f", nearest opposing {near_oppose.phrase!r} {near_oppose.distance:.2f}"
                    if near_oppose is not None
                    else ""
                )
                + f") and the audio favours the acceptable answers by {margin:.2f}",
                acoustic={
                    "outcome": "sounds_like",
                    **figures,
                    "sounds_like": near_accept.phrase,
                    "sound_distance": round(near_accept.distance, 3),
                    "nearest_opposing_sound": near_oppose.phrase if near_oppose else None,
                    "opposing_sound_distance": round(near_oppose.distance, 3) if near_oppose else None,
                },
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
