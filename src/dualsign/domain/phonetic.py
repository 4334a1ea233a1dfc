"""How a Mandarin transcript sounds next to the expected answers: a second, independent witness for the
acoustic scores.

A small recogniser often writes a clear Mandarin answer as other characters that sound almost the same
(我本人 → 我被人, 我自愿 → 我自然, 没有人 → 美余仁, 是的，我清楚 → 是的，我牵住). Each text becomes its
sequence of toneless initials and finals (我被人 → w o b ei r en) and two texts are as far apart as the
edits that turn one sequence into the other, over the longer one's length (我被人 ↔ 我本人: 1 of 6,
0.17). A negation is a syllable of its own (不 b u, 没 m ei), so a transcript that lost or kept it is
measured against the negated answers too: 补装衣 (b u zh uang y i) is nearer 不同意 than 同意.

Answers are often two parts, an affirmation then the answer (是的，我清楚), and may close with a particle
(是自愿的, 明白了): each expected answer is also compared with a short affirmation (and 我) before it and
a particle after it, and each opposing one likewise.

Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from pypinyin import Style, lazy_pinyin

from dualsign.domain.normalization import HAN, normalize

# what a signer says before the answer itself (是的，我清楚 / 对，我同意)
LEAD_INS = ("是的", "是", "对", "好", "嗯")
# what closes it (是自愿的, 明白了)
CLOSINGS = ("的", "了")


@cache
def phones(text: str) -> tuple[str, ...]:
    """The toneless initials and finals of a text's Chinese characters, in order (我被人 → w o b ei r en)."""
    chars = "".join(HAN.findall(normalize(text, "zh").text))
    if not chars:
        return ()
    initials = lazy_pinyin(chars, style=Style.INITIALS, strict=False)
    finals = lazy_pinyin(chars, style=Style.FINALS, strict=False)
    out: list[str] = []
    for ini, fin in zip(initials, finals, strict=True):
        if ini:
            out.append(ini)
        if fin:
            out.append(fin)
    return tuple(out)


def distance(a: Sequence[str], b: Sequence[str]) -> float:
    """Edits (insert, delete, substitute) turning ``a`` into ``b``, over the longer length: 0 the same, 1
    nothing in common."""
    if not a or not b:
        return 1.0
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1] / max(len(a), len(b))


def with_lead_ins(phrases: Iterable[str]) -> tuple[str, ...]:
    """Each phrase, with a lead-in before it (是的清楚, 是的我清楚 …), and each of those with a closing
    particle (是自愿的, 明白了)."""
    out: list[str] = []
    for p in phrases:
        forms = [p]
        for lead in LEAD_INS:
            if not p.startswith(lead):
                forms += [lead + p, lead + "我" + p.removeprefix("我")]
        out += forms
        out += [f + end for f in forms for end in CLOSINGS if not f.endswith(end)]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Nearest:
    phrase: str
    distance: float


def nearest(text: str, phrases: Iterable[str]) -> Nearest | None:
    """The phrase (lead-ins included) that sounds most like ``text``."""
    heard = phones(text)
    best: Nearest | None = None
    for phrase in with_lead_ins(phrases):
        d = distance(heard, phones(phrase))
        if best is None or d < best.distance:
            best = Nearest(phrase, d)
    return best
