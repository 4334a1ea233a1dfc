"""Signing sessions: create (multipart: fields + identity photo + PDFs), list, read, timeline, cancel."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO

from fastapi import APIRouter, File, Form, Query, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from dualsign.api.deps import ContainerDep, TenantId
from dualsign.api.schemas import (
    ArtifactOut,
    CancelRequest,
    EventOut,
    ReasonIn,
    RetentionOut,
    SealOut,
    SessionCreated,
    SessionDetail,
    SessionOut,
)
from dualsign.application.evidence.retention import RetentionView, delete_evidence, retention_of, set_hold
from dualsign.application.evidence.sealing import SealingPending, Waiting, export_bundle, seal_session
from dualsign.application.integrator.sessions import (
    NewAgent,
    NewSession,
    Upload,
    cancel_session,
    create_session,
    get_session,
    list_sessions,
)
from dualsign.application.outbox.webhooks import deliveries
from dualsign.domain.errors import FieldProblem, InvalidInput, PayloadTooLarge

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])


async def _read(field: str, upload: UploadFile, limit: int) -> Upload:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(field, limit)
    media_type = (upload.content_type or "").split(";")[0].strip().lower()
    return Upload(field, upload.filename or field, media_type, data)


def _variables(raw: str | None) -> dict[str, object]:
    if not raw or not raw.strip():
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput([FieldProblem("variables", "must be a JSON object of variable name to value")])
    return {str(k): v for k, v in parsed.items()}


def _agent(raw: str | None, photo: Upload | None) -> NewAgent | None:
    """The agent object (``{"name": …, "number": …}``) with its photo; None when neither is given."""
    if not raw or not raw.strip():
        if photo is not None:
            raise InvalidInput([FieldProblem("agent", "agent_photo is given without agent (name, number)")])
        return None
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidInput([FieldProblem("agent", 'must be a JSON object {"name": …, "number": …}')])
    problems = [
        FieldProblem(f"agent.{key}", "must be a string")
        for key in ("name", "number")
        if not isinstance(parsed.get(key), str)
    ]
    unknown = sorted(set(parsed) - {"name", "number"})
    if unknown:
        problems.append(FieldProblem("agent", f"unknown fields {unknown}; name and number are taken"))
    if problems:
        raise InvalidInput(problems)
    return NewAgent(parsed["name"], parsed["number"], photo)


@router.post("", status_code=status.HTTP_201_CREATED, name="create_session")
async def create(
    tenant: TenantId,
    c: ContainerDep,
    template: Annotated[str, Form(description="template key, e.g. insurance-epolicy-zh")],
    signer_name: Annotated[str, Form()],
    signer_id_number: Annotated[str, Form()],
    signer_phone: Annotated[str, Form()],
    identity_photo: Annotated[UploadFile, File(description="JPEG or PNG of the signer's ID photo")],
    documents: Annotated[
        list[UploadFile] | None, File(description="one or more PDFs to sign (unless continues_session)")
    ] = None,
    template_version: Annotated[str | None, Form(description="number or content hash")] = None,
    id_type: Annotated[str, Form(description="cn_resident (18-digit) or other")] = "cn_resident",
    callback_url: Annotated[str | None, Form()] = None,
    external_ref: Annotated[str | None, Form(description="your business reference")] = None,
    summary: Annotated[str, Form(description="business summary shown to the signer")] = "",
    expires_in: Annotated[int, Form(description="seconds until the signer link expires")] = 86400,
    contract_term_months: Annotated[
        int | None, Form(description="term of the contract: retention runs from its end")
    ] = None,
    continues_session: Annotated[
        str | None,
        Form(description="a signed session of yours whose signed documents this signer signs next"),
    ] = None,
    variables: Annotated[
        str | None,
        Form(
            description='the template\'s variables as a JSON object, e.g. {"loan_amount": "500000.00", '
            '"annual_rate": "3.85"} (see GET /v1/templates/{key})'
        ),
    ] = None,
    time_zone: Annotated[
        str | None,
        Form(
            description="the signer's local time as an IANA name, e.g. Asia/Shanghai (the evidence "
            "report's times); default: the platform's DUALSIGN_TIME_ZONE"
        ),
    ] = None,
    organisation: Annotated[
        str | None,
        Form(
            description="id of your organisation (POST /v1/organisations) whose seal the signer applies at "
            "the template's organisation seal spots (seal: organisation); required by such templates"
        ),
    ] = None,
    seal_role: Annotated[
        str | None,
        Form(
            description="the signer's authority to apply the organisation's seal: legal_representative "
            "(法定代表人) or authorised_agent (授权代理人)"
        ),
    ] = None,
    authorisation_ref: Annotated[
        str | None,
        Form(description="an authorised agent's authorisation (授权委托书): its number or reference"),
    ] = None,
    authorisation_document: Annotated[
        UploadFile | None,
        File(description="an authorised agent's authorisation (授权委托书) as PDF, JPEG or PNG"),
    ] = None,
    agent: Annotated[
        str | None,
        Form(
            description='the agent on camera with the signer, when the template declares one: {"name": '
            '"李四", "number": "02000144000080002020000123"} (licence or staff number)'
        ),
    ] = None,
    agent_photo: Annotated[
        UploadFile | None, File(description="JPEG or PNG of the agent, one face (with agent)")
    ] = None,
) -> SessionCreated:
    lim = c.upload_limits
    photo = await _read("identity_photo", identity_photo, lim.max_photo_bytes)
    agent_pic = await _read("agent_photo", agent_photo, lim.max_photo_bytes) if agent_photo else None
    docs = [await _read(f"documents[{i}]", d, lim.max_document_bytes) for i, d in enumerate(documents or [])]
    authorisation = (
        await _read("authorisation_document", authorisation_document, lim.max_document_bytes)
        if authorisation_document is not None
        else None
    )
    req = NewSession(
        template_key=template,
        template_version=template_version,
        signer_name=signer_name,
        signer_id_number=signer_id_number,
        signer_phone=signer_phone,
        identity_photo=photo,
        documents=[Upload("documents", d.filename, d.media_type, d.data) for d in docs],
        callback_url=callback_url or None,
        external_ref=external_ref or None,
        summary=summary,
        expires_in_seconds=expires_in,
        contract_term_months=contract_term_months,
        id_type=id_type,
        continues_session=continues_session or None,
        variables=_variables(variables),
        time_zone=time_zone or None,
        organisation=organisation or None,
        seal_role=seal_role or None,
        authorisation_ref=authorisation_ref or None,
        authorisation_document=authorisation,
        agent=_agent(agent, agent_pic),
    )
    created = create_session(c.new_uow(), c.session_services, tenant, req)
    view = get_session(c.new_uow(), tenant, created.session.id)
    return SessionCreated(
        **SessionOut.of(view.session, view.template).model_dump(),
        signer_url=created.signer_url,
        artifacts=[ArtifactOut.of(a) for a in view.artifacts],
        warnings=created.warnings,
    )


@router.get("", name="list_sessions")
def list_all(
    tenant: TenantId,
    c: ContainerDep,
    status_: Annotated[str | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[SessionOut]:
    return [SessionOut.of(s) for s in list_sessions(c.new_uow(), tenant, status_, limit, offset)]


@router.get("/{session_id}", name="get_session")
def get_one(session_id: str, tenant: TenantId, c: ContainerDep) -> SessionDetail:
    return SessionDetail.of_view(get_session(c.new_uow(), tenant, session_id))


@router.get("/{session_id}/events", name="list_session_events")
def events(session_id: str, tenant: TenantId, c: ContainerDep) -> list[EventOut]:
    return [EventOut.of(e) for e in get_session(c.new_uow(), tenant, session_id).events]


@router.get("/{session_id}/webhooks", name="list_session_webhooks")
def webhooks(session_id: str, tenant: TenantId, c: ContainerDep) -> list[dict[str, Any]]:
    """Deliveries to the session's callback URL: event, state (queued/running/done/dead), attempts,
    next attempt, last error."""
    return [
        {
            "delivery": j.key,
            "event": j.payload["body"]["event"],
            "state": j.state,
            "attempts": j.attempts,
            "next_attempt_at": j.run_after.isoformat() if j.state == "queued" else None,
            "last_error": j.last_error,
        }
        for j in deliveries(c.new_uow(), tenant, session_id)
    ]


@router.post("/{session_id}/seal", name="seal_session")
def seal(session_id: str, tenant: TenantId, c: ContainerDep) -> SealOut:
    """Seal the evidence of an ended session (done automatically when it ends; this retries). 409
    ``sealing_pending`` while sealing waits for the recording (with Retry-After when its end is known)."""
    get_session(c.new_uow(), tenant, session_id)  # 404 for another tenant's id
    sealed = seal_session(c.new_uow(), c.seal_services, session_id)
    if isinstance(sealed, Waiting):
        raise SealingPending(sealed, c.clock.now())
    return SealOut(
        manifest_sha256=sealed.manifest_sha256,
        log_index=sealed.log_index,
        sealed_at=sealed.sealed_at,
        chain_length=sealed.chain_length,
    )


@router.get(
    "/{session_id}/bundle",
    name="export_bundle",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def bundle(session_id: str, tenant: TenantId, c: ContainerDep) -> Response:
    """The evidence bundle (zip) of a sealed session, verifiable offline with dualsign-verify."""
    # written to a nameless file beside the blobs (not /tmp, often memory), then sent from it
    out = tempfile.TemporaryFile(dir=c.settings.data_dir)  # noqa: SIM115 (_sent closes it once sent)
    try:
        export_bundle(c.new_uow(), c.seal_services, tenant, session_id, out)
        size = out.seek(0, os.SEEK_END)
    except BaseException:
        out.close()
        raise
    return StreamingResponse(
        _sent(out),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{session_id}.zip"',
            "Content-Length": str(size),
        },
    )


def _sent(f: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    """The file from its start, ``size`` bytes at a time; closed once read (or dropped with the response)."""
    with f:
        f.seek(0)
        while block := f.read(size):
            yield block


def _retention(view: RetentionView) -> RetentionOut:
    return RetentionOut(
        retain_until=view.retain_until,
        legal_holds=view.holds,
        deletable=view.deletable,
        reason=view.reason,
        deleted=view.deleted,
    )


@router.get("/{session_id}/retention", name="get_retention")
def retention(session_id: str, tenant: TenantId, c: ContainerDep) -> RetentionOut:
    return _retention(retention_of(c.new_uow(), c.clock, tenant, session_id))


@router.post("/{session_id}/legal-hold", name="place_legal_hold")
def hold(session_id: str, body: ReasonIn, tenant: TenantId, c: ContainerDep) -> RetentionOut:
    return _retention(
        set_hold(c.new_uow(), c.clock, tenant, session_id, place=True, reason=body.reason, by="integrator")
    )


@router.post("/{session_id}/legal-hold/release", name="release_legal_hold")
def release(session_id: str, body: ReasonIn, tenant: TenantId, c: ContainerDep) -> RetentionOut:
    return _retention(
        set_hold(c.new_uow(), c.clock, tenant, session_id, place=False, reason=body.reason, by="integrator")
    )


@router.post("/{session_id}/evidence/delete", name="delete_evidence")
def delete(session_id: str, body: ReasonIn, tenant: TenantId, c: ContainerDep) -> RetentionOut:
    """Delete the evidence bytes once retention has ended and no hold is in force (else 409)."""
    return _retention(
        delete_evidence(
            c.new_uow(), c.blobs, c.clock, tenant, session_id, reason=body.reason, by="integrator"
        )
    )


@router.post("/{session_id}/cancel", name="cancel_session")
def cancel(session_id: str, body: CancelRequest, tenant: TenantId, c: ContainerDep) -> SessionOut:
    cancel_session(c.new_uow(), c.clock, tenant, session_id, body.reason)
    c.seal_ended(session_id)  # a cancelled session is evidence too
    view = get_session(c.new_uow(), tenant, session_id)
    return SessionOut.of(view.session, view.template)
