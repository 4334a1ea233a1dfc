"""The signer's side, authorised by the token of the signer link.

HTTP (header ``X-Signer-Token``): state, open, consent, typed answers, repeat, prompt audio.
WebSocket ``/signer/v1/live?token=…``: the live channel — JSON control messages and 16 kHz mono PCM
(int16 little-endian) binary frames during an answer window; the server pushes verdicts and prompts.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.api.live import LiveChannel
from dualsign.api.schemas import ConsentRequest, SignerState, TextAnswer, signer_state
from dualsign.application import signer
from dualsign.domain.errors import DualSignError, NotFound, TokenInvalid

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
    """The live channel (see ``dualsign.api.live``): tagged binary audio/frames and JSON control."""
    await ws.accept()
    channel = LiveChannel(ws, ws.app.state.container, token)
    try:
        await channel.run()
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
