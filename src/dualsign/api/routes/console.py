"""The reviewer console (质检): its page and its JSON API under ``/console``.

Sign-in sets an HttpOnly, SameSite=Strict cookie; every state-changing request must also carry the
header ``X-DualSign-Console: 1`` (a page of another site cannot send it without a CORS preflight).
"""

from __future__ import annotations

import contextlib
import ipaddress
from datetime import datetime
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, Header, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from dualsign.api.bodies import typed_body
from dualsign.api.deps import ContainerDep, get_rate_limiter
from dualsign.api.routes.signer import PAGE_HEADERS
from dualsign.api.routes.templates import AUDIO_TYPES, MAX_PROMPT_AUDIO
from dualsign.api.sign_in_guard import SignInGuard
from dualsign.application.event_store import template_of
from dualsign.application.integrator.template_catalog import (
    attach_prompt_audio,
    list_templates,
    publish_template,
    resolve_template,
)
from dualsign.application.records import Reviewer, SessionFilter
from dualsign.application.review import console
from dualsign.domain.errors import (
    FieldProblem,
    Forbidden,
    InsecureTransport,
    InvalidInput,
    Unauthorized,
)

COOKIE = "dualsign_console"
router = APIRouter(prefix="/console/api", tags=["console"])
pages = APIRouter(include_in_schema=False)


class SignIn(BaseModel):
    username: str = Field(max_length=64)
    password: str = Field(max_length=200)


class ReviewDecision(BaseModel):
    decision: str = Field(description="approve | reject")
    comment: str = Field(default="", max_length=2000)
    override_reason: str = Field(
        default="",
        max_length=2000,
        description="required when the session already has a decision: why this one overrides it",
    )


def _reviewer(c: ContainerDep, token: Annotated[str | None, Cookie(alias=COOKIE)] = None) -> Reviewer:
    if not token:
        raise Unauthorized("sign in to the console")
    return c.console_tokens.reviewer(c.new_uow(), token)


def _same_site(x_dualsign_console: Annotated[str | None, Header()] = None) -> None:
    if x_dualsign_console != "1":
        raise Unauthorized("the X-DualSign-Console header is required on console changes")


Signed = Annotated[Reviewer, Depends(_reviewer)]
Change = Depends(_same_site)


def _me(r: Reviewer) -> dict[str, Any]:
    return {"username": r.username, "role": r.role, "tenant_id": r.tenant_id}


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _over_plain_http_off_this_machine(request: Request) -> bool:
    """Plain HTTP from another machine: the password and the cookie would cross the network in clear.
    Behind a TLS proxy the scheme is https (uvicorn trusts X-Forwarded-Proto from
    ``DUALSIGN_FORWARDED_ALLOW_IPS``)."""
    if request.url.scheme == "https":
        return False
    try:
        return not ipaddress.ip_address(_address(request)).is_loopback
    except ValueError:  # not an address (a test client's name): not known to be this machine
        return True


@router.post("/sign-in", name="console_sign_in", dependencies=[Change])
async def sign_in(body: SignIn, request: Request, response: Response, c: ContainerDep) -> dict[str, Any]:
    if _over_plain_http_off_this_machine(request):
        raise InsecureTransport(
            "the console signs in over HTTPS only, except from this machine: serve it behind a TLS "
            "proxy (see docs/security.md)"
        )
    guard, address = SignInGuard(get_rate_limiter(request)), _address(request)
    guard.check(body.username, address)
    try:
        reviewer = await run_in_threadpool(
            console.sign_in, c.new_uow(), c.passwords, body.username, body.password
        )
    except Unauthorized:
        guard.failed(body.username, address)
        raise
    guard.succeeded(body.username, address)
    response.set_cookie(
        COOKIE,
        c.console_tokens.issue(reviewer),
        max_age=console.SIGN_IN_HOURS * 3600,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )
    return _me(reviewer)


@router.post("/sign-out", name="console_sign_out", dependencies=[Change])
def sign_out(
    response: Response, c: ContainerDep, token: Annotated[str | None, Cookie(alias=COOKIE)] = None
) -> dict[str, str]:
    """Ends every sign-in of this reviewer on the server (a copied cookie stops working too)."""
    if token:
        with contextlib.suppress(Unauthorized):  # already ended: signing out again is fine
            console.sign_out(c.new_uow(), c.console_tokens.reviewer(c.new_uow(), token))
    response.delete_cookie(COOKIE, path="/console")
    return {"signed_out": "yes"}


@router.get("/me", name="console_me")
def me(reviewer: Signed) -> dict[str, Any]:
    return _me(reviewer)


@router.get("/sessions", name="console_list_sessions")
def sessions(
    reviewer: Signed,
    c: ContainerDep,
    status: str | None = None,
    qc_verdict: Annotated[str | None, Query(pattern="^(PASS|FAIL|NEEDS_REVIEW)$")] = None,
    template: str | None = None,
    tenant: str | None = None,
    review: Annotated[str | None, Query(pattern="^(approve|reject|none)$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    sample_percent: Annotated[float | None, Query(gt=0, le=100)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[dict[str, Any]]:
    f = SessionFilter(tenant, status, qc_verdict, template, since, until, review, limit, offset)
    return console.list_sessions(c.new_uow(), reviewer, f, sample_percent)


@router.get("/sessions/{session_id}", name="console_session_detail")
def detail(session_id: str, reviewer: Signed, c: ContainerDep) -> dict[str, Any]:
    return console.session_detail(c.new_uow(), reviewer, session_id)


@router.get("/sessions/{session_id}/trace", name="console_operation_trace")
def operation_trace(session_id: str, reviewer: Signed, c: ContainerDep) -> dict[str, Any]:
    """The page's operation trace (屏幕操作过程) summarised: screens, documents per page, confirmations."""
    return console.operation_trace(c.new_uow(), c.blobs, reviewer, session_id)


@router.get("/sessions/{session_id}/recording/{segment}", name="console_recording", response_class=Response)
def video(session_id: str, segment: int, reviewer: Signed, c: ContainerDep) -> Response:
    data = console.recording_segment(c.new_uow(), c.blobs, reviewer, session_id, segment)
    return Response(data, media_type="video/webm", headers={"Cache-Control": "private, no-store"})


@router.get("/sessions/{session_id}/artifacts/{sha256}", name="console_artifact", response_class=Response)
def artifact(session_id: str, sha256: str, reviewer: Signed, c: ContainerDep) -> Response:
    data, media_type = console.artifact(c.new_uow(), c.blobs, reviewer, session_id, sha256)
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, no-store"})


@router.get("/sessions/{session_id}/report", name="console_evidence_report", response_class=Response)
def evidence_report(session_id: str, reviewer: Signed, c: ContainerDep) -> Response:
    """The sealed session's evidence report (出证报告), the signed PDF every bundle of it carries."""
    data = console.evidence_report(c.new_uow(), c.seal_services, reviewer, session_id)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="{session_id}-report.pdf"',
        },
    )


@router.post("/sessions/{session_id}/review", name="console_review", dependencies=[Change])
def review(session_id: str, body: ReviewDecision, reviewer: Signed, c: ContainerDep) -> dict[str, Any]:
    return console.decide(
        c.new_uow(), c.clock, reviewer, session_id, body.decision, body.comment, body.override_reason
    )


@router.get("/templates", name="console_templates")
def templates(reviewer: Signed, c: ContainerDep, tenant: str | None = None) -> list[dict[str, Any]]:
    owner = reviewer.tenant_id or tenant
    if owner is None:
        raise InvalidInput([FieldProblem("tenant", "a platform reviewer names the tenant")])
    return [
        {
            "key": v.key,
            "number": v.number,
            "content_hash": v.content_hash,
            "title": str(v.document.get("title", "")),
            "builtin": v.tenant_id is None,
            "created_at": v.created_at.isoformat(),
        }
        for v in list_templates(c.new_uow(), owner)
    ]


def _publisher(reviewer: Reviewer) -> str:
    """The tenant a reviewer publishes templates for (admins of a tenant only)."""
    if reviewer.role != "admin":
        raise Forbidden(reviewer.role, "publish templates")
    if reviewer.tenant_id is None:
        raise InvalidInput([FieldProblem("tenant", "templates are published by a tenant's admin")])
    return reviewer.tenant_id


@router.post("/templates", name="console_publish_template", dependencies=[Change])
async def publish(request: Request, reviewer: Signed, c: ContainerDep) -> dict[str, Any]:
    """A new template version (YAML body); admins only."""
    tenant = _publisher(reviewer)
    raw = await request.body()
    if len(raw) > c.settings.limits.max_template_bytes:
        raise InvalidInput([FieldProblem("body", "the template is too large")])
    text = raw.decode("utf-8", errors="replace")
    published = publish_template(c.new_uow(), c.clock, c.ids, tenant, text, "body", c.blobs)
    v = published.version
    return {"key": v.key, "number": v.number, "content_hash": v.content_hash, "created": published.created}


@router.get("/templates/{key}", name="console_template")
def template(
    key: str, reviewer: Signed, c: ContainerDep, tenant: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """One version (newest by default) with its YAML, for reading or as the start of a new version."""
    owner = reviewer.tenant_id or tenant
    if owner is None:
        raise InvalidInput([FieldProblem("tenant", "a platform reviewer names the tenant")])
    v = resolve_template(c.new_uow(), owner, key, version)
    t = template_of(v)
    return {
        "key": v.key,
        "number": v.number,
        "content_hash": v.content_hash,
        "builtin": v.tenant_id is None,
        "title": t.title,
        "yaml": v.source,
        "questions": [
            {
                "id": q.id,
                "prompt": q.prompt,
                "prompt_audio": q.prompt_audio,
                "expects_answer": q.expects_answer,
            }
            for q in t.questions
        ],
    }


@router.post(
    "/templates/{key}/questions/{question_id}/prompt-audio",
    name="console_record_prompt",
    dependencies=[Change],
    openapi_extra={"requestBody": {"required": True, "content": {t: {} for t in AUDIO_TYPES}}},
)
async def record_prompt(
    key: str, question_id: str, request: Request, reviewer: Signed, c: ContainerDep
) -> dict[str, Any]:
    """An operator's recording for one question: a new template version that plays it; admins only."""
    tenant = _publisher(reviewer)
    raw = await typed_body(request, AUDIO_TYPES, MAX_PROMPT_AUDIO)
    done = await run_in_threadpool(
        attach_prompt_audio, c.new_uow(), c.clock, c.ids, c.blobs, tenant, key, question_id, raw
    )
    v = done.published.version
    return {
        "key": v.key,
        "number": v.number,
        "content_hash": v.content_hash,
        "created": done.published.created,
        "sha256": done.sha256,
        "duration_s": done.duration_s,
    }


@pages.get("/console", response_class=HTMLResponse)
def console_page() -> HTMLResponse:
    html = resources.files("dualsign.web").joinpath("console.html").read_text(encoding="utf-8")
    return HTMLResponse(html, headers=PAGE_HEADERS)
