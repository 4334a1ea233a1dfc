"""The live channel of one signer connection: answers by voice, camera frames, pushed decisions.

Binary messages start with a one-byte tag:
- ``A`` + 16 kHz mono PCM (int16 LE): audio of an open answer window;
- ``V`` + 8-byte little-endian capture time (ms) + JPEG: a camera frame.
JSON control messages: ``listen``, ``stop``, ``repeat``, ``state``, ``identity``, ``liveness``, ``end``
(the page is done: the connection's monitoring figures are recorded, then ``ended`` is sent).
Every frame feeds face monitoring (at the template's rate); during ``identity`` and ``liveness`` frames
are also collected for those decisions. Heavy work runs in thread pools, never on the event loop:
audio on the container's speech pool, frames on its vision pool (lower CPU priority).

Frames are handled by a task of their own, so a spoken answer never waits behind face analysis. Frames
that a decision needs (identity collection, a liveness challenge, a nod window) all wait their turn; a
frame that only feeds monitoring is skipped when it has waited more than ``DUALSIGN_LIVE_FRAME_LAG_S``
(1 s) and a newer one is waiting (counted in the monitoring figures as ``frames_skipped``): an
overloaded server watches less often rather than later. Audio and ``listen``/``stop``/``repeat`` are
handled as they come; other control messages first let the frames sent before them be handled (for at
most 2 s), so they apply in the page's order.
"""

from __future__ import annotations

import asyncio
import functools
import json
import struct
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from starlette.concurrency import run_in_threadpool

from dualsign.api.schemas import signer_state
from dualsign.application.perception.speech import AnswerCapture
from dualsign.application.perception.vision import LiveMonitor, liveness_sample
from dualsign.application.signer import camera as signer_vision
from dualsign.application.signer import flow as signer
from dualsign.bootstrap.container import Container
from dualsign.domain.endpointing import Signal
from dualsign.domain.errors import DualSignError, TokenInvalid
from dualsign.domain.liveness import ChallengeStep, Sample, nods
from dualsign.domain.states import RECORDING_STATES, SessionState
from dualsign.engines.vision_base import Image
from dualsign.media.audio import pcm16_to_float
from dualsign.media.video import ImageDecodeError, decode_image

IDENTITY_EXTRA_FRAMES = 2  # frames collected beyond the template's minimum of good ones
MAX_PENDING_FRAMES = 150  # 15 s of a challenge at 10 fps: beyond, the oldest is skipped
DRAIN_TIMEOUT_S = 2.0  # the longest a control message waits for the frames sent before it
RECORDING = {s.value for s in RECORDING_STATES}


@dataclass
class LiveChannel:
    ws: WebSocket
    c: Container
    token: str
    capture: AnswerCapture | None = None
    nod_samples: list[Sample] | None = None  # collected during an answer window that accepts a nod
    monitor: LiveMonitor | None = None
    first_frame_ms: int | None = None
    identity_frames: list[bytes] | None = None
    identity_wanted: int = 0
    challenge: list[ChallengeStep] | None = None
    challenge_start_s: float | None = None
    samples: list[Sample] = field(default_factory=list)
    challenge_frame: Image | None = None
    state: str = ""
    frame_task: asyncio.Task[None] | None = None
    # (frame, a decision needs it, when it arrived on the monotonic clock)
    pending: deque[tuple[bytes, bool, float]] = field(default_factory=deque)
    frames_skipped: int = 0

    @property
    def in_nod_window(self) -> bool:
        """An answer window that accepts a nod is open and no speech has started in it."""
        return self.nod_samples is not None and self.capture is not None and not self.capture.started

    @property
    def svc(self) -> signer.SignerServices:
        return self.c.signer_services

    async def send_state(self, view: signer.SignerView) -> None:
        self.state = view.state
        await self.ws.send_json({"type": "state", **signer_state(view, self.token).model_dump(mode="json")})

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(fn, self.c.new_uow(), self.svc, self.token, *args, **kwargs)

    async def compute(self, pool: Executor, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    # --- audio --------------------------------------------------------------------------------------
    async def on_audio(self, pcm: bytes) -> None:
        if self.capture is None:
            return  # audio outside an answer window is not an answer
        capture = self.capture
        # wait=False: a speech thread never waits for a transcript (submit does, off these threads)
        signals = await self.compute(self.c.live_speech, capture.feed, pcm16_to_float(pcm), wait=False)
        if any(s.signal is Signal.STARTED for s in signals):
            await self.ws.send_json({"type": "speech_started", "at_ms": capture.elapsed_ms})
        if capture.ended:
            self.capture = None
            await self.submit(capture)

    async def submit(self, capture: AnswerCapture) -> None:
        self.nod_samples = None  # the answer window is closed: a nod no longer answers
        started = time.perf_counter()
        captured = await run_in_threadpool(capture.finish_now)  # may wait for (or run) recognition
        view = await self.call(signer.submit_spoken_answer, captured)
        metrics = self.c.metrics
        if captured.transcript is not None:
            metrics.engine.labels(captured.transcript.engine, "asr").observe(captured.transcript.compute_s)
        verdict = next((dict(e.payload) for e in view.events if e.kind.value == "answer_judged"), {})
        await self.ws.send_json(
            {
                "type": "verdict",
                "question_id": verdict.get("question_id"),
                "attempt": verdict.get("attempt"),
                "transcript": verdict.get("transcript"),
                "verdict": verdict.get("verdict"),
                "explanation": verdict.get("explanation"),
                "endpoint_wait_ms": captured.waited_ms,
                "compute_ms": captured.extra_compute_ms,
            }
        )
        # the signer waits for the end-of-answer silence, then for recognition and recording
        metrics.verdict.labels("speech").observe(captured.waited_ms / 1000 + time.perf_counter() - started)
        await self.send_state(view)

    # --- video --------------------------------------------------------------------------------------
    def take_frame(self, payload: bytes) -> None:
        """Hand a frame to the frame task (started when idle)."""
        needed = self.identity_frames is not None or self.challenge is not None or self.in_nod_window
        if self.frame_task is None or self.frame_task.done():
            self.frame_task = asyncio.create_task(self.frames(payload))
            return
        if len(self.pending) >= MAX_PENDING_FRAMES:
            self.pending.popleft()
            self.frames_skipped += 1
        self.pending.append((payload, needed, time.monotonic()))

    async def frames(self, payload: bytes) -> None:
        await self.on_frame(payload)
        while self.pending:
            frame, needed, arrived = self.pending.popleft()
            if not needed and self.pending and time.monotonic() - arrived > self.c.settings.live_frame_lag_s:
                self.frames_skipped += 1
                continue
            await self.on_frame(frame)

    async def drain_frames(self) -> None:
        """Wait until the frames that arrived so far are handled (no new ones arrive meanwhile), for at
        most ``DRAIN_TIMEOUT_S``: a control message is not held up longer by a backlog of frames."""
        task = self.frame_task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=DRAIN_TIMEOUT_S)
            if done:
                task.result()

    def frame_failure(self) -> None:
        """Raise here what the frame task raised (it ends the connection as any other failure does)."""
        task = self.frame_task
        if task is not None and task.done() and not task.cancelled():
            self.frame_task = None
            task.result()

    async def stop_frames(self) -> None:
        task, self.frame_task = self.frame_task, None
        self.frames_skipped += len(self.pending)
        self.pending.clear()
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def on_frame(self, payload: bytes) -> None:
        if len(payload) < 9:
            return
        (captured_ms,) = struct.unpack("<Q", payload[:8])
        jpeg = payload[8:]
        if self.first_frame_ms is None:
            self.first_frame_ms = captured_ms
        t = (captured_ms - self.first_frame_ms) / 1000
        try:
            image = await self.compute(self.c.live_vision, decode_image, jpeg, 640)
        except ImageDecodeError:
            await self.ws.send_json(
                {"type": "error", "code": "bad_frame", "detail": "the frame is not an image"}
            )
            return
        if self.identity_frames is not None:
            self.identity_frames.append(jpeg)
            if len(self.identity_frames) >= self.identity_wanted:
                frames, self.identity_frames = self.identity_frames, None
                view = await self.call(signer_vision.verify_identity_live, frames)
                result = next(
                    (dict(e.payload) for e in view.events if e.kind.value.startswith("identity_")), {}
                )
                await self.ws.send_json(
                    {
                        "type": "identity_result",
                        "passed": view.state != "identity" and view.state != "failed",
                        **result,
                    }
                )
                await self.send_state(view)
        if self.challenge is not None:
            await self.on_challenge_frame(image, t)
        if self.in_nod_window:
            await self.on_nod_frame(image, t)
        await self.on_monitor(image, t)

    async def on_challenge_frame(self, image: Image, t: float) -> None:
        assert self.challenge is not None  # noqa: S101 (checked by the caller)
        if self.challenge_start_s is None:
            self.challenge_start_s = t
        rel = t - self.challenge_start_s
        if rel < self.challenge[-1].end_s:
            sample = await self.compute(self.c.live_vision, liveness_sample, image, rel, self.c.vision)
            self.samples.append(sample)
            if sample.features is not None:
                self.challenge_frame = image
            return
        steps, samples, frame = self.challenge, self.samples, self.challenge_frame
        self.challenge, self.samples, self.challenge_start_s, self.challenge_frame = None, [], None, None
        view = await self.call(signer_vision.finish_liveness, steps, samples, frame)
        result = next((dict(e.payload) for e in view.events if e.kind.value.startswith("liveness_")), {})
        await self.ws.send_json(
            {"type": "liveness_result", "passed": view.state not in ("liveness", "failed"), **result}
        )
        await self.send_state(view)

    async def on_nod_frame(self, image: Image, t: float) -> None:
        assert self.nod_samples is not None  # noqa: S101 (checked by the caller)
        self.nod_samples.append(
            await self.compute(self.c.live_vision, liveness_sample, image, t, self.c.vision)
        )
        nod = nods(self.nod_samples)
        if nod is None:
            return
        frames = len(self.nod_samples)
        self.capture, self.nod_samples = None, None
        view = await self.call(signer.submit_nod, frames, nod.measured)
        await self.ws.send_json(
            {
                "type": "verdict",
                "verdict": "ACCEPT",
                "transcript": None,
                "input": "nod",
                "explanation": {"rule": "nod"},
            }
        )
        await self.send_state(view)

    async def on_monitor(self, image: Image, t: float) -> None:
        if self.state not in RECORDING or self.c.vision is None:
            return
        try:
            if self.monitor is None:
                self.monitor = await self.call(signer_vision.begin_monitoring)
            monitor = self.monitor
            if not monitor.due(t):
                return
            _analysis, warnings = await self.compute(self.c.live_vision, monitor.observe, image, t)
            if warnings:
                await self.call(signer_vision.record_warnings, warnings, image, t)
        except TokenInvalid:
            # the session closed meanwhile (signed over HTTP, cancelled, expired): a late frame is not
            # a failure of the connection; the figures so far are still recorded at its end
            self.state = ""
            return
        for w in warnings:
            await self.ws.send_json(
                {
                    "type": "warning",
                    "warning": w.kind.value,
                    "since_s": round(w.since, 2),
                    "after_s": round(w.raised_at - w.since, 2),
                }
            )

    # --- control ------------------------------------------------------------------------------------
    async def on_control(self, control: dict[str, Any]) -> None:
        kind = control.get("type")
        if kind not in ("listen", "stop", "repeat"):
            await self.drain_frames()
        if kind == "listen":
            self.capture = await self.call(signer.begin_answer)
            nod = self.c.vision is not None and await self.call(signer.allows_nod)
            self.nod_samples = [] if nod else None
            await self.ws.send_json({"type": "listening", "nod_allowed": nod})
        elif kind == "stop" and self.capture is not None:
            capture, self.capture = self.capture, None
            await self.submit(capture)
        elif kind == "repeat":
            self.capture, self.nod_samples = None, None
            await self.send_state(await self.call(signer.repeat_question))
        elif kind == "state":
            await self.send_state(await self.call(signer.current))
        elif kind == "end":
            await self.stop_frames()
            await self.summarize()
            await self.ws.send_json({"type": "ended"})
        elif kind == "identity":
            view = await self.call(signer.current)
            if view.state != SessionState.IDENTITY.value:
                await self.ws.send_json(
                    {
                        "type": "error",
                        "code": "illegal_transition",
                        "detail": f"no identity check in state {view.state!r}",
                    }
                )
                return
            template_min = await self.call(_min_good_frames)
            self.identity_wanted = template_min + IDENTITY_EXTRA_FRAMES
            self.identity_frames = []
            await self.ws.send_json({"type": "identity_collecting", "frames": self.identity_wanted})
        elif kind == "liveness":
            challenge = await self.call(signer_vision.start_liveness)
            self.challenge, self.samples, self.challenge_start_s = challenge.steps, [], None
            await self.ws.send_json(
                {
                    "type": "challenge",
                    "steps": [
                        {"action": s.action.value, "start_s": s.start_s, "end_s": s.end_s}
                        for s in challenge.steps
                    ],
                }
            )
        else:
            await self.ws.send_json(
                {"type": "error", "code": "unknown_message", "detail": f"unknown type {kind!r}"}
            )

    async def run(self) -> None:
        await self.send_state(await self.call(signer.current))
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            self.frame_failure()
            data: bytes | None = message.get("bytes")
            if data:
                if data[:1] == b"A":
                    await self.on_audio(data[1:])
                elif data[:1] == b"V":
                    self.take_frame(data[1:])
                continue
            control = parse_control(message.get("text") or "")
            if isinstance(control, str):  # answered, then closed: 1007 = data inconsistent with its type
                await self.ws.send_json({"type": "error", "code": "bad_message", "detail": control})
                await self.ws.close(code=BAD_MESSAGE_CLOSE)
                break
            await self.on_control(control)
        await self.stop_frames()
        await self.summarize()

    async def summarize(self) -> None:
        """Record this connection's face-monitoring figures (on ``end`` or when the page goes away)."""
        monitor, self.monitor = self.monitor, None
        if monitor is None:
            return
        try:
            await self.call(
                signer_vision.summarize_monitoring, monitor, self.first_frame_ms, self.frames_skipped
            )
        except DualSignError:
            return  # the session was sealed meanwhile: nothing more can join its chain


MAX_CONTROL_CHARS = 4096  # a control message is a few fields: anything longer is not one
BAD_MESSAGE_CLOSE = 1007


def parse_control(text: str) -> dict[str, Any] | str:
    """A control message as a JSON object, or why the text is not one (one line for the page)."""
    if len(text) > MAX_CONTROL_CHARS:
        return f"a control message is at most {MAX_CONTROL_CHARS} characters"
    try:
        control = json.loads(text)
    except RecursionError:
        return "the control message is nested too deeply"
    except ValueError as exc:
        return f"the control message is not JSON: {exc}"
    if not isinstance(control, dict):
        return f"a control message is a JSON object, not {type(control).__name__}"
    return control


def _min_good_frames(uow: Any, svc: signer.SignerServices, token: str) -> int:
    with uow:
        _, s = signer.load_open(uow, svc, token)
    return s.template.identity.min_good_frames
