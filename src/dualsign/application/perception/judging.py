"""What an answer means: the text rules of ``domain.matching`` on the transcript, then — when the
recogniser scored the expected answers against the audio — confirmed or completed by those scores
(``domain.acoustic``). The same judgement for every way an answer arrives: live, typed, simulated, or
re-recognised from the recording.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dualsign.domain import acoustic
from dualsign.domain.matching import MatchResult, match
from dualsign.domain.normalization import LanguageFamily


def judge_answer(
    transcript: str,
    acceptable: Sequence[str],
    rejections: Sequence[str],
    family: LanguageFamily,
    scores: Heard | None = None,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
) -> MatchResult:
    result = match(transcript, acceptable, rejections, family)
    if scores is None:
        return result
    cands = acoustic.candidates(acceptable, rejections, family, expects)
    return acoustic.decide(result, scores.transcript, scores.candidates, cands, family)


@dataclass(frozen=True)
class Heard:
    """What the recogniser measured besides the transcript: its own score and each candidate's."""

    transcript: acoustic.Scored
    candidates: tuple[acoustic.Scored, ...]
