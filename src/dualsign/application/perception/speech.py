"""Listening to one spoken answer: VAD → end of answer → speech recognition, ready to be judged.

``AnswerCapture`` takes the signer's audio as it arrives (16 kHz mono), scores each 32 ms window with
the VAD, lets the domain's ``Endpointer`` decide start and end, and transcribes only the audio the VAD
marked as speech. Recognition starts speculatively during the closing silence, so that when the end is
confirmed the transcript is usually ready already; if the signer goes on speaking it is discarded. It
starts after 96 ms of silence when no other answer is being recognised in this process, else after
192 ms (``EndpointConfig``): on an idle recogniser an early start costs nobody anything, on a busy one
the recognitions a pause throws away would delay the answers that count.

The speculative transcript is also the *preview*: once it is ready and the signer is still silent, the
live channel shows its verdict at once (``preview``), well before the end of the answer is confirmed.
The recorded verdict is still decided when the end is confirmed, on the same transcript; if the signer
speaks again first, the preview is withdrawn (``withdrawals``) and the whole answer is judged, so an
answer that goes on after a pause ("是的……但是我还有个问题") is never judged on its first half.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import numpy as np

from dualsign.application.perception.judging import Heard, judge_answer
from dualsign.domain import acoustic
from dualsign.domain.endpointing import Endpoint, EndpointConfig, Endpointer, Signal
from dualsign.domain.matching import match
from dualsign.domain.normalization import LanguageFamily
from dualsign.domain.participants import Agent
from dualsign.domain.templates import Participant, Question, Template, answers, scored_answers
from dualsign.engines.base import SAMPLE_RATE, AsrEngine, AsrHints, Audio, EngineFailed, Transcript, VadEngine

# audio kept before and after the detected speech: the VAD confirms speech a little after it began, and
# a soft first syllable (不 from a slow, deep voice in noise) lost there turned 不清楚 into 清楚 — with
# 200 ms before, 5 of 24 such negatives were heard without their 不; with 500 ms, none
LEAD_PAD_MS = 500
PAD_MS = 200
# Languages whose answers are also scored against the expected ones (domain.acoustic). Mandarin: the
# margins were set on its corpus (bench/answer_latency --lang zh). English is judged on tiny.en's text
# alone (49/50 right on its corpus without scores); its margins are not measured yet.
SCORED_LANGUAGES = frozenset({"zh"})

# Negative answers that always join the hints, so biasing can never favour only the acceptable answers.
GENERIC_NEGATIVES = {
    "zh": ("不知道", "不清楚", "不明白", "不同意", "不是", "没有", "不愿意", "没听懂"),
    "en": ("no", "not", "I don't know", "I do not understand", "I don't agree", "never"),
}


def answer_hints(question: Question, family: LanguageFamily, agent: Agent | None = None) -> AsrHints:
    """Phrases to bias recognition (the acceptable answers only ever together with their negatives), and
    the candidates to score against the audio: the listed answers with the commonest words of the
    question's vocabulary, and their opposites. Whether to score is decided on the full vocabulary.
    The agent's introduction is biased toward their registered name and number, and never scored."""
    if question.speaker is Participant.AGENT:
        return AsrHints(tuple(x for x in (agent.name, agent.number) if "*" not in x) if agent else ())
    judged = answers(question, family)
    return hints_for(*scored_answers(question, family), family, question.polarity.value, judged=judged)


def hints_for(
    acceptable: Sequence[str],
    rejections: Sequence[str],
    family: LanguageFamily,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
    *,
    judged: tuple[Sequence[str], Sequence[str]] | None = None,
) -> AsrHints:
    """``judged``: the answers the text matcher judges with (default: the ones scored), which decide
    whether a transcript is worth scoring."""
    cands = acoustic.candidates(acceptable, rejections, family, expects)
    # the opposing answers (negated acceptable ones; for a deny question, the affirmatives) always join
    phrases = [*acceptable, *rejections, *GENERIC_NEGATIVES.get(family, ()), *cands.opposing]
    if family not in SCORED_LANGUAGES:
        return AsrHints(tuple(dict.fromkeys(phrases)))
    judge_acceptable, judge_rejections = judged or (acceptable, rejections)
    judged_cands = acoustic.candidates(judge_acceptable, judge_rejections, family, expects)

    def to_score(transcript: str) -> tuple[str, ...]:
        text_result = match(transcript, judge_acceptable, judge_rejections, family)
        return acoustic.to_score(text_result, transcript, family, cands, judged_cands)

    return AsrHints(tuple(dict.fromkeys(phrases)), candidates=cands.all, to_score=to_score)


def heard_scores(transcript: Transcript | None) -> Heard | None:
    """The recogniser's scores of the expected answers, for the verdict (None: it scored nothing)."""
    if transcript is None or transcript.heard_score is None or not transcript.candidate_scores:
        return None
    return Heard(
        acoustic.Scored(transcript.text, transcript.heard_score),
        tuple(acoustic.Scored(c.text, c.logprob) for c in transcript.candidate_scores),
    )


def endpoint_config(template: Template) -> EndpointConfig:
    s = template.speech
    return EndpointConfig.ending_after(
        s.end_silence_ms,
        no_speech_timeout_ms=int(s.no_speech_timeout_s * 1000),
        max_answer_ms=int(s.max_answer_s * 1000),
    )


@dataclass(frozen=True)
class CapturedAnswer:
    """The outcome of one answer window."""

    outcome: str  # speech | no_speech
    audio: Audio  # the speech segment (with padding); empty for no_speech
    transcript: Transcript | None
    speech_start_ms: int | None
    speech_end_ms: int | None
    decided_at_ms: int  # stream time when the end was confirmed
    waited_ms: int  # end of speech → end confirmed (the endpoint's silence)
    extra_compute_ms: float  # end confirmed → transcript ready (0 when speculation had finished)
    error: str | None = None  # recogniser failure: recorded, never turned into a verdict
    previewed_ms: int | None = None  # end of speech → its verdict previewed (None: not previewed)
    withdrawals: int = 0  # previews withdrawn because the signer spoke again


class _Recognitions:
    """Recognitions this process has started and not finished (queued or running), for every answer:
    an answer whose recognition would wait for nothing else may start it at the early moment."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0

    @property
    def idle(self) -> bool:
        return self._active == 0

    def started(self) -> None:
        with self._lock:
            self._active += 1

    def finished(self, _future: object = None) -> None:
        with self._lock:
            self._active -= 1


RECOGNITIONS = _Recognitions()


class AnswerCapture:
    def __init__(
        self,
        vad: VadEngine,
        asr: AsrEngine,
        config: EndpointConfig,
        *,
        language: str,
        hints: AsrHints | None,
        executor: ThreadPoolExecutor,
    ) -> None:
        self._vad = vad.stream()
        self._asr = asr
        self._endpointer = Endpointer(config)
        self._language = language
        self._hints = hints
        self._executor = executor
        self._chunks: list[Audio] = []
        self._samples = 0
        self._speculation: tuple[int, Future[Transcript]] | None = None
        self._announced: Future[Transcript] | None = None  # the speculation the caller was told of
        self._ended: tuple[Endpoint, int, int] | None = None  # the end, before its transcript is ready
        self._previewed: tuple[int, int] | None = None  # (speech end, stream time) of the shown preview
        self._withdrawn = False  # a preview was withdrawn and the page not told yet
        self.withdrawals = 0
        self._lock = threading.Lock()  # the preview is marked on the event loop, withdrawn on a speech thread
        self.started = False
        self.result: CapturedAnswer | None = None

    @property
    def elapsed_ms(self) -> int:
        return self._samples * 1000 // SAMPLE_RATE

    @property
    def ended(self) -> bool:
        return self.result is not None or self._ended is not None

    def feed(self, samples: Audio, *, wait: bool = True) -> list[Endpoint]:
        """Add audio; returns the endpoint signals it caused. Once the answer ended, ``result`` is set
        (waiting for its transcript); with ``wait=False`` only ``ended`` is, and ``complete()`` waits."""
        if self.ended:
            return []
        self._chunks.append(samples)
        self._samples += len(samples)
        signals: list[Endpoint] = []
        for probability in self._vad.feed(samples):
            decided = self._endpointer.push(probability)
            if decided is None:
                continue
            signals.append(decided)
            self._on(decided)
            if self.ended:
                break
        if wait and self._ended is not None:
            self.complete()
        return signals

    def complete(self) -> CapturedAnswer | None:
        """The outcome of an answer that ended: waits for the transcript if it is not ready yet."""
        if self.result is None and self._ended is not None:
            e, start, end = self._ended
            self.result = self._finish(e, start, end)
        return self.result

    @property
    def speculation(self) -> Future[Transcript] | None:
        """The speculative recognition of the answer so far, while the signer is silent (None: none)."""
        return self._speculation[1] if self._speculation is not None else None

    def take_new_speculation(self) -> Future[Transcript] | None:
        """The speculation started since the last call, once (None: no new one): what to preview."""
        current = self.speculation
        if current is None or current is self._announced:
            return None
        self._announced = current
        return current

    def preview(self, speculation: Future[Transcript]) -> Transcript | None:
        """The transcript of ``speculation`` if its verdict may be shown now: it is done and still the
        current one (the signer has not spoken again), and the silence is long enough (``preview_due``)."""
        with self._lock:
            current = self._speculation
            if current is None or current[1] is not speculation or not self.preview_due:
                return None
        if not speculation.done() or speculation.cancelled() or speculation.exception() is not None:
            return None
        return speculation.result()

    @property
    def preview_due(self) -> bool:
        """The silence after the speech is long enough to show the verdict (the end is not confirmed)."""
        return not self.ended and self._endpointer.preview_due

    def mark_previewed(self, speculation: Future[Transcript]) -> bool:
        """The preview of ``speculation`` is being shown, if it still may be (False: the signer spoke
        again meanwhile, or the answer ended). From now on, speech withdraws it."""
        with self._lock:
            current = self._speculation
            if current is None or current[1] is not speculation or self.ended:
                return False
            self._previewed = (current[0], self.elapsed_ms)
            return True

    @property
    def previewed_ms(self) -> int | None:
        """End of speech → the preview's transcript ready (stream time; None: no preview shown)."""
        return None if self._previewed is None else self._previewed[1] - self._previewed[0]

    def take_withdrawal(self) -> bool:
        """The signer spoke again after a preview was shown: True once, to tell the page."""
        withdrawn, self._withdrawn = self._withdrawn, False
        return withdrawn

    def _segment(self, start_ms: int, end_ms: int) -> Audio:
        audio = np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0]
        self._chunks = [audio]
        first = max(0, (start_ms - LEAD_PAD_MS) * SAMPLE_RATE // 1000)
        last = min(len(audio), (end_ms + PAD_MS) * SAMPLE_RATE // 1000)
        return audio[first:last]

    def _on(self, e: Endpoint) -> None:
        if e.signal is Signal.STARTED:
            self.started = True
        elif (
            e.signal in (Signal.SPECULATE_EARLY, Signal.SPECULATE)
            and e.speech_start_ms is not None
            and e.speech_end_ms is not None
        ):
            if self._speculation is not None and self._speculation[0] == e.speech_end_ms:
                return  # started at the early moment already
            if e.signal is Signal.SPECULATE_EARLY and not RECOGNITIONS.idle:
                return  # other answers are being recognised: start at the usual moment
            segment = self._segment(e.speech_start_ms, e.speech_end_ms)
            RECOGNITIONS.started()
            future = self._executor.submit(self._transcribe, segment)
            future.add_done_callback(RECOGNITIONS.finished)  # also when cancelled before it ran
            self._speculation = (e.speech_end_ms, future)
        elif e.signal is Signal.RESUMED:
            with self._lock:
                if self._speculation:
                    self._speculation[1].cancel()
                self._speculation = None
                if self._previewed is not None:
                    self._previewed = None
                    self._withdrawn = True
                    self.withdrawals += 1
        elif e.signal is Signal.NO_SPEECH:
            self.result = CapturedAnswer(
                "no_speech", np.zeros(0, np.float32), None, None, None, e.at_ms, 0, 0.0
            )
        elif e.signal in (Signal.ENDED, Signal.MAX_LENGTH):
            start = e.speech_start_ms if e.speech_start_ms is not None else 0
            end = e.speech_end_ms if e.speech_end_ms is not None else e.at_ms
            self._ended = (e, start, end)

    def _transcribe(self, segment: Audio) -> Transcript:
        return self._asr.transcribe(segment, language=self._language, hints=self._hints)

    def _finish(self, e: Endpoint, start_ms: int, end_ms: int) -> CapturedAnswer:
        segment = self._segment(start_ms, end_ms)
        confirmed = time.perf_counter()
        error = None
        transcript: Transcript | None = None
        try:
            if self._speculation and self._speculation[0] == end_ms:
                transcript = self._speculation[1].result()
            else:
                RECOGNITIONS.started()
                try:
                    transcript = self._transcribe(segment)
                finally:
                    RECOGNITIONS.finished()
        except EngineFailed as exc:
            error = exc.reason
        extra = (time.perf_counter() - confirmed) * 1000
        waited = e.at_ms - end_ms
        shown = self._previewed
        previewed = shown[1] - end_ms if shown is not None and shown[0] == end_ms else None
        return CapturedAnswer(
            "speech",
            segment,
            transcript,
            start_ms,
            end_ms,
            e.at_ms,
            waited,
            round(extra, 1),
            error,
            previewed,
            self.withdrawals,
        )

    def finish_now(self) -> CapturedAnswer:
        """The stream stopped (the signer tapped 'done', the connection closed): decide with what is here."""
        if self.ended:
            result = self.complete()
            assert result is not None  # noqa: S101 (ended: decided, or its transcript awaited)
            return result
        start = self._endpointer.start_ms
        if start is None:
            self.result = CapturedAnswer(
                "no_speech", np.zeros(0, np.float32), None, None, None, self.elapsed_ms, 0, 0.0
            )
        else:
            # the end of speech so far: during a silence, its start (the speculation's, so a preview
            # shown is what is recorded)
            now, end = self.elapsed_ms, self._endpointer.speech_end_ms or self.elapsed_ms
            self.result = self._finish(Endpoint(Signal.ENDED, now, start, end), start, end)
        return self.result


@dataclass(frozen=True)
class JudgedRecording:
    """A recorded answer judged as a live one would be: captured, recognised, matched, scored."""

    captured: CapturedAnswer
    verdict: str  # ACCEPT | REJECT | UNCLEAR | NO_SPEECH | ENGINE_FAILED
    explanation: dict[str, object]


def judge_recording(
    audio: Audio,
    acceptable: Sequence[str],
    rejections: Sequence[str],
    family: LanguageFamily,
    vad: VadEngine,
    asr: AsrEngine,
    executor: ThreadPoolExecutor,
    config: EndpointConfig | None = None,
    expects: Literal["affirm", "deny", "phrase"] | None = None,
) -> JudgedRecording:
    """Feeds a recording (16 kHz mono) through the live answer path in 100 ms pieces, up to the end of
    the answer, and judges it with the same rules (``dualsign match --audio``, benchmarks)."""
    capture = AnswerCapture(
        vad,
        asr,
        config or EndpointConfig(),
        language=family,
        hints=hints_for(acceptable, rejections, family, expects),
        executor=executor,
    )
    for start in range(0, len(audio), SAMPLE_RATE // 10):
        capture.feed(audio[start : start + SAMPLE_RATE // 10])
        if capture.result is not None:
            break
    got = capture.finish_now()
    if got.error is not None:
        return JudgedRecording(got, "ENGINE_FAILED", {"rule": "engine_failed", "detail": got.error})
    t = got.transcript
    if got.outcome == "no_speech" or t is None or not t.text.strip():
        return JudgedRecording(got, "NO_SPEECH", {"rule": "no_speech"})
    result = judge_answer(t.text, acceptable, rejections, family, heard_scores(t), expects)
    return JudgedRecording(got, result.verdict.value, result.to_dict())
