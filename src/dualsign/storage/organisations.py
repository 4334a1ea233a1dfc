"""The organisations repository (``application.ports.OrganisationRepository``). It never commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dualsign.application.records import Organisation
from dualsign.storage.repositories import utc
from dualsign.storage.tables import OrganisationRow


def _org(row: OrganisationRow) -> Organisation:
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
    )


class SqlOrganisations:
    def __init__(self, db: Session) -> None:
        self.db = db

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
            )
        )
        self.db.flush()

    def get(self, org_id: str) -> Organisation | None:
        row = self.db.get(OrganisationRow, org_id)
        return _org(row) if row else None

    def by_code(self, tenant_id: str, credit_code: str) -> Organisation | None:
        row = self.db.scalar(
            select(OrganisationRow).where(
                OrganisationRow.tenant_id == tenant_id, OrganisationRow.credit_code == credit_code
            )
        )
        return _org(row) if row else None

    def list_for(self, tenant_id: str) -> Sequence[Organisation]:
        rows = self.db.scalars(
            select(OrganisationRow)
            .where(OrganisationRow.tenant_id == tenant_id)
            .order_by(OrganisationRow.created_at, OrganisationRow.id)
        )
        return [_org(r) for r in rows]
