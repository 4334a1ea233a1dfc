"""Document review and signing, behind the signer link.

Review: the page reports each page the signer has on screen (``document_viewed``); review closes when
the template's rules hold (every document read to its last page, the minimum time spent).

Signing: the signer's handwritten mark is stored as an artifact; then, document by document, the
signer's PAdES signature (event certificate, handwriting and optional name seal), the seal of the
organisation the session names at its seal spots (that organisation's current certificate, applied by
the signer under the authority recorded at creation) and the institution's counter-signature
(organisation certificate and seal) are applied as incremental revisions. An organisation revoked since
the session was created fails the session instead (recorded, nothing signed; the signer's earlier steps
fail it already, ``flow.act``: this is the check under the lock); one whose certificate is
out of its term refuses the signing (409) until it is renewed. Each
signature is a ``document_signed`` event carrying the digest of the revision it produced and the head of
the evidence chain it was bound to (that head is also inside the signature, in ``/Reason``). The final
PDF is stored as a ``signed_document`` artifact, ``signature_applied`` ends the session and sealing
follows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dualsign.application.artifacts import store_artifact
from dualsign.application.event_store import persist
from dualsign.application.integrator.organisations import refuse_unless_final, seal_standing
from dualsign.application.integrator.ports import PdfInspector, Placed
from dualsign.application.integrator.sessions import artifacts_in_order
from dualsign.application.ports import UnitOfWork
from dualsign.application.records import Artifact, SessionRecord
from dualsign.application.signer.flow import (
    SignerServices,
    SignerView,
    act,
    load_open,
    session_organisation,
    view_of,
)
from dualsign.application.signer.ports import DocumentSigner, PageRenderer, SignedPdf
from dualsign.domain.errors import FieldProblem, IllegalTransition, InvalidInput, NotFound
from dualsign.domain.event_payloads import SealedFor
from dualsign.domain.organisations import SealBlock, SealRole
from dualsign.domain.session import Event, SigningSession
from dualsign.domain.states import EventKind, SessionState
from dualsign.domain.templates import SignatureField

SIGNED_ROLE = "signed_document"
MARK_ROLE = "signature_mark"


@dataclass(frozen=True)
class DocumentServices:
    signer: SignerServices
    pdfs: PdfInspector
    signing: DocumentSigner
    pages: PageRenderer


@dataclass(frozen=True)
class Mark:
    """What the signer drew: pad strokes (points in the pad's pixels), or a picture of the mark."""

    strokes: Sequence[Sequence[Sequence[float]]] | None = None
    width: float = 0.0
    height: float = 0.0
    image: bytes | None = None


@dataclass(frozen=True)
class DocumentInfo:
    index: int
    name: str
    sha256: str
    pages: int
    pages_seen: list[int]
    signed_sha256: str | None


def _documents(uow: UnitOfWork, session: SigningSession) -> list[Artifact]:
    """The session's documents in the order they were given."""
    return artifacts_in_order(uow.artifacts.list(session.id), session.events, "document")


def _placements(session: SigningSession, sha256: str) -> dict[tuple[str, int], Placed]:
    """The document's signature fields as resolved at session creation: (role, n) → placement."""
    for e in session.events:
        if (
            e.kind is EventKind.ARTIFACT_STORED
            and e.payload.get("sha256") == sha256
            and "placements" in e.payload
        ):
            out: dict[tuple[str, int], Placed] = {}
            for p in e.payload["placements"]:
                n = sum(1 for role, _ in out if role == p["role"]) + 1
                x1, y1, x2, y2 = (float(v) for v in p["box"])
                out[(str(p["role"]), n)] = Placed(str(p["role"]), int(p["page"]), (x1, y1, x2, y2))
            return out
    return {}


def _signed_by_source(session: SigningSession) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in session.events:
        if e.kind is EventKind.DOCUMENT_SIGNED:
            out[str(e.payload["source_sha256"])] = str(e.payload["revision_sha256"])
    return out


def list_documents(uow: UnitOfWork, svc: DocumentServices, token: str) -> list[DocumentInfo]:
    with uow:
        _, session = load_open(uow, svc.signer, token)
        signed = _signed_by_source(session)
        return [
            DocumentInfo(
                i,
                a.name,
                a.sha256,
                svc.pdfs.inspect(svc.signer.blobs.get(a.sha256)).pages,
                sorted(session.pages_seen.get(a.sha256, set())),
                signed.get(a.sha256),
            )
            for i, a in enumerate(_documents(uow, session))
        ]


def document_pdf(uow: UnitOfWork, svc: DocumentServices, token: str, index: int) -> tuple[str, bytes]:
    with uow:
        _, session = load_open(uow, svc.signer, token)
        docs = _documents(uow, session)
        if not 0 <= index < len(docs):
            raise NotFound("document", str(index))
        return docs[index].name, svc.signer.blobs.get(docs[index].sha256)


def page_picture(
    uow: UnitOfWork, svc: DocumentServices, token: str, index: int, page: int, width: int
) -> bytes:
    """Page ``page`` of document ``index`` as PNG, ``width`` pixels wide (reading it is reported separately,
    by ``view_page``)."""
    _, data = document_pdf(uow, svc, token, index)
    return svc.pages.render(data, page, width)


def view_page(uow: UnitOfWork, svc: DocumentServices, token: str, index: int, page: int) -> SignerView:
    with uow:
        _, session = load_open(uow, svc.signer, token)
        docs = _documents(uow, session)
        if not 0 <= index < len(docs):
            raise NotFound("document", str(index))
        sha = docs[index].sha256
        pages = svc.pdfs.inspect(svc.signer.blobs.get(sha)).pages
    if not 1 <= page <= pages:
        raise InvalidInput([FieldProblem("page", f"must be between 1 and {pages}")])
    return act(
        uow,
        svc.signer,
        token,
        lambda s, now, _r: [s.view_document(now, document=sha, page=page, pages=pages)],
    )


def finish_review(uow: UnitOfWork, svc: DocumentServices, token: str) -> SignerView:
    with uow:
        _, session = load_open(uow, svc.signer, token)
        shas = [a.sha256 for a in _documents(uow, session)]
    return act(uow, svc.signer, token, lambda s, now, _r: [s.finish_review(now, shas)])


def _mark_png(svc: DocumentServices, mark: Mark | None, required: bool) -> bytes | None:
    if mark is None or (mark.strokes is None and mark.image is None):
        if required:
            raise InvalidInput([FieldProblem("strokes", "this signing needs the signer's handwritten mark")])
        return None
    try:
        if mark.strokes is not None:
            return svc.signing.handwriting(mark.strokes, mark.width, mark.height)
        return svc.signing.picture(mark.image or b"")
    except ValueError as exc:
        raise InvalidInput(
            [FieldProblem("strokes" if mark.strokes is not None else "image", str(exc))]
        ) from None


def _binding(session_id: str, head: str) -> str:
    return f"DualSign session {session_id}; evidence chain {head}"


def _fail_closed(
    uow: UnitOfWork,
    svc: DocumentServices,
    record: SessionRecord,
    session: SigningSession,
    now: datetime,
    block: SealBlock,
    reason: str,
) -> SignerView:
    """The organisation's seal can never be applied (it was revoked): the session fails with the reason
    on record (``session_failed``, code ``organisation_revoked``), nothing is signed (not the signer's
    signature either, and no other seal in its place), and the ended session is sealed as any other."""
    failed = session.fail(now, reason=f"{reason}; nothing was signed", code=block.value)
    persist(uow, session, [failed])
    uow.commit()
    if svc.signer.sealer is not None:
        svc.signer.sealer.seal_ended(session.id)
    return view_of(record, session, [failed])


def sign_documents(uow: UnitOfWork, svc: DocumentServices, token: str, mark: Mark | None) -> SignerView:
    blobs, clock = svc.signer.blobs, svc.signer.clock
    with uow:
        record, session = load_open(uow, svc.signer, token)
        if session.current_state is not SessionState.SIGNING:
            raise IllegalTransition(session.current_state.value, EventKind.DOCUMENT_SIGNED.value)
        step = session.template.documents.signature
        png = _mark_png(svc, mark, step.handwriting)
        now = clock.now()
        org = session_organisation(session)
        org_fields: list[SignatureField | None] = [
            f for f in step.fields if f.signs_as == "organisation" and org is not None
        ]
        seal_serial = ""  # the organisation's current certificate, read (and locked) now
        if org is not None and org_fields:
            standing = seal_standing(uow, org["id"], now)
            refuse_unless_final(org["id"], standing)  # 409, nothing recorded: a renewal lifts it
            if standing.block is not None:
                return _fail_closed(uow, svc, record, session, now, standing.block, standing.reason)
            seal_serial = standing.certificate_serial
        added: list[Event] = []
        last = uow.events.last(session.id)
        chain = {"head": last.sha256 if last is not None else ""}

        def record_events(events: list[Event]) -> None:
            added.extend(events)
            chain["head"] = persist(uow, session, events)[-1].sha256

        def store(data: bytes, role: str, name: str, media_type: str) -> str:
            stored = store_artifact(
                uow, blobs, svc.signer.ids, session, now, data, role=role, name=name, media_type=media_type
            )
            record_events([stored.event])
            return stored.sha256

        mark_sha = store(png, MARK_ROLE, "signature-mark.png", "image/png") if png is not None else None
        tenant = uow.tenants.get(record.tenant_id)
        organisation = tenant.name if tenant is not None else record.tenant_id
        signer_fields: list[SignatureField | None] = [f for f in step.fields if f.signs_as == "signer"] or [
            None
        ]
        institution_fields: list[SignatureField | None] = [f for f in step.fields if f.role == "institution"]
        org_seal = blobs.get(org["seal_sha256"]) if org is not None else b""
        signed_docs = []
        for index, doc in enumerate(_documents(uow, session)):
            data = blobs.get(doc.sha256)
            placed = _placements(session, doc.sha256)
            plan = [("signer", f, n) for n, f in enumerate(signer_fields, 1)]
            plan += [("organisation", f, n) for n, f in enumerate(org_fields, 1)]
            plan += [("institution", f, n) for n, f in enumerate(institution_fields, 1)]
            for role, f, n in plan:
                head = chain["head"]  # what this signature is bound to
                binding = _binding(session.id, head)
                result: SignedPdf
                acting: SealedFor = {}
                if role == "organisation" and f is not None and org is not None:
                    role_en = SealRole(org["seal_role"]).en
                    result = svc.signing.seal_as_organisation(
                        data,
                        field=f,
                        placed=placed.get((role, n)),
                        field_name=f"Organisation{n}_{session.id}",
                        organisation_id=org["id"],
                        certificate_serial=seal_serial,
                        seal=org_seal,
                        reason=f"Seal of {org['name']} ({org['credit_code']}) applied by "
                        f"{record.signer_name}, {role_en}. {binding}",
                        at=now,
                    )
                    acting = {"organisation_id": org["id"], "seal_role": org["seal_role"]}
                elif role == "signer":
                    result = svc.signing.sign_as_signer(
                        data,
                        field=f,
                        placed=placed.get((role, n)) if f is not None else None,
                        field_name=f"Signer{n}_{session.id}",  # unique across signers in order
                        marks=[png] if png is not None else [],
                        seal_name=record.signer_name if step.seal else None,
                        signer_name=record.signer_name,
                        id_hash=record.signer_id_hash[:32],
                        session_id=session.id,
                        reason=f"{record.signer_name} signs after dual recording. {binding}",
                        at=now,
                    )
                else:
                    result = svc.signing.countersign(
                        data,
                        field=f,
                        placed=placed.get((role, n)) if f is not None else None,
                        field_name=f"Institution{n}_{session.id}",
                        tenant_id=record.tenant_id,
                        organisation=organisation,
                        code=None,
                        reason=f"{organisation} counter-signs. {binding}",
                        at=now,
                    )
                data = result.data
                record_events(
                    [
                        session.sign_document(
                            now,
                            role=role,
                            document=index,
                            source_sha256=doc.sha256,
                            field=result.field,
                            page=result.page,
                            box=list(result.box),
                            certificate_serial=result.certificate_serial,
                            certificate_subject=result.certificate_subject,
                            level=result.level,
                            chain_head=head,
                            revision_sha256=hashlib.sha256(data).hexdigest(),
                            revision_size=len(data),
                            **acting,
                        )
                    ]
                )
            stem = doc.name[:-4] if doc.name.lower().endswith(".pdf") else doc.name
            signed_docs.append(store(data, SIGNED_ROLE, f"{stem}-signed.pdf", "application/pdf"))
        record_events(
            [
                session.sign(
                    now,
                    {"documents": signed_docs, "level": svc.signing.level, "mark_sha256": mark_sha},
                )
            ]
        )
        uow.commit()
    if svc.signer.sealer is not None:
        svc.signer.sealer.seal_ended(session.id)
    return SignerView(
        record, session.current_state.value, None, [], added, session.template, organisation=org
    )
