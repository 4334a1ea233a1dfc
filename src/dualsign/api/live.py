"""The live channel of one signer connection: the socket around ``application.live_session``.

Binary messages start with a one-byte tag:
- ``A`` + 16 kHz mono PCM (int16 LE): audio of an open answer window;
- ``V`` + 8-byte little-endian capture time (ms) + JPEG: a camera frame.
JSON control messages: ``listen``, ``stop``, ``repeat``, ``state``, ``identity``, ``liveness``, ``end``
(the page is done: the connection's monitoring figures are recorded, then ``ended`` is sent).

The rules (answer and nod windows, identity collection, challenge timing, monitoring, which frames may
be skipped) are ``LiveSession``'s; this class receives, runs the use cases and engines, and sends.
Heavy work runs in thread pools, never on the event loop: audio on the container's speech pool, frames
on its vision pool (lower CPU priority). Frames are handled by a task of their own, so a spoken answer
never waits behind face analysis; other control messages than ``listen``/``stop``/``repeat`` first let
the frames sent before them be handled, for at most ``DRAIN_TIMEOUT_S``; so does the silent end of an
answer window a nod may answer (a nod in frames still waiting is not lost), for ``NOD_DRAIN_TIMEOUT_S``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from fastapi import WebSocket
from starlette.concurrency import run_in_threadpool

from dualsign.api.schemas import signer_state
from dualsign.application.perception.speech import AnswerCapture
from dualsign.application.perception.vision import LiveMonitor, SignerFace, liveness_sample
from dualsign.application.signer import camera as signer_vision
from dualsign.application.signer import flow as signer
from dualsign.application.signer.live_session import (
    BadMessage,
    ChallengeOver,
    Control,
    LiveSession,
    Output,
    SampleChallenge,
    ShowState,
    read_control,
    read_frame,
)
from dualsign.bootstrap.container import Container
from dualsign.domain.endpointing import Signal
from dualsign.domain.errors import DualSignError, TokenInvalid
from dualsign.domain.liveness import Sample
from dualsign.engines.base import EngineFailed, Transcript
from dualsign.engines.vision_base import Image
from dualsign.media.audio import pcm16_to_float
from dualsign.media.video import ImageDecodeError, decode_image
from dualsign.runtime import ROUTINE, URGENT

log = logging.getLogger("dualsign.live")
INTERNAL_ERROR_CLOSE = 1011  # WebSocket close code: the server met a condition it could not handle

DRAIN_TIMEOUT_S = 2.0  # the longest a control message waits for the frames sent before it
NOD_DRAIN_TIMEOUT_S = 10.0  # the longest a silent end of a nod window waits for the frames before it
PREVIEW_POLL_S = 0.01  # how often a ready preview looks whether the silence is long enough yet


@dataclass
class LiveChannel:
    ws: WebSocket
    c: Container
    token: str
    live: LiveSession[AnswerCapture] = field(init=False)
    monitor: LiveMonitor | None = None
    signer_face: SignerFace | None = None  # with an agent on camera: which face is the signer's
    signer_face_known: bool = False
    frame_task: asyncio.Task[None] | None = None
    preview_task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.live = LiveSession(self.c.vision is not None, self.c.settings.live_frame_lag_s)

    async def send(self, outputs: Sequence[Output]) -> None:
        for out in outputs:
            if isinstance(out, ShowState):
                state = signer_state(out.view, self.token).model_dump(mode="json")
                await self.ws.send_json({"type": "state", **state})
            else:
                await self.ws.send_json(out)

    async def send_state(self, view: signer.SignerView) -> None:
        await self.send([self.live.show(view)])

    async def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(
            fn, self.c.new_uow(), self.c.signer_services, self.token, *args, **kwargs
        )

    async def compute(self, pool: Executor, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    @property
    def urgent(self) -> bool:
        """This connection's frames go before routine ones: a decision waits for frames (identity, a
        challenge, a nod), or a warning is building up (a condition began and has not lasted its
        threshold yet), so that under load the warning is not late for the frames of other sessions."""
        building = self.monitor is not None and self.monitor.warning_building_up
        return self.live.frames_needed or building

    async def look(self, fn: Any, *args: Any) -> Any:
        """``fn(*args)`` on the vision pool, ranked by ``urgent``."""
        rank = URGENT if self.urgent else ROUTINE
        return await asyncio.wrap_future(self.c.live_vision.submit_ranked(rank, fn, *args))

    # --- audio --------------------------------------------------------------------------------------
    async def on_audio(self, pcm: bytes) -> None:
        capture = self.live.capture
        if capture is None:
            return
        # wait=False: a speech thread never waits for a transcript (submit does, off these threads)
        signals = await self.compute(self.c.live_speech, capture.feed, pcm16_to_float(pcm), wait=False)
        if any(s.signal is Signal.STARTED for s in signals):
            await self.send([self.live.speech_started(capture.elapsed_ms)])
        if capture.take_withdrawal():
            await self.send([self.live.withdrawn()])
        speculation = capture.take_new_speculation()
        if speculation is not None:
            # shown as soon as it is ready; a task, so the audio meanwhile is heard (and may withdraw it)
            self.preview_task = asyncio.create_task(self.preview(capture, speculation))
        if capture.ended:
            if self.live.in_nod_window:
                # silence ended a window a nod may answer: the frames sent meanwhile are looked at
                # first (under load they lag behind the audio), so a nod they hold is not lost
                await self.drain_frames(NOD_DRAIN_TIMEOUT_S)
                if self.live.capture is not capture:
                    return  # a nod answered
            self.live.take_capture()
            await self.submit(capture)

    async def preview(self, capture: AnswerCapture, speculation: Future[Transcript]) -> None:
        """Show the verdict of the speculative transcript while the signer is still silent, once the
        silence is long enough to trust (``EndpointConfig.preview_after_ms``)."""
        try:
            await asyncio.wrap_future(speculation)
        except (asyncio.CancelledError, EngineFailed):
            return  # the signer spoke again, or recognition failed: the confirmed end decides
        while not capture.preview_due:
            if capture.speculation is not speculation or capture.ended:
                return
            await asyncio.sleep(PREVIEW_POLL_S)  # the audio arriving meanwhile lengthens the silence
        transcript = capture.preview(speculation)
        if transcript is None:
            return
        started = time.perf_counter()
        try:
            preview = await self.call(signer.preview_spoken_answer, transcript)
        except DualSignError:
            return  # the session moved on meanwhile: the confirmed end (or its refusal) is what counts
        message = self.live.previewed(capture, preview) if preview is not None else None
        if message is not None and capture.mark_previewed(speculation):
            await self.send([message])
            waited = (capture.previewed_ms or 0) / 1000  # the end of speech → the transcript ready
            self.c.metrics.preview.observe(waited + time.perf_counter() - started)

    async def submit(self, capture: AnswerCapture) -> None:
        started = time.perf_counter()
        captured = await run_in_threadpool(capture.finish_now)  # may wait for (or run) recognition
        view = await self.call(signer.submit_spoken_answer, captured)
        metrics = self.c.metrics
        if captured.transcript is not None:
            metrics.engine.labels(captured.transcript.engine, "asr").observe(captured.transcript.compute_s)
        await self.send([self.live.spoken_verdict(view, captured.waited_ms, captured.extra_compute_ms)])
        # the signer waits for the end-of-answer silence, then for recognition and recording
        metrics.verdict.labels("speech").observe(captured.waited_ms / 1000 + time.perf_counter() - started)
        await self.send_state(view)

    # --- video --------------------------------------------------------------------------------------
    def take_frame(self, payload: bytes) -> None:
        """Handle a frame in the frame task (started when idle), or let it wait its turn."""
        if self.frame_task is None or self.frame_task.done():
            self.frame_task = asyncio.create_task(self.frames(payload))
        else:
            self.live.queue_frame(payload, time.monotonic())

    async def frames(self, payload: bytes) -> None:
        next_payload: bytes | None = payload
        try:
            while next_payload is not None:
                await self.on_frame(next_payload)
                next_payload = self.live.next_frame(time.monotonic())
        except Exception:
            # a frame's failure ends the connection at once: the page reconnects and asks again, instead
            # of waiting for a nod or challenge verdict that no frame will bring any more
            log.exception("live channel: handling a frame failed; closing the connection")
            await self.ws.close(code=INTERNAL_ERROR_CLOSE)
            raise

    async def drain_frames(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Wait until the frames that arrived so far are handled (no new ones arrive meanwhile), for at
        most ``timeout_s``: a control message is not held up longer by a backlog of frames."""
        task = self.frame_task
        if task is not None and not task.done():
            done, _ = await asyncio.wait({task}, timeout=timeout_s)
            if done:
                task.result()

    def frame_failure(self) -> None:
        """Raise here what the frame task raised (it ends the connection as any other failure does)."""
        task = self.frame_task
        if task is not None and task.done() and not task.cancelled():
            self.frame_task = None
            task.result()

    async def stop_frames(self) -> None:
        preview, self.preview_task = self.preview_task, None
        if preview is not None and not preview.done():
            preview.cancel()
        task, self.frame_task = self.frame_task, None
        self.live.drop_frames()
        if task is not None and not task.done():
            task.cancel()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def on_frame(self, payload: bytes) -> None:
        frame = read_frame(payload)
        if frame is None:
            return
        live = self.live
        t = live.frame_time(frame)
        try:
            image = await self.look(decode_image, frame.jpeg, 640)
        except ImageDecodeError:
            await self.send([live.bad_frame()])
            return
        batch = live.identity_frame(frame.jpeg)
        if batch is not None:
            view = await self.call(signer_vision.verify_identity_live, batch)
            await self.send(live.identity_verified(view))
        step = live.challenge_frame(t)
        if isinstance(step, SampleChallenge):
            live.challenge_sample(await self.sample(image, step.t), image)
        elif isinstance(step, ChallengeOver):
            view = await self.call(signer_vision.finish_liveness, step.steps, step.samples, step.frame)
            await self.send(live.liveness_judged(view))
        if live.in_nod_window:
            nod = live.nod_sample(await self.sample(image, t))
            if nod is not None:
                view = await self.call(signer.submit_nod, nod.frames, nod.amplitude)
                await self.send(live.nod_accepted(view))
        await self.on_monitor(image, t)

    async def sample(self, image: Image, t: float) -> Sample:
        """The face's features in ``image`` for a challenge or a nod (``t``: seconds into either)."""
        if not self.signer_face_known:
            self.signer_face = await self.call(signer_vision.signer_face)
            self.signer_face_known = True
        sample: Sample = await self.look(liveness_sample, image, t, self.c.vision, self.signer_face)
        return sample

    async def on_monitor(self, image: Image, t: float) -> None:
        if not self.live.monitoring:
            return
        try:
            if self.monitor is None:
                self.monitor = await self.call(signer_vision.begin_monitoring)
            monitor = self.monitor
            if not monitor.due(t):
                return
            _analysis, warnings = await self.look(monitor.observe, image, t)
            if not warnings:
                return
            # the signer is told first: recording (the frame's snapshot stored, the events appended,
            # a commit) waits its turn at the database, and what the page asks the signer to put
            # right must not wait with it; a failure to record still ends this frame's handling
            await self.send(self.live.warned(warnings))
            await self.call(signer_vision.record_warnings, warnings, image, t)
        except TokenInvalid:
            # the session closed meanwhile (signed over HTTP, cancelled, expired): a late frame is not
            # a failure of the connection; the figures so far are still recorded at its end
            self.live.monitoring_closed()

    # --- control ------------------------------------------------------------------------------------
    async def on_control(self, control: Control) -> None:
        live = self.live
        match control:
            case Control.LISTEN:
                capture = await self.call(signer.begin_answer)
                nod = live.vision and await self.call(signer.allows_nod)
                await self.send([live.listen(capture, nod)])
            case Control.STOP:
                stopped = live.stop()
                if isinstance(stopped, AnswerCapture):
                    await self.submit(stopped)
                else:
                    await self.send([stopped])
            case Control.REPEAT:
                live.repeat()
                await self.send_state(await self.call(signer.repeat_question))
            case Control.STATE:
                await self.send_state(await self.call(signer.current))
            case Control.END:
                await self.stop_frames()
                await self.summarize()
                await self.send([live.ended()])
            case Control.IDENTITY:
                refusal = live.identity_refusal(await self.call(signer.current))
                if refusal is not None:
                    await self.send([refusal])
                    return
                await self.send([live.collect_identity(await self.call(_min_good_frames))])
            case Control.LIVENESS:
                challenge = await self.call(signer_vision.start_liveness)
                await self.send([live.start_challenge(challenge.steps)])

    async def run(self) -> None:
        view = await self.call(signer.current)
        await self.send_state(view)
        if view.template is not None:
            self.c.prepare_speech(view.template.language.family)
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
            control = read_control(message.get("text") or "")
            if isinstance(control, BadMessage):  # answered, then closed
                await self.send([control.error()])
                await self.ws.close(code=control.close_code)
                break
            if control.waits_for_frames:
                await self.drain_frames()
            if isinstance(control, Control):
                await self.on_control(control)
            else:
                await self.send([control.error()])
        await self.stop_frames()
        await self.summarize()

    async def summarize(self) -> None:
        """Record this connection's face-monitoring figures (on ``end`` or when the page goes away)."""
        monitor, self.monitor = self.monitor, None
        if monitor is None:
            return
        try:
            await self.call(
                signer_vision.summarize_monitoring,
                monitor,
                self.live.first_frame_ms,
                self.live.frames_skipped,
            )
        except DualSignError:
            return  # the session was sealed meanwhile: nothing more can join its chain


def _min_good_frames(uow: Any, svc: signer.SignerServices, token: str) -> int:
    with uow:
        _, s = signer.load_open(uow, svc, token)
    return s.template.identity.min_good_frames
