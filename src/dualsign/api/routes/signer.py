"""The signer's side, authorised by the token of the signer link (header ``X-Signer-Token``).

Text mode: consent, typed answers and "repeat the question". The recorded page (camera, microphone,
live channel) builds on the same use cases.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from dualsign.api.deps import ContainerDep, SignerToken
from dualsign.api.schemas import ConsentRequest, PromptOut, SignerState, TextAnswer
from dualsign.application import signer
from dualsign.application.signer import SignerView
from dualsign.domain.states import EventKind

router = APIRouter(prefix="/signer/v1", tags=["signer"])
pages = APIRouter(include_in_schema=False)


def _state(view: SignerView) -> SignerState:
    verdict = next(
        (dict(e.payload) for e in reversed(view.events) if e.kind is EventKind.ANSWER_JUDGED), None
    )
    return SignerState(
        session_id=view.record.id,
        state=view.state,
        summary=view.record.summary,
        signer_name=view.record.signer_name,
        prompt=PromptOut.of(view.prompt),
        last_verdict=verdict,
    )


@router.get("/session", name="signer_get_session")
def get_state(token: SignerToken, c: ContainerDep) -> SignerState:
    return _state(signer.current(c.new_uow(), c.clock, c.links, token))


@router.post("/open", name="signer_open")
def open_(request: Request, token: SignerToken, c: ContainerDep) -> SignerState:
    client = {"user_agent": request.headers.get("user-agent", "")[:300]}
    return _state(signer.open_session(c.new_uow(), c.clock, c.links, token, client))


@router.post("/consent", name="signer_consent")
def consent(body: ConsentRequest, token: SignerToken, c: ContainerDep) -> SignerState:
    return _state(signer.consent(c.new_uow(), c.clock, c.links, token, agree=body.agree, reason=body.reason))


@router.post("/answers", name="signer_answer_text")
def answer(body: TextAnswer, token: SignerToken, c: ContainerDep) -> SignerState:
    return _state(signer.answer_text(c.new_uow(), c.clock, c.links, token, body.text))


@router.post("/repeat", name="signer_repeat_question")
def repeat(token: SignerToken, c: ContainerDep) -> SignerState:
    return _state(signer.repeat_question(c.new_uow(), c.clock, c.links, token))


@pages.get("/s/{token}", response_class=HTMLResponse)
def signer_page(token: str, c: ContainerDep) -> HTMLResponse:
    claim = c.links.verify(token, c.clock.now())  # a bad or expired link is refused before any page
    html = resources.files("dualsign.web").joinpath("signer_text.html").read_text(encoding="utf-8")
    return HTMLResponse(
        html.replace("{{session_id}}", claim.session_id),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
