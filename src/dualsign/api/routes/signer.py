"""The signer's side, authorised by the token of the signer link.

HTTP (header ``X-Signer-Token``): state, open, consent, typed answers, prompt playback reports, repeat,
prompt audio, documents
(list, PDF, page viewed, review done) and the signature (handwritten strokes or a picture).
WebSocket ``/signer/v1/live?token=…``: the live channel — JSON control messages and 16 kHz mono PCM
(int16 little-endian) binary frames during an answer window; the server pushes verdicts and prompts.
"""

from __future__ import annotations

import base64
import binascii
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, Response

from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.api.live import LiveChannel
from dualsign.api.schemas import (
    ConsentRequest,
    DocumentOut,
    PageViewed,
    PlaybackReport,
    SignatureRequest,
    SignerState,
    TextAnswer,
    signer_state,
)
from dualsign.application.signer import documents as document_signing
from dualsign.application.signer import flow
from dualsign.domain.errors import DualSignError, FieldProblem, InvalidInput, NotFound, TokenInvalid

router = APIRouter(prefix="/signer/v1", tags=["signer"])
pages = APIRouter(include_in_schema=False)


@router.get("/session", name="signer_get_session")
def get_state(token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(flow.current(c.new_uow(), c.signer_services, token), token)


@router.post("/open", name="signer_open")
def open_(request: Request, token: SignerToken, c: ContainerDep) -> SignerState:
    client = {"user_agent": request.headers.get("user-agent", "")[:300]}
    return signer_state(flow.open_session(c.new_uow(), c.signer_services, token, client), token)


@router.post("/consent", name="signer_consent")
def consent(body: ConsentRequest, token: SignerToken, c: ContainerDep) -> SignerState:
    view = flow.consent(c.new_uow(), c.signer_services, token, agree=body.agree, reason=body.reason)
    return signer_state(view, token)


@router.post("/answers", name="signer_answer_text")
def answer(body: TextAnswer, token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(flow.answer_text(c.new_uow(), c.signer_services, token, body.text), token)


@router.post("/prompt/played", name="signer_prompt_played")
def prompt_played(body: PlaybackReport, token: SignerToken, c: ContainerDep) -> SignerState:
    """How much of the current prompt's audio the page played (a statement played in full passes)."""
    view = flow.report_playback(
        c.new_uow(),
        c.signer_services,
        token,
        question_id=body.question_id,
        attempt=body.attempt,
        parts=[p.model_dump() for p in body.parts],
        rate=body.rate,
    )
    return signer_state(view, token)


@router.post("/repeat", name="signer_repeat_question")
def repeat(token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(flow.repeat_question(c.new_uow(), c.signer_services, token), token)


@router.get("/documents", name="signer_list_documents")
def documents(token: SignerToken, c: ContainerDep) -> list[DocumentOut]:
    return [
        DocumentOut(**d.__dict__)
        for d in document_signing.list_documents(c.new_uow(), c.document_services, token)
    ]


@router.get(
    "/documents/{index}",
    name="signer_get_document",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def document(index: int, token: SignerToken, c: ContainerDep) -> Response:
    _, data = document_signing.document_pdf(c.new_uow(), c.document_services, token, index)
    return Response(data, media_type="application/pdf", headers={"Cache-Control": "no-store"})


@router.get(
    "/documents/{index}/pages/{page}",
    name="signer_document_page",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def document_page(
    index: int, page: int, token: SignerToken, c: ContainerDep, width: Annotated[int, Query()] = 800
) -> Response:
    """One page as a picture, for screens without a PDF viewer (reading it is reported separately)."""
    png = document_signing.page_picture(c.new_uow(), c.document_services, token, index, page, width)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.post("/documents/{index}/viewed", name="signer_page_viewed")
def page_viewed(index: int, body: PageViewed, token: SignerToken, c: ContainerDep) -> SignerState:
    view = document_signing.view_page(c.new_uow(), c.document_services, token, index, body.page)
    return signer_state(view, token)


@router.post("/documents/reviewed", name="signer_documents_reviewed")
def reviewed(token: SignerToken, c: ContainerDep) -> SignerState:
    return signer_state(document_signing.finish_review(c.new_uow(), c.document_services, token), token)


@router.post("/signature", name="signer_sign")
def sign(body: SignatureRequest, token: SignerToken, c: ContainerDep) -> SignerState:
    image = None
    if body.image_base64 is not None:
        try:
            image = base64.b64decode(body.image_base64, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput([FieldProblem("image_base64", "is not valid base64")]) from None
    mark = document_signing.Mark(body.strokes, body.width, body.height, image)
    return signer_state(document_signing.sign_documents(c.new_uow(), c.document_services, token, mark), token)


@router.get(
    "/prompt-audio/{sha256}",
    name="signer_prompt_audio",
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
def prompt_audio(sha256: str, c: ContainerDep, token: Annotated[str, Query()]) -> Response:
    """Audio of a prompt this session played (token in the query: audio elements send no headers)."""
    if sha256 not in flow.prompt_audio_digests(c.new_uow(), c.signer_services, token):
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


PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=()",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
    "connect-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
}
STATIC = {
    "signer.js": "text/javascript",
    "trace.js": "text/javascript",
    "signer.css": "text/css",
    "messages.json": "application/json",
    "pcm-worklet.js": "text/javascript",
    "console.js": "text/javascript",
    "console.css": "text/css",
    "verify.js": "text/javascript",
    "verify.css": "text/css",
}


@pages.get("/s/{token}", response_class=HTMLResponse)
def signer_page(token: str, c: ContainerDep) -> HTMLResponse:
    """The signer's page: everything it loads is served here (no asset from anywhere else)."""
    c.links.verify(token, c.clock.now())  # a bad or expired link is refused before any page
    html = resources.files("dualsign.web").joinpath("signer.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=PAGE_HEADERS)


@pages.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("file", name)
    body = resources.files("dualsign.web").joinpath(name).read_bytes()
    return Response(
        body,
        media_type=STATIC[name],
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )
