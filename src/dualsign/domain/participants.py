"""The agent on camera with the signer (in-branch 面签, the insurance seller's 双录).

A template declares its participants (``templates.Participant``); with an agent, the agent registered at
session creation (role label, name, licence or staff number, photo) introduces themselves as the first
prompt. What is judged of the introduction: that the agent spoke (a transcript was heard: ACCEPT, else
the prompt is asked again like any question) and, recorded beside the verdict as the rule, whether the
registered name and number were recognised in what was said. The quality check sends an introduction in
which neither was recognised to a person (names and long digit strings are what recognisers miss most,
so a miss is not a failure); the reviewer hears the recording and sees the ID card on the video.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from dualsign.domain.event_payloads import AgentRecord
from dualsign.domain.matching import MatchResult, Verdict
from dualsign.domain.normalization import LanguageFamily, normalize, phrase_tokens, syllables

# the rules an introduction's verdict carries: what was recognised of the registered identity
INTRODUCTION_RULES = (
    "introduction_complete",  # the name and the number
    "introduction_name_only",
    "introduction_number_only",
    "introduction_unconfirmed",  # neither: a person checks the recording
)
_ZH_DIGITS = str.maketrans("〇零一二三四五六七八九幺两", "0012345678912")


@dataclass(frozen=True)
class Agent:
    """The agent as the session recorded them (``session_created``'s ``agent``)."""

    label: str  # the template's role label: 销售人员, 客户经理
    name: str
    number: str  # the licence or staff number as given (masked when it is a resident ID number)
    photo_sha256: str  # their photo, the artifact ``agent_photo``

    @classmethod
    def of(cls, payload: Mapping[str, object]) -> Agent:
        return cls(
            str(payload["label"]), str(payload["name"]), str(payload["number"]), str(payload["photo_sha256"])
        )


def _digits_and_letters(text: str) -> str:
    raw = unicodedata.normalize("NFKC", text).translate(_ZH_DIGITS).upper()
    return re.sub(r"[^0-9A-Z]", "", raw)


def name_heard(transcript: str, name: str, family: LanguageFamily) -> bool:
    """The name is in the transcript, as written or (zh) as the same toneless pinyin (李思 for 李四)."""
    heard = normalize(transcript, family).tokens
    wanted = phrase_tokens(name, family)
    if not wanted or not heard:
        return False
    n = len(wanted)
    windows = [heard[i : i + n] for i in range(len(heard) - n + 1)]
    if wanted in windows:
        return True
    if family != "zh":
        return False
    sound = syllables(wanted)
    return any(syllables(w) == sound for w in windows)


def number_heard(transcript: str, number: str) -> bool:
    """The number's digits and letters are in the transcript (digits read as Chinese numerals count;
    a masked number is compared on its visible ends)."""
    said = _digits_and_letters(transcript)
    parts = [p for p in re.split(r"\*+", number.upper()) if p]
    wanted = [_digits_and_letters(p) for p in parts]
    return bool(wanted) and all(w and w in said for w in wanted)


def judge_introduction(transcript: str, agent: Agent, family: LanguageFamily) -> MatchResult:
    """ACCEPT once the agent said something; the rule records what of their identity was recognised."""
    normalized = normalize(transcript, family).text
    if not normalized:
        return MatchResult(Verdict.UNCLEAR, "introduction_empty", normalized)
    name, number = name_heard(transcript, agent.name, family), number_heard(transcript, agent.number)
    rule = INTRODUCTION_RULES[
        {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}[(name, number)]
    ]
    detail = f"name {'heard' if name else 'not heard'}, number {'heard' if number else 'not heard'}"
    return MatchResult(Verdict.ACCEPT, rule, normalized, detail=detail)


def agent_record(label: str, name: str, number: str, photo_sha256: str) -> AgentRecord:
    """What ``session_created`` records of the agent (the photo is an artifact: its digest only)."""
    return {"label": label, "name": name, "number": number, "photo_sha256": photo_sha256}
