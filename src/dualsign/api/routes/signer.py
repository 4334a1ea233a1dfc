"""The signer's side, authorised by the token of the signer link.

HTTP (header ``X-Signer-Token``): state, open, consent, typed answers, repeat, prompt audio.
WebSocket ``/signer/v1/live?token=…``: the live channel — JSON control messages and 16 kHz mono PCM
(int16 little-endian) binary frames during an answer window; the server pushes verdicts and prompts.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.api.schemas import ConsentRequest, SignerState, TextAnswer, signer_state
from dualsign.application import signer
from dualsign.application.speech import AnswerCapture
from dualsign.container import Container
from dualsign.domain.endpointing import Signal
from dualsign.domain.errors import DualSignError, NotFound, TokenInvalid
from dualsign.engines._audio import pcm16_to_float

router = APIRouter(prefix="/signer/v1", tags=["signer"])
pages = APIRouter(include_in_schema=False)


@router.get("/session", name="signer_get_session")
def get_state(token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(signer.current(c.new_uow(), c.signer_services, token), token)


@router.post("/open", name="signer_open")
def open_(request: Request, token: SignerToken, c: ContainerDep) -> SignerState:
    client = {"user_agent": request.headers.get("user-agent", "")[:300]}
    return signer_state(signer.open_session(c.new_uow(), c.signer_services, token, client), token)


@router.post("/consent", name="signer_consent")
def consent(body: ConsentRequest, token: SignerToken, c: ContainerDep) -> SignerState:
    view = signer.consent(c.new_uow(), c.signer_services, token, agree=body.agree, reason=body.reason)
    return signer_state(view, token)


@router.post("/answers", name="signer_answer_text")
def answer(body: TextAnswer, token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(signer.answer_text(c.new_uow(), c.signer_services, token, body.text), token)


@router.post("/repeat", name="signer_repeat_question")
def repeat(token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(signer.repeat_question(c.new_uow(), c.signer_services, token), token)


@router.get(
    "/prompt-audio/{sha256}",
    name="signer_prompt_audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
def prompt_audio(sha256: str, c: ContainerDep, token: Annotated[str, Query()]) -> Response:
    """Audio of a prompt this session played (token in the query: audio elements send no headers)."""
    if sha256 not in signer.prompt_audio_digests(c.new_uow(), c.signer_services, token):
        raise NotFound("prompt audio", sha256)
    return Response(
        c.blobs.get(sha256), media_type="audio/wav", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.websocket("/live")
async def live(ws: WebSocket, token: Annotated[str, Query()]) -> None:
    c: Container = ws.app.state.container
    svc = c.signer_services
    await ws.accept()
    capture: AnswerCapture | None = None

    async def send_state(view: signer.SignerView) -> None:
        await ws.send_json({"type": "state", **signer_state(view, token).model_dump(mode="json")})

    async def submit(cap: AnswerCapture) -> None:
        captured = cap.finish_now()
        view = await run_in_threadpool(signer.submit_spoken_answer, c.new_uow(), svc, token, captured)
        verdict = next((dict(e.payload) for e in view.events if e.kind.value == "answer_judged"), {})
        await ws.send_json(
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
        await send_state(view)

    try:
        await send_state(await run_in_threadpool(signer.current, c.new_uow(), svc, token))
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            data: bytes | None = message.get("bytes")
            if data is not None:
                if capture is None:
                    continue  # audio outside an answer window is not an answer
                signals = await run_in_threadpool(capture.feed, pcm16_to_float(data))
                if any(s.signal is Signal.STARTED for s in signals):
                    await ws.send_json({"type": "speech_started", "at_ms": capture.elapsed_ms})
                if capture.result is not None:
                    done, capture = capture, None
                    await submit(done)
                continue
            control: dict[str, Any] = json.loads(message.get("text") or "{}")
            kind = control.get("type")
            if kind == "listen":
                capture = await run_in_threadpool(signer.begin_answer, c.new_uow(), svc, token)
                await ws.send_json({"type": "listening"})
            elif kind == "stop" and capture is not None:
                done, capture = capture, None
                await submit(done)
            elif kind == "repeat":
                capture = None
                await send_state(await run_in_threadpool(signer.repeat_question, c.new_uow(), svc, token))
            elif kind == "state":
                await send_state(await run_in_threadpool(signer.current, c.new_uow(), svc, token))
            else:
                await ws.send_json(
                    {"type": "error", "code": "unknown_message", "detail": f"unknown type {kind!r}"}
                )
    except WebSocketDisconnect:
        return
    except DualSignError as exc:
        await ws.send_json({"type": "error", "code": exc.code, "detail": str(exc)})
        await ws.close(code=4401 if isinstance(exc, TokenInvalid) else 4409)


@pages.get("/s/{token}", response_class=HTMLResponse)
def signer_page(token: str, c: ContainerDep) -> HTMLResponse:
    claim = c.links.verify(token, c.clock.now())  # a bad or expired link is refused before any page
    html = resources.files("dualsign.web").joinpath("signer_text.html").read_text(encoding="utf-8")
    return HTMLResponse(
        html.replace("{{session_id}}", claim.session_id),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
