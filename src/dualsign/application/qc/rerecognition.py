"""Post-hoc re-recognition: every answer window of an uploaded recording transcribed again.

The browser's recording (webm/opus, ogg/opus, mp4/aac — anything FFmpeg decodes) is the primary
evidence; QC compares what it says in each answer window with the verdict given live. Windows are in
recording time (seconds). Only the speech the VAD finds inside a window is transcribed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dualsign.application.perception.judging import judge_answer
from dualsign.application.perception.speech import answer_hints, heard_scores
from dualsign.domain.matching import MatchResult
from dualsign.domain.participants import Agent, judge_introduction
from dualsign.domain.recording_time import AnswerWindow
from dualsign.domain.templates import Participant, Template, answers
from dualsign.engines.base import SAMPLE_RATE, VAD_FRAME, AsrEngine, EngineFailed, Transcript, VadEngine
from dualsign.media.audio import decode


@dataclass(frozen=True)
class Rerecognized:
    window: AnswerWindow
    speech_s: float  # how much of the window the VAD found to be speech
    transcript: Transcript | None
    result: MatchResult | None  # None: no speech in the window, or the recogniser failed
    error: str | None = None


def speech_only(audio: np.ndarray, vad: VadEngine, threshold: float = 0.5, pad_frames: int = 6) -> np.ndarray:
    """The windows the VAD scores as speech (with a little padding), joined."""
    probs = np.array(vad.stream().feed(audio))
    keep = probs >= threshold
    if not keep.any():
        return np.zeros(0, dtype=np.float32)
    padded = np.convolve(keep.astype(int), np.ones(2 * pad_frames + 1, dtype=int), mode="same") > 0
    frames = audio[: len(padded) * VAD_FRAME].reshape(-1, VAD_FRAME)
    return frames[padded].reshape(-1).astype(np.float32)


def rerecognize(
    recording: bytes,
    windows: Sequence[AnswerWindow],
    template: Template,
    vad: VadEngine,
    asr: AsrEngine,
    agent: Agent | None = None,  # the agent whose introduction is one of the windows
) -> list[Rerecognized]:
    audio = decode(recording)
    family = template.language.family
    out: list[Rerecognized] = []
    for w in windows:
        part = audio[int(w.start_s * SAMPLE_RATE) : int(w.end_s * SAMPLE_RATE)]
        voiced = speech_only(part, vad)
        if len(voiced) == 0:
            out.append(Rerecognized(w, 0.0, None, None))
            continue
        q = template.question(w.question_id)
        try:  # heard and judged as live: the same hints, the same scored candidates
            t = asr.transcribe(voiced, language=family, hints=answer_hints(q, family, agent))
        except EngineFailed as exc:
            out.append(Rerecognized(w, len(voiced) / SAMPLE_RATE, None, None, exc.reason))
            continue
        acceptable, rejections = answers(q, family)
        scores = heard_scores(t)
        heard = t.text.strip()
        if not heard:
            result = None
        elif q.speaker is Participant.AGENT and agent is not None:
            result = judge_introduction(t.text, agent, family)
        else:
            result = judge_answer(t.text, acceptable, rejections, family, scores, q.polarity.value)
        out.append(Rerecognized(w, round(len(voiced) / SAMPLE_RATE, 3), t, result))
    return out
