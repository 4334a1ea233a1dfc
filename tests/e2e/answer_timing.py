"""A test-side aid for long sessions on a looped microphone: each answer window hears a whole answer.

Chromium loops the fake microphone file (tests/e2e/media.py) while the prompts before the answer
windows have all sorts of lengths, so a window would open at any point of the loop: in the middle of an
answer (half a word heard), or before the wrong one (没有 to an affirm question). The page opens a
window by reporting the prompt played (``POST /signer/v1/prompt/played``), after which it asks the live
channel to listen. An init script holds that report until the loop is about to say the answer the
question wants, ``LEAD_S`` before it begins; the page and the service run unchanged.

Where the loop is: the script listens to the same microphone (an AnalyserNode on the page's own stream)
and, at each utterance's first sound after a silence, recognises the utterance by the length of the
silence before it (every gap in the loop has its own length), so the loop's phase is known again each
time round and never drifts. What was held, and for how long, is in ``window.__answerTiming``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dualsign.engines.base import SAMPLE_RATE
from dualsign.media.audio import to_wav
from tests.e2e import media

LEAD_S = 1.0  # the report is let through this long before the answer begins (the window opens after it)
LOUD = 0.02  # peak level of a sound (the file's silence is digital zero)
MIN_GAP_S = 1.2  # a sound after this much silence begins an utterance (pauses inside one are shorter)


@dataclass(frozen=True)
class Loop:
    """The microphone file and where each utterance begins in it."""

    path: Path
    length_s: float
    onsets: tuple[tuple[float, float, str], ...]  # (start in the loop, silence before it, kind)


def answer_loop(path: Path, said: Sequence[tuple[str, str, float]], voice: str = "cmn-latn-pinyin") -> Loop:
    """A WAV of (kind, text, silence before it) utterances, each trimmed to its sound; the silence
    before the first one is at the start of the file (the loop comes round to it after the last)."""
    gaps = [gap for _, _, gap in said]
    assert min(gaps) >= MIN_GAP_S + 0.4, "a gap must hold the lead and the window's opening"
    assert all(abs(a - b) >= 0.6 for i, a in enumerate(gaps) for b in gaps[i + 1 :]), "gaps tell apart"
    pieces: list[np.ndarray] = []
    onsets: list[tuple[float, float, str]] = []
    at = 0.0
    for kind, text, gap in said:
        clip = media.speech(text, path.parent, voice)
        loud = np.flatnonzero(np.abs(clip) > LOUD / 2)
        clip = clip[loud[0] : loud[-1] + 1]
        pieces += [np.zeros(int(gap * SAMPLE_RATE), dtype=np.float32), clip]
        at += gap
        onsets.append((round(at, 3), gap, kind))
        at += len(clip) / SAMPLE_RATE
    audio = np.concatenate(pieces)
    path.write_bytes(to_wav(audio))
    return Loop(path, len(audio) / SAMPLE_RATE, tuple(onsets))


_SCRIPT = """
(() => {
  const plan = __PLAN__;
  const state = window.__answerTiming = {anchor: null, onsets: 0, unknown: [], holds: []};
  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
  const watch = (stream) => {
    const ctx = new AudioContext();
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 512;
    ctx.createMediaStreamSource(stream).connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let lastLoud = null;
    setInterval(() => {
      analyser.getFloatTimeDomainData(buf);
      let peak = 0;
      for (const x of buf) peak = Math.max(peak, Math.abs(x));
      if (peak < plan.loud) return;
      const now = performance.now();
      const gap = lastLoud === null ? 0 : (now - lastLoud) / 1000;
      lastLoud = now;
      if (gap < plan.min_gap) return;
      const near = (a, b) => (Math.abs(b[1] - gap) < Math.abs(a[1] - gap) ? b : a);
      const [start, before] = plan.onsets.reduce(near);
      if (Math.abs(before - gap) > 0.3) { state.unknown.push(Number(gap.toFixed(2))); return; }
      state.anchor = now - start * 1000;  // when the loop last began
      state.onsets += 1;
    }, 10);
  };
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await gum(constraints);
    if (constraints && constraints.audio) watch(stream);
    return stream;
  };
  const phaseNow = () => {  // seconds into the loop
    const s = (performance.now() - state.anchor) / 1000;
    return Number((((s % plan.length) + plan.length) % plan.length).toFixed(3));
  };
  // ms until the next moment LEAD_S before an utterance of this kind begins
  const untilNext = (kind) => {
    const phase = phaseNow();
    let best = Infinity;
    for (const [start, , k] of plan.onsets) {
      if (k !== kind) continue;
      let wait = start - plan.lead - phase;
      while (wait < 0) wait += plan.length;
      best = Math.min(best, wait);
    }
    return best * 1000;
  };
  const realFetch = window.fetch;
  window.fetch = async function (input, init) {
    const url = typeof input === 'string' ? input : input.url;
    const played = url.endsWith('/prompt/played') && init && init.body;
    const question = played ? JSON.parse(init.body).question_id : '';
    const kind = plan.kinds[question];
    if (kind) {
      const held = performance.now();
      while (state.anchor === null) await sleep(100);
      const first = untilNext(kind);
      for (let wait = first; wait > 0; wait = untilNext(kind)) {
        if (wait <= 600) { await sleep(wait); break; }
        await sleep(wait - 500);  // then again from the newest onset heard
      }
      const heldMs = Math.round(performance.now() - held);
      state.holds.push({question, kind, first_ms: Math.round(first), held_ms: heldMs, phase: phaseNow()});
    }
    return realFetch.apply(this, arguments);
  };
})();
"""


def init_script(loop: Loop, kinds: Mapping[str, str]) -> str:
    """The page script holding each question's played report until its answer (``kinds``: question id
    to the kind of utterance that answers it) is ``LEAD_S`` away."""
    plan = {
        "length": loop.length_s,
        "onsets": [list(o) for o in loop.onsets],
        "kinds": dict(kinds),
        "lead": LEAD_S,
        "loud": LOUD,
        "min_gap": MIN_GAP_S,
    }
    return _SCRIPT.replace("__PLAN__", json.dumps(plan, ensure_ascii=False))


def holds(page: Any) -> dict[str, Any]:
    """What the script held and how often it found the loop (for the test's log)."""
    out: dict[str, Any] = page.evaluate("window.__answerTiming")
    return out
