"""Text normalisation for answer matching: what an ASR transcript means, not how it was typed.

Chinese: full/half width folded (NFKC), traditional → simplified (OpenCC t2s), punctuation and fillers
removed, characters mapped to toneless pinyin so that homophones an ASR engine writes compare equal.
English: NFKC, case folded, contractions expanded (``don't`` → ``do not``), fillers removed.
Pure functions, no I/O: the conversion tables are data inside the libraries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import Literal

import opencc
from pypinyin import Style, lazy_pinyin

LanguageFamily = Literal["zh", "en"]

ZH_FILLERS = ("那个", "这个", "就是说", "嗯", "啊", "呃", "额", "唔", "哦", "噢", "哎", "唉", "诶", "欸")
EN_FILLERS = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "ah", "ahh", "hmm", "hm", "mm", "mmm", "oh"}
)

_EN_CONTRACTIONS = (
    (re.compile(r"\bcan'?t\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"\bwon'?t\b"), "will not"),
    (re.compile(r"\bain'?t\b"), "am not"),
    (re.compile(r"\bshan'?t\b"), "shall not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"\b(do|does|did|is|are|was|were|have|has|had|could|would|should)nt\b"), r"\1 not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"\b(it|that|what|there|here|he|she)'s\b"), r"\1 is"),
)
_EN_WORD = re.compile(r"[a-z0-9]+")
_QUESTION_MARKS = ("?", "？", "¿")
_CLAUSE_BREAK = re.compile(r"[\s,.;:!?，。；：！？、…~～]+")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")  # a Chinese character (CJK unified, ext. A, compatibility)


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def simplified(text: str) -> str:
    """``text`` with traditional characters written simplified (Whisper writes either); other text as is."""
    return str(_t2s().convert(text))


def _is_punct_or_space(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("P", "S", "Z", "C")


@dataclass(frozen=True)
class NormalizedText:
    """A transcript made comparable: ``tokens`` are characters (zh) or words (en)."""

    family: LanguageFamily
    original: str
    tokens: tuple[str, ...]
    asked_question: bool  # a question mark was in the transcript
    clauses: tuple[str, ...] = ()  # zh: the text between punctuation marks, each normalised

    @property
    def text(self) -> str:
        return ("" if self.family == "zh" else " ").join(self.tokens)


def normalize(text: str, family: LanguageFamily) -> NormalizedText:
    raw = unicodedata.normalize("NFKC", text)
    asked = any(q in raw for q in _QUESTION_MARKS)
    if family == "zh":
        clauses = tuple(c for c in (_zh_chars(part) for part in _CLAUSE_BREAK.split(raw)) if c)
        return NormalizedText(family, text, tuple("".join(clauses)), asked, clauses)
    return NormalizedText(family, text, tuple(_en_words(raw)), asked)


def _zh_chars(raw: str) -> str:
    simplified = _t2s().convert(raw).lower()
    kept = "".join(ch for ch in simplified if not _is_punct_or_space(ch))
    for filler in ZH_FILLERS:
        kept = kept.replace(filler, "")
    return kept


def _en_words(raw: str) -> list[str]:
    low = raw.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    for pattern, repl in _EN_CONTRACTIONS:
        low = pattern.sub(repl, low)
    return [w for w in _EN_WORD.findall(low) if w not in EN_FILLERS]


def phrase_tokens(phrase: str, family: LanguageFamily) -> tuple[str, ...]:
    """An expected phrase in the same token form as a normalised transcript (fillers kept)."""
    raw = unicodedata.normalize("NFKC", phrase)
    if family == "zh":
        simplified = _t2s().convert(raw).lower()
        return tuple(ch for ch in simplified if not _is_punct_or_space(ch))
    low = raw.lower().replace("\u2019", "'")
    for pattern, repl in _EN_CONTRACTIONS:
        low = pattern.sub(repl, low)
    return tuple(_EN_WORD.findall(low))


def syllables(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Toneless pinyin of each character, read in context (了解 is liao jie, 了 alone is le)."""
    text = "".join(tokens)
    out = lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: list(s))  # type: ignore[arg-type,return-value]  # pypinyin accepts a list
    return tuple(out) if len(out) == len(tokens) else tuple(syllable(t) for t in tokens)


@cache
def syllable(ch: str) -> str:
    """Toneless pinyin of one character (the character itself when it is not Chinese)."""
    out = lazy_pinyin(ch, style=Style.NORMAL, errors="default")
    return out[0] if out else ch


_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("l", "n"))
_FUZZY_FINALS = (("ang", "an"), ("eng", "en"), ("ing", "in"))


@cache
def fuzzy_syllable(s: str) -> str:
    """A syllable with the initials and finals that regional accents and ASR engines confuse merged."""
    for long, short in _FUZZY_INITIALS:
        if s.startswith(long):
            s = short + s[len(long) :]
            break
    for long, short in _FUZZY_FINALS:
        if s.endswith(long):
            s = s[: -len(long)] + short
            break
    return s
