"""A tenant's organisations that seal documents (统一社会信用代码, certificate, seal picture).

Registering one validates everything first (name, credit code with its GB 32100 check character, the
seal's text), refuses a credit code the tenant already registered and has not revoked (409), then issues
the organisation's certificate from the platform's issuing CA (its key kept with the platform's signing
keys), draws the round seal, stores the picture as a blob and the organisation as a row, in one unit of
work.

Renewing issues another key and certificate, which the organisation seals with from then on; the old
ones are kept (seals made with them stay valid). Revoking is final: every certificate of the
organisation still in its term goes on the issuing CA's revocation list (``/pki/ca.crl``) with the time
and the reason, no new session may name the organisation, an open session that would apply its seal
fails at the signer's next step (opening the link, consent, an answer, the document review, at the
latest the signing), and the organisation is never renewed (409 ``organisation_revoked``; the
tenant may register the credit code again, as a new organisation).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from dualsign.application.integrator.ports import OrganisationCertificate, OrganisationKeys
from dualsign.application.ports import BlobStore, Clock, IdFactory, UnitOfWork
from dualsign.application.records import Organisation, OrganisationCertificateEntry
from dualsign.domain.errors import (
    FieldProblem,
    InvalidInput,
    NotFound,
    OrganisationCertificateInvalid,
    OrganisationExists,
    OrganisationRevoked,
)
from dualsign.domain.event_payloads import OrganisationItem
from dualsign.domain.organisations import (
    MAX_NAME,
    MAX_SEAL_TEXT,
    ROLE_CHOICES,
    CertificateStatus,
    CertificateTerm,
    SealAuthority,
    SealBlock,
    credit_code_problem,
    revocation_problems,
    seal_block,
    seal_role,
    to_revoke,
)
from dualsign.domain.templates import Template

SEAL_ROLE = "organisation_seal"  # a session's artifact: the seal picture the signer applies
AUTHORISATION_ROLE = "seal_authorisation"  # an agent's uploaded authorisation (授权委托书)

audit = logging.getLogger("dualsign.audit")  # who registered, renewed or revoked what, from any entry point


@dataclass(frozen=True)
class NewOrganisation:
    name: str
    credit_code: str
    seal_text: str | None = None  # e.g. 合同专用章; None: the plain official seal (公章)


@dataclass(frozen=True)
class OrganisationServices:
    blobs: BlobStore
    clock: Clock
    ids: IdFactory
    keys: OrganisationKeys


def _problems(req: NewOrganisation) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    name = req.name.strip()
    if not 2 <= len(name) <= MAX_NAME:
        problems.append(FieldProblem("name", f"must be 2 to {MAX_NAME} characters"))
    code_problem = credit_code_problem(req.credit_code.strip().upper())
    if code_problem:
        problems.append(FieldProblem("credit_code", code_problem))
    if req.seal_text is not None and not 1 <= len(req.seal_text.strip()) <= MAX_SEAL_TEXT:
        problems.append(FieldProblem("seal_text", f"must be 1 to {MAX_SEAL_TEXT} characters"))
    return problems


def _entry(cert: OrganisationCertificate, at: datetime, by: str | None) -> OrganisationCertificateEntry:
    return OrganisationCertificateEntry(
        serial=cert.serial,
        subject=cert.subject,
        pem=cert.pem,
        sha256=cert.sha256,
        not_before=cert.not_before,
        not_after=cert.not_after,
        issued_at=at,
        issued_by=by,
    )


def register_organisation(
    uow: UnitOfWork, svc: OrganisationServices, tenant_id: str, req: NewOrganisation, by: str | None = None
) -> Organisation:
    problems = _problems(req)
    if problems:
        raise InvalidInput(problems)
    name, code = req.name.strip(), req.credit_code.strip().upper()
    seal_text = req.seal_text.strip() if req.seal_text else None
    try:
        picture = svc.keys.seal_picture(name, code, seal_text)
    except ValueError as exc:
        raise InvalidInput([FieldProblem("name", f"the seal cannot be drawn: {exc}")]) from None
    with uow:
        existing = uow.organisations.by_code(tenant_id, code)
        if existing is not None:
            raise OrganisationExists(code, existing.id)
        org_id = svc.ids.new_id("org")
        now = svc.clock.now()
        cert = svc.keys.issue(org_id, name, code, now)
        seal = svc.blobs.put(picture)
        org = Organisation(
            id=org_id,
            tenant_id=tenant_id,
            name=name,
            credit_code=code,
            seal_text=seal_text,
            certificate_serial=cert.serial,
            certificate_subject=cert.subject,
            certificate_pem=cert.pem,
            seal_sha256=seal.sha256,
            created_at=now,
            certificates=(_entry(cert, now, by),),
        )
        uow.organisations.add(org)
        uow.commit()
    if by is None:  # registered at set-up (the demo tenant, tests), not by a caller
        return org
    audit.info(
        "organisation registered: %s (tenant %s), serial %s, by %s",
        org.id,
        org.tenant_id,
        org.certificate_serial,
        by,
        extra={"organisation_id": org.id, "tenant_id": org.tenant_id, "serial": org.certificate_serial},
    )
    return org


def _own(
    uow: UnitOfWork, tenant_id: str, org_id: str, *, lock: Literal["update"] | None = None
) -> Organisation:
    org = uow.organisations.get(org_id, lock=lock)
    if org is None or org.tenant_id != tenant_id:
        raise NotFound("organisation", org_id)
    return org


def find_organisation(uow: UnitOfWork, org_id: str) -> Organisation:
    """The operator's look-up: the organisation of this id, whatever its tenant ('not found' if none)."""
    with uow:
        org = uow.organisations.get(org_id)
    if org is None:
        raise NotFound("organisation", org_id)
    return org


def certificate_holder(uow: UnitOfWork, serial: int) -> Organisation | None:
    """The organisation (of any tenant) that was issued the certificate of this serial, if one was."""
    with uow:
        return uow.organisations.by_certificate(format(serial, "x"))


def get_organisation(uow: UnitOfWork, tenant_id: str, org_id: str) -> Organisation:
    """A tenant's own organisation; another tenant's id is 'not found'."""
    with uow:
        return _own(uow, tenant_id, org_id)


def _when(at: datetime) -> str:
    return at.isoformat(timespec="seconds")


def _refuse_if_revoked(org: Organisation) -> None:
    if org.revoked_at is not None:
        raise OrganisationRevoked(org.id, _when(org.revoked_at), org.revocation_reason or "unspecified")


def renew_certificate(
    uow: UnitOfWork, svc: OrganisationServices, tenant_id: str, org_id: str, by: str
) -> Organisation:
    """A new key and certificate for the organisation, its current one from now on; the one it replaces
    is kept, superseded. A revoked organisation is never renewed (409 ``organisation_revoked``)."""
    with uow:
        org = _own(uow, tenant_id, org_id, lock="update")
        _refuse_if_revoked(org)
        now = svc.clock.now()
        cert = svc.keys.renew(org.id, org.name, org.credit_code, now)
        uow.organisations.renew(org.id, _entry(cert, now, by), now)
        uow.commit()
    renewed = get_organisation(uow, tenant_id, org_id)
    audit.info(
        "organisation certificate renewed: %s (tenant %s), serial %s, superseding %s, by %s",
        renewed.id,
        renewed.tenant_id,
        renewed.certificate_serial,
        org.certificate_serial,
        by,
        extra={"organisation_id": org.id, "tenant_id": org.tenant_id, "serial": renewed.certificate_serial},
    )
    return renewed


@dataclass(frozen=True)
class Revocation:
    reason: str  # a ``domain.organisations.RevocationReason``
    comment: str | None = None


def revoke_organisation(
    uow: UnitOfWork, svc: OrganisationServices, tenant_id: str, org_id: str, req: Revocation, by: str
) -> Organisation:
    """Revoke the organisation for good: its certificates still in their term go on the issuing CA's
    revocation list (published at once) with the time and reason, and the time, reason, comment and who
    revoked it are kept. Revoking it again is 409 ``organisation_revoked`` (the first revocation stands)."""
    problems = revocation_problems(req.reason, req.comment)
    if problems:
        raise InvalidInput([FieldProblem(f, r) for f, r in problems])
    comment = req.comment.strip() if req.comment else None
    with uow:
        org = _own(uow, tenant_id, org_id, lock="update")
        _refuse_if_revoked(org)
        now = svc.clock.now()
        uow.organisations.revoke(org.id, now, req.reason, comment, by)
        svc.keys.revoke(to_revoke(_terms(org), now), now, req.reason)  # then commit: listed, never lost
        uow.commit()
    audit.warning(
        "organisation revoked: %s (tenant %s), reason %s, certificates %s, by %s",
        org.id,
        org.tenant_id,
        req.reason,
        ", ".join(x.serial for x in org.certificates),
        by,
        extra={"organisation_id": org.id, "tenant_id": org.tenant_id, "reason": req.reason},
    )
    return get_organisation(uow, tenant_id, org_id)


def _term(c: OrganisationCertificateEntry) -> CertificateTerm:
    return CertificateTerm(c.serial, c.not_before, c.not_after, c.superseded_at)


def _terms(org: Organisation) -> list[CertificateTerm]:
    return [_term(c) for c in org.certificates]


def certificate_status(org: Organisation, at: datetime) -> dict[str, CertificateStatus]:
    """Each of the organisation's certificates (hex serial) → its status at ``at``."""
    return {t.serial: t.status(at, org.revoked_at) for t in _terms(org)}


def _block(org: Organisation, at: datetime) -> tuple[SealBlock, str] | None:
    """Why the organisation cannot seal at ``at``, in words that name it (None: it can)."""
    who = f"organisation {org.id} ({org.name})"
    current = org.certificate
    block = seal_block(org.revoked_at, _term(current) if current is not None else None, at)
    if block is None:
        return None
    if org.revoked_at is not None:
        reason = org.revocation_reason or "unspecified"
        return (
            block,
            f"{who} was revoked at {_when(org.revoked_at)} ({reason}): its seal can no longer be applied",
        )
    renew = f"renew it (POST /v1/organisations/{org.id}/certificate)"
    if current is None:  # every certificate is on record since migration 0008
        return block, f"{who} has no certificate on record: {renew}"
    cert = f"the certificate of {who} (serial {current.serial})"
    if block is SealBlock.EXPIRED:
        return block, f"{cert} expired at {_when(current.not_after)}: {renew}"
    return block, f"{cert} is valid only from {_when(current.not_before)}"


@dataclass(frozen=True)
class SealStanding:
    """What a signing about to apply the organisation's seal must know: the certificate it seals with,
    or why it may not seal (a final block is recorded as the session's failure)."""

    certificate_serial: str
    block: SealBlock | None = None
    reason: str = ""


def seal_standing(
    uow: UnitOfWork, org_id: str, at: datetime, *, lock: Literal["share"] | None = "share"
) -> SealStanding:
    """Read the organisation a signing seals for, inside the signing's unit of work, under a shared lock:
    signings run side by side, a renewal or revocation waits until they are committed (and they for it).
    An organisation that is gone counts as revoked. ``lock=None``: a look without a lock (a signer's
    step before the signing, which only ends a session whose organisation is revoked for good)."""
    org = uow.organisations.get(org_id, lock=lock)
    if org is None:
        return SealStanding("", SealBlock.REVOKED, f"organisation {org_id} is not registered any more")
    found = _block(org, at)
    if found is None:
        return SealStanding(org.certificate_serial)
    return SealStanding(org.certificate_serial, found[0], found[1])


def refuse_unless_final(org_id: str, standing: SealStanding) -> None:
    """A block the integrator can lift (a renewal) is refused as a 409, recording nothing."""
    if standing.block is not None and not standing.block.final:
        raise OrganisationCertificateInvalid(org_id, standing.block.value, standing.reason)


def list_organisations(uow: UnitOfWork, tenant_id: str) -> list[Organisation]:
    with uow:
        return list(uow.organisations.list_for(tenant_id))


def seal_authority(
    uow: UnitOfWork,
    tenant_id: str,
    template: Template,
    organisation: str | None,
    role: str | None,
    authorisation_ref: str | None,
    authorisation_sha256: str | None,
    now: datetime,
) -> tuple[OrganisationItem | None, list[FieldProblem]]:
    """The organisation a new session names and the signer's authority to apply its seal, as the
    ``session_created`` event records them; or the problems, each naming its field. A template with a
    required organisation seal spot needs one; a template with no such spot takes none; a revoked
    organisation, or one whose certificate is out of its term at ``now``, is refused."""
    problems: list[FieldProblem] = []
    if organisation is None:
        if template.needs_organisation:
            problems.append(
                FieldProblem(
                    "organisation",
                    f"template {template.key!r} has an organisation seal spot (seal: organisation): name "
                    "the organisation (POST /v1/organisations) whose seal the signer applies",
                )
            )
        elif role or authorisation_ref or authorisation_sha256:
            problems.append(
                FieldProblem("organisation", "a seal role or authorisation needs an organisation")
            )
        return None, problems
    if not template.takes_organisation:
        return None, [
            FieldProblem("organisation", f"template {template.key!r} has no organisation seal spot to apply")
        ]
    with uow:
        org = uow.organisations.get(organisation)
    if org is None or org.tenant_id != tenant_id:
        problems.append(FieldProblem("organisation", f"no organisation {organisation!r} of this tenant"))
    else:
        blocked = _block(org, now)
        if blocked is not None:
            problems.append(FieldProblem("organisation", blocked[1]))
    parsed = seal_role(role or "")
    if parsed is None:
        problems.append(FieldProblem("seal_role", f"must be one of {', '.join(ROLE_CHOICES)}"))
    else:
        ref = (authorisation_ref or "").strip() or None
        claim = SealAuthority(parsed, ref, authorisation_sha256)
        problems += [FieldProblem(f, r) for f, r in claim.problems()]
    if problems or org is None or parsed is None:
        return None, problems
    return {
        "id": org.id,
        "name": org.name,
        "credit_code": org.credit_code,
        "certificate_serial": org.certificate_serial,
        "certificate_subject": org.certificate_subject,
        "seal_sha256": org.seal_sha256,
        "seal_role": parsed.value,
        "authorisation_ref": claim.document_ref or None,
        "authorisation_sha256": authorisation_sha256,
    }, []


ROLE_VARIABLE = "signer_role"  # a template variable that states the signer's capacity (the bidding one)


def role_agreement(values: Mapping[str, str], organisation: OrganisationItem) -> list[FieldProblem]:
    """The signer's capacity stated twice must agree: a template variable ``signer_role`` that names a
    seal role (法定代表人 / 委托代理人 …) and the session's ``seal_role``."""
    stated = seal_role(str(values.get(ROLE_VARIABLE, "")))
    if stated is None or stated.value == organisation["seal_role"]:
        return []
    return [
        FieldProblem(
            "seal_role",
            f"says {organisation['seal_role']}, but the variable {ROLE_VARIABLE} says "
            f"{values[ROLE_VARIABLE]} ({stated.value}); the signer acts in one capacity",
        )
    ]
