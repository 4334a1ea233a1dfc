"""Answer verdicts: does a transcript affirm one of the acceptable answers?

The worst error this product can make is a false ACCEPT of a negative or doubtful answer, so the rules
run from the most cautious down, and ACCEPT is reached only when an acceptable phrase is present, not
negated, and everything else said is neutral (particles, politeness, other plain affirmatives):

1. ``empty``: nothing but fillers → UNCLEAR
2. ``question``: a question back (?, 吗, A不A, what/why/pardon) → UNCLEAR
3. ``not_understood``: 没听懂 / 听不清 / repeat please → UNCLEAR
4. ``rejection_phrase``: a rejection the template lists, outside an acceptable phrase → REJECT
5. ``negated_phrase``: an acceptable phrase with a negation just before it (不知道, 不太清楚) → REJECT
   (UNCLEAR when the phrase is itself negative: 不是没有 is a double negation)
6. ``hedge`` / ``conditional``: 可能 / 应该吧 / maybe / but … → UNCLEAR
7. ``negation``: a negation anywhere else → REJECT (UNCLEAR beside an acceptable phrase: mixed answer)
8. ``extra_content``: words beyond the phrase that are not plainly neutral → UNCLEAR
9. ``accepted``: → ACCEPT (``via`` says exact text, same pinyin, or accent-tolerant pinyin)
10. ``no_match``: → UNCLEAR
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from dualsign.domain.answer_vocabulary import (
    _ZH_A_NOT_A,
    EN_AFFIRMATIVES,
    EN_AGREEING_NEGATIVES,
    EN_CONDITIONALS,
    EN_GAP_WORDS,
    EN_HEDGE_PHRASES,
    EN_HEDGES,
    EN_NEGATION_IDIOMS,
    EN_NEGATIONS,
    EN_NOT_UNDERSTOOD,
    EN_PARTICLES,
    EN_QUESTION_OPENERS,
    EN_QUESTION_WORDS,
    ZH_AFFIRMATIVES,
    ZH_CONDITIONALS,
    ZH_HEDGE_IDIOMS,
    ZH_HEDGES,
    ZH_NEGATION_CHARS,
    ZH_NEGATION_IDIOMS,
    ZH_NEGATION_SOUNDS,
    ZH_NOT_UNDERSTOOD,
    ZH_PARTICLES,
    ZH_QUESTION_PARTICLES,
    ZH_QUESTION_WORDS,
)
from dualsign.domain.normalization import (
    HAN,
    LanguageFamily,
    NormalizedText,
    fuzzy_syllable,
    normalize,
    phrase_tokens,
    simplified,
    syllable,
    syllables,
)


class Verdict(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    UNCLEAR = "UNCLEAR"


@dataclass(frozen=True)
class MatchResult:
    verdict: Verdict
    rule: str
    normalized: str
    matched_phrase: str | None = None
    via: str | None = None  # exact | pinyin | fuzzy_pinyin | acoustic
    detail: str = ""
    # the expected answers scored against the audio (domain.acoustic): winner, margins; None: not scored
    acoustic: Mapping[str, object] | None = None

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "verdict": self.verdict.value,
            "rule": self.rule,
            "normalized": self.normalized,
            "matched_phrase": self.matched_phrase,
            "via": self.via,
            "detail": self.detail,
        }
        if self.acoustic is not None:
            out["acoustic"] = dict(self.acoustic)
        return out


@dataclass(frozen=True)
class _Span:
    start: int
    end: int  # exclusive
    phrase: str
    via: str


def match(
    transcript: str,
    acceptable: Sequence[str],
    rejections: Sequence[str] = (),
    family: LanguageFamily = "zh",
) -> MatchResult:
    """Judge ``transcript`` against the acceptable answers; when in doubt, UNCLEAR."""
    norm = normalize(transcript, family)
    toks = norm.tokens
    text = norm.text

    def result(verdict: Verdict, rule: str, detail: str = "", span: _Span | None = None) -> MatchResult:
        return MatchResult(
            verdict, rule, text, span.phrase if span else None, span.via if span else None, detail
        )

    if not toks:
        return result(Verdict.UNCLEAR, "empty", "no words after removing punctuation and fillers")
    accepted = _find_spans(toks, acceptable, family, allow_sound=True)
    taken = {i for s in accepted for i in range(s.start, s.end)}
    # "没有没有" repeats an acceptable answer; it is not the question "有没有".
    only_phrases = bool(accepted) and len(taken) == len(toks)
    question = _question(norm, check_a_not_a=not only_phrases)
    if question:
        return result(Verdict.UNCLEAR, "question", question)
    not_understood = _find_any(toks, family, ZH_NOT_UNDERSTOOD, EN_NOT_UNDERSTOOD)
    if not_understood:
        return result(Verdict.UNCLEAR, "not_understood", not_understood)
    hedge_idiom = _find_any(toks, family, ZH_HEDGE_IDIOMS, ())
    if hedge_idiom:
        return result(Verdict.UNCLEAR, "hedge", f"hedged with {hedge_idiom!r}")
    idioms = _idiom_positions(toks, family)
    for rej in _find_spans(toks, rejections, family, allow_sound=False):
        if not (taken | idioms).intersection(range(rej.start, rej.end)):
            return result(Verdict.REJECT, "rejection_phrase", f"said {rej.phrase!r}", rej)

    for span in accepted:
        neg = _negation_before(toks, span, taken | idioms, family)
        if neg:
            if _is_negative(span.phrase, family):
                return result(Verdict.UNCLEAR, "negated_phrase", f"double negation: {neg!r} before it", span)
            return result(Verdict.REJECT, "negated_phrase", f"{neg!r} before the phrase", span)

    segments = _residual_segments(toks, taken)
    hedge = _first_in_segments(segments, family, ZH_HEDGES, EN_HEDGES, EN_HEDGE_PHRASES)
    if hedge:
        return result(Verdict.UNCLEAR, "hedge", f"hedged with {hedge!r}", accepted[0] if accepted else None)
    cond = _first_in_segments(segments, family, ZH_CONDITIONALS, EN_CONDITIONALS, ())
    if cond:
        return result(
            Verdict.UNCLEAR, "conditional", f"qualified with {cond!r}", accepted[0] if accepted else None
        )

    negative_polarity = any(_is_negative(s.phrase, family) for s in accepted)
    stripped = [_strip_idioms(seg, family) for seg in segments]
    if negative_polarity and family == "en":
        # "no, nobody" / "no, never": further plain negatives agree with a negative answer
        stripped = [tuple(t for t in seg if t not in EN_AGREEING_NEGATIVES) for seg in stripped]
    neg_word = _negation_in(stripped, family)
    if neg_word:
        if accepted:
            return result(Verdict.UNCLEAR, "negation", f"mixed answer: also said {neg_word!r}", accepted[0])
        return result(Verdict.REJECT, "negation", f"said {neg_word!r}")

    if not accepted:
        return result(Verdict.UNCLEAR, "no_match", "none of the acceptable answers was said")

    leftover = _leftover(stripped, family, allow_affirmatives=not negative_polarity)
    if leftover:
        return result(Verdict.UNCLEAR, "extra_content", f"also said {leftover!r}", accepted[0])
    best = accepted[0]
    return result(Verdict.ACCEPT, "accepted", f"said {best.phrase!r}", best)


# --- helpers ---------------------------------------------------------------------------------------------
def _question(norm: NormalizedText, check_a_not_a: bool) -> str:
    if norm.asked_question:
        return "question mark in the transcript"
    toks = norm.tokens
    if norm.family == "zh":
        text = norm.text
        # "有，没有" is two answers, "有没有" one question: the pattern never spans a pause
        a_not_a = (
            next((m for c in norm.clauses if (m := _ZH_A_NOT_A.search(c))), None) if check_a_not_a else None
        )
        if a_not_a:
            return f"A-not-A question {a_not_a.group(0)!r}"
        for p in ZH_QUESTION_PARTICLES:
            if text.endswith(p) or (p in ("吗", "么") and p in text):
                return f"question particle {p!r}"
        for w in ZH_QUESTION_WORDS:
            if w in text:
                return f"question word {w!r}"
        return ""
    for w in toks:
        if w in EN_QUESTION_WORDS:
            return f"question word {w!r}"
    for opener in EN_QUESTION_OPENERS:
        if toks[: len(opener)] == opener:
            return f"starts like a question: {' '.join(opener)!r}"
    return ""


def _find_any(
    toks: tuple[str, ...], family: LanguageFamily, zh: Sequence[str], en: Sequence[tuple[str, ...]]
) -> str:
    if family == "zh":
        text = "".join(toks)
        return next((w for w in zh if w in text), "")
    for seq in en:
        if _index_of(toks, seq) >= 0:
            return " ".join(seq)
    return ""


def _index_of(toks: Sequence[str], seq: Sequence[str], start: int = 0) -> int:
    n = len(seq)
    for i in range(start, len(toks) - n + 1):
        if tuple(toks[i : i + n]) == tuple(seq):
            return i
    return -1


def _find_spans(
    toks: tuple[str, ...], phrases: Sequence[str], family: LanguageFamily, allow_sound: bool
) -> list[_Span]:
    """Non-overlapping occurrences of any phrase, longest phrases first, in text order."""
    wanted = sorted(
        {(p, phrase_tokens(p, family)) for p in phrases if phrase_tokens(p, family)},
        key=lambda pair: -len(pair[1]),
    )
    spans: list[_Span] = []
    used: set[int] = set()
    modes: list[str] = ["exact"] + (["pinyin", "fuzzy_pinyin"] if family == "zh" and allow_sound else [])
    for mode in modes:
        for phrase, ptoks in wanted:
            if mode != "exact" and len(ptoks) < 2:
                continue  # one syllable is too weak to match by sound (十 is not 是)
            for start, end in _occurrences(toks, ptoks, mode, family):
                if used.isdisjoint(range(start, end)):
                    spans.append(_Span(start, end, phrase, mode))
                    used.update(range(start, end))
    return sorted(spans, key=lambda s: s.start)


def _occurrences(
    toks: tuple[str, ...], ptoks: tuple[str, ...], mode: str, family: LanguageFamily
) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    if mode == "exact" and family == "en":
        out.extend(_gapped(toks, ptoks))
        return out
    target = _sound(ptoks, mode)
    seq = _sound(toks, mode)
    i = _index_of(seq, target)
    while i >= 0:
        out.append((i, i + len(target)))
        i = _index_of(seq, target, i + len(target))
    return out


def _sound(toks: tuple[str, ...], mode: str) -> tuple[str, ...]:
    if mode == "pinyin":
        return syllables(toks)
    if mode == "fuzzy_pinyin":
        return tuple(fuzzy_syllable(s) for s in syllables(toks))
    return toks


def _gapped(toks: tuple[str, ...], ptoks: tuple[str, ...]) -> list[tuple[int, int]]:
    """English phrase occurrences allowing intensifiers between its words ("i do understand")."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(toks):
        if toks[i] != ptoks[0]:
            i += 1
            continue
        j, k = i + 1, 1
        while k < len(ptoks) and j < len(toks):
            if toks[j] == ptoks[k]:
                k += 1
            elif toks[j] not in EN_GAP_WORDS:
                break
            j += 1
        if k == len(ptoks):
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


def is_negative_phrase(phrase: str, family: LanguageFamily) -> bool:
    """The phrase itself says no (没有, 不是, no one): the answer a "has anyone …?" question expects."""
    return _is_negative(phrase, family)


def _is_negative(phrase: str, family: LanguageFamily) -> bool:
    toks = phrase_tokens(phrase, family)
    if family == "zh":
        return any(t in ZH_NEGATION_CHARS for t in toks)
    return any(t in EN_NEGATIONS for t in toks)


def _negation_before(toks: tuple[str, ...], span: _Span, taken: set[int], family: LanguageFamily) -> str:
    window = 3
    before = [i for i in range(max(0, span.start - window), span.start) if i not in taken]
    if family == "zh":
        for i in before:
            if toks[i] in ZH_NEGATION_CHARS or syllable(toks[i]) in ZH_NEGATION_SOUNDS:
                return "".join(toks[i : span.start])
        return ""
    for i in before:
        if toks[i] in EN_NEGATIONS:
            return " ".join(toks[i : span.start])
    return ""


def _residual_segments(toks: tuple[str, ...], taken: set[int]) -> list[tuple[str, ...]]:
    segments: list[tuple[str, ...]] = []
    current: list[str] = []
    for i, t in enumerate(toks):
        if i in taken:
            if current:
                segments.append(tuple(current))
            current = []
        else:
            current.append(t)
    if current:
        segments.append(tuple(current))
    return segments


def _first_in_segments(
    segments: list[tuple[str, ...]],
    family: LanguageFamily,
    zh: Sequence[str],
    en_words: frozenset[str],
    en_phrases: Sequence[tuple[str, ...]],
) -> str:
    for seg in segments:
        if family == "zh":
            text = "".join(seg)
            hit = next((w for w in zh if w in text), "")
            if hit:
                return hit
        else:
            word = next((w for w in seg if w in en_words), "")
            if word:
                return word
            for phrase in en_phrases:
                if _index_of(seg, phrase) >= 0:
                    return " ".join(phrase)
    return ""


def _idiom_positions(toks: tuple[str, ...], family: LanguageFamily) -> set[int]:
    """Token positions inside affirmative idioms that contain a negation word (没错, no problem)."""
    found: set[int] = set()
    idioms = [tuple(i) for i in ZH_NEGATION_IDIOMS] if family == "zh" else list(EN_NEGATION_IDIOMS)
    for idiom in idioms:
        i = _index_of(toks, idiom)
        while i >= 0:
            found.update(range(i, i + len(idiom)))
            i = _index_of(toks, idiom, i + len(idiom))
    return found


def _strip_idioms(seg: tuple[str, ...], family: LanguageFamily) -> tuple[str, ...]:
    """Remove affirmative idioms that contain a negation word (没问题, no problem)."""
    if family == "zh":
        text = "".join(seg)
        for idiom in sorted(ZH_NEGATION_IDIOMS, key=len, reverse=True):
            text = text.replace(idiom, "")
        return tuple(text)
    out = list(seg)
    for words in EN_NEGATION_IDIOMS:
        i = _index_of(out, words)
        while i >= 0:
            del out[i : i + len(words)]
            i = _index_of(out, words)
    return tuple(out)


def _negation_in(segments: list[tuple[str, ...]], family: LanguageFamily) -> str:
    for seg in segments:
        for t in seg:
            if (family == "zh" and t in ZH_NEGATION_CHARS) or (family == "en" and t in EN_NEGATIONS):
                return t
    return ""


def _leftover(segments: list[tuple[str, ...]], family: LanguageFamily, allow_affirmatives: bool) -> str:
    if family == "zh":
        vocab = ZH_PARTICLES + (ZH_AFFIRMATIVES if allow_affirmatives else ())
        words = sorted(vocab, key=len, reverse=True)
        rest = []
        for seg in segments:
            text = "".join(seg)
            for w in words:
                text = text.replace(w, "")
            if text:
                rest.append(text)
        return "".join(rest)
    allowed = EN_PARTICLES | (EN_AFFIRMATIVES if allow_affirmatives else frozenset())
    return " ".join(t for seg in segments for t in seg if t not in allowed)


def heard_text(transcript: str | None, verdict: str | None, explanation: object) -> str | None:
    """What the signer is told was heard, beside the verdict: the transcript in simplified characters;
    but for an answer accepted on how it sounds (``via`` pinyin, fuzzy pinyin or the audio scored against
    the expected answers), the answer it was accepted as — the free transcript of a short Mandarin
    answer is often a homophone or nonsense (对的 → 對的, 是的 → 屁股), and showing it beside 已确认 tells
    the signer something other than what was decided. The evidence keeps the transcript as recognised."""
    if verdict == Verdict.ACCEPT and isinstance(explanation, Mapping):
        phrase, via = explanation.get("matched_phrase"), explanation.get("via")
        if isinstance(phrase, str) and phrase and via not in (None, "exact"):
            return phrase
    text = simplified(transcript).strip() if transcript else ""
    return chinese_punctuation(text) or None


_FULL_WIDTH = str.maketrans({",": "，", "?": "？", "!": "！", ";": "；", ":": "："})


def chinese_punctuation(text: str) -> str:
    """A Chinese transcript written with Chinese punctuation: Whisper now and then puts an ASCII comma or
    question mark between Chinese words (是的,但是…), which reads as a typo on a Chinese page. Text with
    no Chinese character is left as it is."""
    if not HAN.search(text):
        return text
    return text.translate(_FULL_WIDTH)
