"""The organisations repository (``application.ports.OrganisationRepository``): organisations and every
certificate issued to them. It never commits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dualsign.application.records import Organisation, OrganisationCertificateEntry
from dualsign.storage.repositories import utc
from dualsign.storage.tables import OrganisationCertificateRow, OrganisationRow


def _maybe(at: datetime | None) -> datetime | None:
    return utc(at) if at is not None else None


def _cert(row: OrganisationCertificateRow) -> OrganisationCertificateEntry:
    return OrganisationCertificateEntry(
        serial=row.serial,
        subject=row.subject,
        pem=row.pem,
        sha256=row.sha256,
        not_before=utc(row.not_before),
        not_after=utc(row.not_after),
        issued_at=utc(row.issued_at),
        issued_by=row.issued_by,
        superseded_at=_maybe(row.superseded_at),
    )


def _org(row: OrganisationRow, certs: Sequence[OrganisationCertificateEntry]) -> Organisation:
    return Organisation(
        id=row.id,
        tenant_id=row.tenant_id,
        name=row.name,
        credit_code=row.credit_code,
        seal_text=row.seal_text,
        certificate_serial=row.certificate_serial,
        certificate_subject=row.certificate_subject,
        certificate_pem=row.certificate_pem,
        seal_sha256=row.seal_sha256,
        created_at=utc(row.created_at),
        certificates=tuple(certs),
        revoked_at=_maybe(row.revoked_at),
        revocation_reason=row.revocation_reason,
        revocation_comment=row.revocation_comment,
        revoked_by=row.revoked_by,
    )


def _cert_row(org_id: str, c: OrganisationCertificateEntry) -> OrganisationCertificateRow:
    return OrganisationCertificateRow(
        organisation_id=org_id,
        serial=c.serial,
        subject=c.subject,
        pem=c.pem,
        sha256=c.sha256,
        not_before=c.not_before,
        not_after=c.not_after,
        issued_at=c.issued_at,
        issued_by=c.issued_by,
        superseded_at=c.superseded_at,
    )


class SqlOrganisations:
    def __init__(self, db: Session) -> None:
        self.db = db

    def _certs(self, org_ids: Sequence[str]) -> dict[str, list[OrganisationCertificateEntry]]:
        out: dict[str, list[OrganisationCertificateEntry]] = {i: [] for i in org_ids}
        if not org_ids:
            return out
        rows = self.db.scalars(
            select(OrganisationCertificateRow)
            .where(OrganisationCertificateRow.organisation_id.in_(org_ids))
            .order_by(OrganisationCertificateRow.issued_at, OrganisationCertificateRow.serial)
        )
        for r in rows:
            out[r.organisation_id].append(_cert(r))
        return out

    def _orgs(self, rows: Sequence[OrganisationRow]) -> list[Organisation]:
        certs = self._certs([r.id for r in rows])
        return [_org(r, certs[r.id]) for r in rows]

    def add(self, org: Organisation) -> None:
        self.db.add(
            OrganisationRow(
                id=org.id,
                tenant_id=org.tenant_id,
                name=org.name,
                credit_code=org.credit_code,
                seal_text=org.seal_text,
                certificate_serial=org.certificate_serial,
                certificate_subject=org.certificate_subject,
                certificate_pem=org.certificate_pem,
                seal_sha256=org.seal_sha256,
                created_at=org.created_at,
                revoked_at=org.revoked_at,
                revocation_reason=org.revocation_reason,
                revocation_comment=org.revocation_comment,
                revoked_by=org.revoked_by,
            )
        )
        self.db.flush()
        for c in org.certificates:
            self.db.add(_cert_row(org.id, c))
        self.db.flush()

    def get(self, org_id: str, *, lock: Literal["share", "update"] | None = None) -> Organisation | None:
        # SQLite has no row locks (and ignores these): its writers are serialised by the database
        locking = {"read": lock == "share"} if lock else None
        row = self.db.get(OrganisationRow, org_id, with_for_update=locking)
        return self._orgs([row])[0] if row else None

    def by_code(self, tenant_id: str, credit_code: str) -> Organisation | None:
        """The tenant's organisation with this code that is not revoked (a revoked one may be registered
        again)."""
        row = self.db.scalar(
            select(OrganisationRow).where(
                OrganisationRow.tenant_id == tenant_id,
                OrganisationRow.credit_code == credit_code,
                OrganisationRow.revoked_at.is_(None),
            )
        )
        return self._orgs([row])[0] if row else None

    def by_certificate(self, serial: str) -> Organisation | None:
        org_id = self.db.scalar(
            select(OrganisationCertificateRow.organisation_id).where(
                OrganisationCertificateRow.serial == serial
            )
        )
        return self.get(org_id) if org_id is not None else None

    def list_for(self, tenant_id: str) -> Sequence[Organisation]:
        rows = self.db.scalars(
            select(OrganisationRow)
            .where(OrganisationRow.tenant_id == tenant_id)
            .order_by(OrganisationRow.created_at, OrganisationRow.id)
        )
        return self._orgs(list(rows))

    def renew(self, org_id: str, cert: OrganisationCertificateEntry, at: datetime) -> None:
        self.db.execute(
            update(OrganisationCertificateRow)
            .where(
                OrganisationCertificateRow.organisation_id == org_id,
                OrganisationCertificateRow.superseded_at.is_(None),
            )
            .values(superseded_at=at)
        )
        self.db.add(_cert_row(org_id, cert))
        self.db.execute(
            update(OrganisationRow)
            .where(OrganisationRow.id == org_id)
            .values(
                certificate_serial=cert.serial,
                certificate_subject=cert.subject,
                certificate_pem=cert.pem,
            )
        )
        self.db.flush()

    def revoke(self, org_id: str, at: datetime, reason: str, comment: str | None, by: str) -> None:
        self.db.execute(
            update(OrganisationRow)
            .where(OrganisationRow.id == org_id)
            .values(revoked_at=at, revocation_reason=reason, revocation_comment=comment, revoked_by=by)
        )
        self.db.flush()
