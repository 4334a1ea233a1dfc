"""A tenant's organisations that seal documents (统一社会信用代码, certificate, seal picture).

Registering one validates everything first (name, credit code with its GB 32100 check character, the
seal's text), refuses a credit code the tenant already registered (409), then issues the organisation's
certificate from the platform's issuing CA (its key kept with the platform's signing keys), draws the
round seal, stores the picture as a blob and the organisation as a row, in one unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dualsign.application.integrator.ports import OrganisationKeys
from dualsign.application.ports import BlobStore, Clock, IdFactory, UnitOfWork
from dualsign.application.records import Organisation
from dualsign.domain.errors import FieldProblem, InvalidInput, NotFound, OrganisationExists
from dualsign.domain.event_payloads import OrganisationItem
from dualsign.domain.organisations import (
    MAX_NAME,
    MAX_SEAL_TEXT,
    ROLE_CHOICES,
    SealAuthority,
    credit_code_problem,
    seal_role,
)
from dualsign.domain.templates import Template

SEAL_ROLE = "organisation_seal"  # a session's artifact: the seal picture the signer applies
AUTHORISATION_ROLE = "seal_authorisation"  # an agent's uploaded authorisation (授权委托书)


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


def register_organisation(
    uow: UnitOfWork, svc: OrganisationServices, tenant_id: str, req: NewOrganisation
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
        )
        uow.organisations.add(org)
        uow.commit()
    return org


def get_organisation(uow: UnitOfWork, tenant_id: str, org_id: str) -> Organisation:
    """A tenant's own organisation; another tenant's id is 'not found'."""
    with uow:
        org = uow.organisations.get(org_id)
    if org is None or org.tenant_id != tenant_id:
        raise NotFound("organisation", org_id)
    return org


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
) -> tuple[OrganisationItem | None, list[FieldProblem]]:
    """The organisation a new session names and the signer's authority to apply its seal, as the
    ``session_created`` event records them; or the problems, each naming its field. A template with a
    required organisation seal spot needs one; a template with no such spot takes none."""
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
