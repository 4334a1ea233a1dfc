"""Integrator-side use cases: create a signing session, read it and its timeline, cancel it.

Everything a request carries is validated before anything is stored, so refused input leaves no trace.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dualsign.application.artifacts import Recorded, store_artifact
from dualsign.application.event_store import load_aggregate, persist, pinned_template, template_of
from dualsign.application.integrator.organisations import (
    AUTHORISATION_ROLE,
    SEAL_ROLE,
    role_agreement,
    seal_authority,
)
from dualsign.application.integrator.ports import PdfInspector, Placed
from dualsign.application.integrator.signer_links import SignerLinks
from dualsign.application.integrator.template_catalog import resolve_template
from dualsign.application.outbox.callback_policy import CallbackPolicy
from dualsign.application.perception.vision import reference_embedding
from dualsign.application.ports import BlobStore, Clock, IdFactory, UnitOfWork
from dualsign.application.records import Artifact, SessionRecord, StoredEvent, TemplateVersion
from dualsign.domain.errors import FieldProblem, InvalidInput, NotFound, PayloadTooLarge, UnsupportedMedia
from dualsign.domain.event_payloads import AgentRecord, PlacementItem
from dualsign.domain.participants import agent_record
from dualsign.domain.session import SigningSession
from dualsign.domain.states import EventKind
from dualsign.domain.templates import AnswerMode, Template
from dualsign.domain.variables import validate_values, with_agent
from dualsign.engines.base import AsrEngine, EngineUnavailable
from dualsign.engines.vision_base import VisionEngines

PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
PDF_TYPE = "application/pdf"
AUTHORISATION_TYPES = {**PHOTO_TYPES, PDF_TYPE: b"%PDF-"}
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE = re.compile(r"^\+?[0-9][0-9 -]{4,19}$")
_OTHER_ID = re.compile(r"^[A-Z0-9]{5,20}$")
_AGENT_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,40}$")


@dataclass(frozen=True)
class Upload:
    field: str  # form field it came in, for error messages
    filename: str
    media_type: str
    data: bytes


@dataclass(frozen=True)
class NewAgent:
    """The agent on camera with the signer (销售人员, 客户经理), when the template declares one."""

    name: str
    number: str  # licence or staff number (执业证编号, 工号); a resident ID number is kept masked
    photo: Upload | None  # exactly one face, like the signer's identity photo


@dataclass(frozen=True)
class NewSession:
    template_key: str
    signer_name: str
    signer_id_number: str
    signer_phone: str
    identity_photo: Upload
    documents: Sequence[Upload]
    template_version: str | None = None
    callback_url: str | None = None
    external_ref: str | None = None
    summary: str = ""
    expires_in_seconds: int = 24 * 3600
    id_type: str = "cn_resident"  # cn_resident (18-digit 居民身份证) | other (passport, permit …)
    contract_term_months: int | None = None  # retention runs from the contract's end when given
    continues_session: str | None = None  # sign the documents another session signed (signers in order)
    variables: Mapping[str, object] = field(default_factory=dict)  # the template's declared variables
    time_zone: str | None = None  # IANA name of the signer's local time (the report's times); None: default
    organisation: str | None = None  # id of the tenant's organisation whose seal the signer applies
    seal_role: str | None = None  # legal_representative | authorised_agent (法定代表人 | 授权代理人)
    authorisation_ref: str | None = None  # an agent's authorisation (授权委托书): its reference …
    authorisation_document: Upload | None = None  # … or the document itself (PDF, JPEG or PNG)
    agent: NewAgent | None = None  # required when the template puts an agent on camera, refused otherwise


@dataclass(frozen=True)
class UploadLimits:
    max_document_bytes: int
    max_documents: int
    max_photo_bytes: int
    max_session_seconds: int


@dataclass(frozen=True)
class CreatedSession:
    session: SessionRecord
    signer_url: str
    token: str
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # created anyway, by option (speech_check=warn)


def speech_problems(template: Template, asr: AsrEngine | None) -> list[str]:
    """Why the spoken answers of ``template`` could not be recognised here (empty: they can)."""
    spoken = [q for q in template.questions if q.expects_answer and AnswerMode.SPEECH in q.answer_modes]
    if not spoken:
        return []
    lang, family = template.language.value, template.language.family
    if asr is None:
        return [f"the template's questions are answered aloud in {lang}; no speech recogniser is configured"]
    if family not in asr.languages:
        heard = ", ".join(sorted(asr.languages)) or "none"
        return [
            f"the template's language is {lang} and the speech recogniser {asr.name} ({asr.model_id}) "
            f"only recognises: {heard}; configure a {family} model (docs/speech.md)"
        ]
    status = asr.is_available()
    if not status.ok:
        return [f"the speech recogniser {asr.name} for {lang} is not available: {status.reason}"]
    return []


def valid_cn_resident_id(number: str) -> bool:
    """GB 11643 check: 17 digits and an ISO 7064 MOD 11-2 check character."""
    if not re.fullmatch(r"\d{17}[\dX]", number):
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def mask_id(number: str) -> str:
    keep = 4 if len(number) > 10 else 2
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this system (or the tzdata package) knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _validate(req: NewSession, limits: UploadLimits, callbacks: CallbackPolicy) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if not req.signer_name.strip() or len(req.signer_name) > 100:
        problems.append(FieldProblem("signer_name", "must be 1 to 100 characters"))
    idn = req.signer_id_number.strip().upper()
    if req.id_type == "cn_resident":
        if not valid_cn_resident_id(idn):
            problems.append(
                FieldProblem(
                    "signer_id_number",
                    "not a valid 18-character resident ID number (check character wrong or wrong length)",
                )
            )
    elif req.id_type == "other":
        if not _OTHER_ID.match(idn):
            problems.append(FieldProblem("signer_id_number", "must be 5 to 20 letters or digits"))
    else:
        problems.append(FieldProblem("id_type", "must be cn_resident or other"))
    if not _PHONE.match(req.signer_phone.strip()):
        problems.append(FieldProblem("signer_phone", "must be a phone number (digits, spaces, -, leading +)"))
    if req.callback_url:
        problem = callbacks.url_problem(req.callback_url)
        if problem:
            problems.append(FieldProblem("callback_url", problem))
    if req.time_zone is not None and not is_time_zone(req.time_zone):
        problems.append(FieldProblem("time_zone", "must be an IANA time zone such as Asia/Shanghai"))
    if not 60 <= req.expires_in_seconds <= limits.max_session_seconds:
        problems.append(FieldProblem("expires_in", f"must be between 60 and {limits.max_session_seconds} s"))
    if req.contract_term_months is not None and not 1 <= req.contract_term_months <= 1200:
        problems.append(FieldProblem("contract_term_months", "must be between 1 and 1200 months"))
    if len(req.summary) > 2000:
        problems.append(FieldProblem("summary", "must be at most 2000 characters"))
    if req.external_ref and len(req.external_ref) > 200:
        problems.append(FieldProblem("external_ref", "must be at most 200 characters"))
    if not req.documents:
        problems.append(FieldProblem("documents", "at least one PDF document is required"))
    return problems


def _check_pdf(where: str, doc: Upload, pdfs: PdfInspector, allow_signed: bool) -> FieldProblem | None:
    try:
        facts = pdfs.inspect(doc.data)
    except ValueError as exc:
        return FieldProblem(where, f"{doc.filename!r} {exc}")
    if facts.encrypted:
        return FieldProblem(where, f"{doc.filename!r} is encrypted; upload it without a password")
    if facts.signatures and not allow_signed:
        return FieldProblem(
            where,
            f"{doc.filename!r} is already signed ({facts.signatures} signature(s)); "
            "upload the unsigned document",
        )
    if facts.pages < 1:
        return FieldProblem(where, f"{doc.filename!r} has no pages")
    return None


def _check_uploads(
    req: NewSession, limits: UploadLimits, pdfs: PdfInspector | None = None, allow_signed: bool = False
) -> list[FieldProblem]:
    problems = _check_photo(req.identity_photo, limits)
    if len(req.documents) > limits.max_documents:
        raise PayloadTooLarge("documents", limits.max_documents)
    for i, doc in enumerate(req.documents):
        where = f"{doc.field}[{i}]"
        if len(doc.data) > limits.max_document_bytes:
            raise PayloadTooLarge(where, limits.max_document_bytes, len(doc.data))
        if doc.media_type != PDF_TYPE:
            raise UnsupportedMedia(where, doc.media_type, [PDF_TYPE])
        if b"%PDF-" not in doc.data[:1024]:
            problems.append(FieldProblem(where, f"{doc.filename!r} is not a PDF (no %PDF- header)"))
        elif b"%%EOF" not in doc.data[-2048:]:
            problems.append(FieldProblem(where, f"{doc.filename!r} is truncated (no %%EOF at the end)"))
        elif pdfs is not None and (problem := _check_pdf(where, doc, pdfs, allow_signed)) is not None:
            problems.append(problem)
    auth = req.authorisation_document
    if auth is not None:
        if len(auth.data) > limits.max_document_bytes:
            raise PayloadTooLarge(auth.field, limits.max_document_bytes, len(auth.data))
        if auth.media_type not in AUTHORISATION_TYPES:
            raise UnsupportedMedia(auth.field, auth.media_type, sorted(AUTHORISATION_TYPES))
        if not auth.data.startswith(AUTHORISATION_TYPES[auth.media_type]):
            problems.append(FieldProblem(auth.field, f"the bytes are not a {auth.media_type} file"))
    return problems


def _check_photo(photo: Upload, limits: UploadLimits) -> list[FieldProblem]:
    if len(photo.data) > limits.max_photo_bytes:
        raise PayloadTooLarge(photo.field, limits.max_photo_bytes, len(photo.data))
    if photo.media_type not in PHOTO_TYPES:
        raise UnsupportedMedia(photo.field, photo.media_type, sorted(PHOTO_TYPES))
    if not photo.data.startswith(PHOTO_TYPES[photo.media_type]):
        return [FieldProblem(photo.field, f"the bytes are not a {photo.media_type} image")]
    return []


def _check_agent(template: Template, agent: NewAgent | None, limits: UploadLimits) -> list[FieldProblem]:
    """The agent the template declares (or none when it declares none), each field named on its own."""
    if template.agent is None:
        if agent is None:
            return []
        return [FieldProblem("agent", f"template {template.key} puts no agent on camera; leave agent out")]
    label = template.agent.label
    if agent is None:
        return [
            FieldProblem(
                "agent",
                f"template {template.key} puts the agent ({label}) on camera with the signer: give agent "
                '({"name": …, "number": …}) and agent_photo',
            )
        ]
    problems: list[FieldProblem] = []
    if not agent.name.strip() or len(agent.name.strip()) > 100:
        problems.append(FieldProblem("agent.name", "must be 1 to 100 characters"))
    if not _AGENT_NUMBER.match(agent.number.strip()):
        problems.append(FieldProblem("agent.number", "must be 4 to 40 letters, digits or hyphens"))
    if agent.photo is None:
        problems.append(FieldProblem("agent_photo", f"the {label}'s photo (one face) is required"))
    else:
        problems += _check_photo(agent.photo, limits)
    return problems


def _agent_record(template: Template, agent: NewAgent | None) -> AgentRecord | None:
    if template.agent is None or agent is None or agent.photo is None:
        return None
    number = agent.number.strip().upper()
    shown = mask_id(number) if valid_cn_resident_id(number) else number
    digest = hashlib.sha256(agent.photo.data).hexdigest()
    return agent_record(template.agent.label, agent.name.strip(), shown, digest)


@dataclass(frozen=True)
class SessionServices:
    """What creating a session needs besides the unit of work."""

    blobs: BlobStore
    clock: Clock
    ids: IdFactory
    links: SignerLinks
    pii_key: bytes  # keys the HMAC of ID numbers
    limits: UploadLimits
    vision: VisionEngines | None = None  # checks the identity photo shows exactly one face
    pdfs: PdfInspector | None = None  # opens each PDF as signing will
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)  # where callback_url may point
    asr: AsrEngine | None = None  # must hear the template's language when its questions are spoken
    speech_check: str = "refuse"  # refuse | warn: a template whose language no recogniser hears
    time_zone: str = "Asia/Shanghai"  # sessions created without their own time_zone are in this one


def artifacts_in_order(
    artifacts: Iterable[Artifact], events: Iterable[Recorded], role: str
) -> list[Artifact]:
    """A session's artifacts of one role in the order they were stored (their ``artifact_stored`` events;
    rows of one upload share a timestamp, so the event log is the order)."""
    by_sha = {a.sha256: a for a in artifacts if a.role == role}
    order = [
        str(e.payload["sha256"])
        for e in events
        if e.kind == EventKind.ARTIFACT_STORED and e.payload.get("role") == role
    ]
    return [by_sha[s] for s in dict.fromkeys(order) if s in by_sha]


def _continued_documents(uow: UnitOfWork, blobs: BlobStore, tenant_id: str, req: NewSession) -> list[Upload]:
    """The signed documents of an earlier session of the same tenant, for the next signer."""
    where = "continues_session"
    if req.documents:
        raise InvalidInput([FieldProblem("documents", "give documents or continues_session, not both")])
    with uow:
        earlier = uow.sessions.get(req.continues_session or "")
        if earlier is None or earlier.tenant_id != tenant_id:
            raise InvalidInput([FieldProblem(where, f"no session {req.continues_session!r} of this tenant")])
        if earlier.status not in ("signed", "sealed"):
            raise InvalidInput([FieldProblem(where, f"session {earlier.id} is {earlier.status}, not signed")])
        signed = artifacts_in_order(
            uow.artifacts.list(earlier.id), uow.events.list(earlier.id), "signed_document"
        )
    return [Upload("documents", a.name, a.media_type, blobs.get(a.sha256)) for a in signed]


def create_session(uow: UnitOfWork, svc: SessionServices, tenant_id: str, req: NewSession) -> CreatedSession:
    blobs, clock, ids, links, limits = svc.blobs, svc.clock, svc.ids, svc.links, svc.limits
    continued = req.continues_session is not None
    if continued:
        req = replace(req, documents=_continued_documents(uow, blobs, tenant_id, req))
    problems = _validate(req, limits, svc.callbacks) + _check_uploads(
        req, limits, svc.pdfs, allow_signed=continued
    )
    if problems:
        raise InvalidInput(problems)
    version = resolve_template(uow, tenant_id, req.template_key, req.template_version)
    template = template_of(version)
    supplied, variable_problems = (
        with_agent(template.variables, req.variables, req.agent.name, req.agent.number)
        if req.agent is not None and template.agent is not None
        else (req.variables, [])
    )
    values, value_problems = validate_values(template.variables, supplied)
    variable_problems += value_problems
    auth_doc = req.authorisation_document
    organisation, seal_problems = seal_authority(
        uow,
        tenant_id,
        template,
        req.organisation,
        req.seal_role,
        req.authorisation_ref,
        hashlib.sha256(auth_doc.data).hexdigest() if auth_doc is not None else None,
        clock.now(),
    )
    if organisation is not None:
        seal_problems += role_agreement(values, organisation)
    agent_problems = _check_agent(template, req.agent, limits)
    if variable_problems or seal_problems or agent_problems:
        raise InvalidInput(variable_problems + seal_problems + agent_problems)
    warnings = speech_problems(template, svc.asr)
    if warnings and svc.speech_check != "warn":  # a signer would answer to a recogniser that cannot hear
        raise InvalidInput([FieldProblem("template", w) for w in warnings])
    placements: list[list[Placed]] = [[] for _ in req.documents]
    if svc.pdfs is not None:  # every signature field is placed now (and kept), never mid-session
        fields = [  # an optional organisation seal spot is placed only when the session names one
            f
            for f in template.documents.signature.fields
            if f.signs_as != "organisation" or organisation is not None
        ]
        unplaced = []
        for i, doc in enumerate(req.documents):
            placements[i], reasons = svc.pdfs.placements(doc.data, fields)
            unplaced += [FieldProblem(f"{doc.field}[{i}]", f"{doc.filename!r}: {r}") for r in reasons]
        if unplaced:
            raise InvalidInput(unplaced)
    if template.identity.required:
        if svc.vision is None:
            raise EngineUnavailable(
                "vision", "the template requires identity checks and no face engine is configured"
            )
        signer = reference_embedding(req.identity_photo.data, svc.vision)  # one face, or a 422
        if req.agent is not None and req.agent.photo is not None:
            agent_face = reference_embedding(req.agent.photo.data, svc.vision, "agent_photo")
            if agent_face.distance(signer) <= svc.vision.embedder.match_threshold:  # not their own agent
                raise InvalidInput([FieldProblem("agent_photo", "shows the same person as identity_photo")])
    agent = _agent_record(template, req.agent)
    now = clock.now()
    idn = req.signer_id_number.strip().upper()
    record = SessionRecord(
        id=ids.new_id("ses"),
        tenant_id=tenant_id,
        template_version_id=version.id,
        status="created",
        signer_name=req.signer_name.strip(),
        signer_id_masked=mask_id(idn),
        signer_id_hash=hmac.new(svc.pii_key, idn.encode(), hashlib.sha256).hexdigest(),
        signer_phone=req.signer_phone.strip(),
        callback_url=req.callback_url,
        external_ref=req.external_ref,
        summary=req.summary.strip(),
        expires_at=now + timedelta(seconds=req.expires_in_seconds),
        created_at=now,
        updated_at=now,
    )
    session = SigningSession(record.id, template)
    events = [
        session.create(
            now,
            {
                "tenant_id": tenant_id,
                "signer_name": record.signer_name,
                "signer_id_masked": record.signer_id_masked,
                "signer_id_hmac": record.signer_id_hash,
                "expires_at": record.expires_at.isoformat(),
                "contract_term_months": req.contract_term_months,
                "continues_session": req.continues_session,
                "external_ref": record.external_ref,
                "summary": record.summary,
                "time_zone": req.time_zone or svc.time_zone,
                # created although its answers cannot be recognised here (by the operator's option)
                **({"speech_warnings": warnings} if warnings else {}),
                **({"organisation": organisation} if organisation is not None else {}),
                **({"agent": agent} if agent is not None else {}),
            },
            supplied,
        )
    ]
    uploads: list[tuple[str, Upload, list[PlacementItem] | None]] = [
        ("identity_photo", req.identity_photo, None)
    ]
    if agent is not None and req.agent is not None and req.agent.photo is not None:
        uploads.append(("agent_photo", req.agent.photo, None))
    uploads += [
        ("document", d, [p.to_payload() for p in placed])
        for d, placed in zip(req.documents, placements, strict=True)
    ]
    if organisation is not None:  # the seal picture and the authorisation go into the evidence
        seal = Upload(
            "organisation", "organisation-seal.png", "image/png", blobs.get(organisation["seal_sha256"])
        )
        uploads.append((SEAL_ROLE, seal, None))
        if auth_doc is not None:
            uploads.append((AUTHORISATION_ROLE, auth_doc, None))
    artifacts: list[Artifact] = []
    with uow:
        uow.sessions.add(record)
        for role, up, placed in uploads:
            stored = store_artifact(
                uow,
                blobs,
                ids.new_id,
                session,
                now,
                up.data,
                role=role,
                name=up.filename,
                media_type=up.media_type,
                placements=placed,
            )
            artifacts.append(stored.artifact)
            events.append(stored.event)
        persist(uow, session, events)
        uow.commit()
    token = links.token(record.id, record.expires_at)
    return CreatedSession(record, links.url(token), token, artifacts, warnings)


@dataclass(frozen=True)
class SessionView:
    session: SessionRecord
    template: TemplateVersion
    events: list[StoredEvent]
    artifacts: list[Artifact]


def get_session(uow: UnitOfWork, tenant_id: str, session_id: str) -> SessionView:
    """A tenant's own session; another tenant's id is 'not found', never 'forbidden'."""
    with uow:
        record = uow.sessions.get(session_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound("session", session_id)
        version = pinned_template(uow, record)
        return SessionView(
            record, version, list(uow.events.list(session_id)), list(uow.artifacts.list(session_id))
        )


def list_sessions(
    uow: UnitOfWork, tenant_id: str, status: str | None, limit: int, offset: int
) -> list[SessionRecord]:
    with uow:
        return list(uow.sessions.list_for(tenant_id, status=status, limit=limit, offset=offset))


def cancel_session(
    uow: UnitOfWork, clock: Clock, tenant_id: str, session_id: str, reason: str
) -> SessionRecord:
    with uow:
        record = uow.sessions.get(session_id)
        if record is None or record.tenant_id != tenant_id:
            raise NotFound("session", session_id)
        _, session = load_aggregate(uow, session_id)
        persist(uow, session, [session.cancel(clock.now(), reason=reason[:500], by="integrator")])
        uow.commit()
        return replace(record, status=session.current_state.value, updated_at=clock.now())
