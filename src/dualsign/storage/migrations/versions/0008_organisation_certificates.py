"""organisation certificates (#6): renewal keeps every certificate; revocation (when, why, by whom)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 22:00:00

Each organisation registered before this revision gets its one certificate recorded (term and
fingerprint read from its PEM, issued when the organisation was registered). A credit code is unique
per tenant among the organisations that are not revoked (a revoked one may be registered again).

Downgrading drops the history and the revocations (a revoked organisation would seal again): it fails
when a tenant has registered a credit code again after revoking it.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op
from cryptography import x509
from cryptography.hazmat.primitives import serialization

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    certificates = op.create_table(
        "organisation_certificates",
        sa.Column("organisation_id", sa.String(length=40), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("not_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "serial"),
    )
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("revocation_reason", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("revocation_comment", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("revoked_by", sa.String(length=80), nullable=True))
        batch.drop_constraint("uq_organisation_code", type_="unique")
    op.create_index(
        "uq_organisation_code_active",
        "organisations",
        ["tenant_id", "credit_code"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    query = sa.text(
        "SELECT id, certificate_serial, certificate_subject, certificate_pem, created_at FROM organisations"
    ).columns(created_at=sa.DateTime(timezone=True))  # typed: SQLite hands back text otherwise
    rows = op.get_bind().execute(query)
    history = []
    for org_id, serial, subject, pem, created_at in rows:
        cert = x509.load_pem_x509_certificate(pem.encode())
        history.append(
            {
                "organisation_id": org_id,
                "serial": serial,
                "subject": subject,
                "pem": pem,
                "sha256": hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest(),
                "not_before": cert.not_valid_before_utc,
                "not_after": cert.not_valid_after_utc,
                "issued_at": created_at,
                "issued_by": None,
                "superseded_at": None,
            }
        )
    if history:
        op.bulk_insert(certificates, history)


def downgrade() -> None:
    op.drop_index("uq_organisation_code_active", table_name="organisations")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("revoked_by")
        batch.drop_column("revocation_comment")
        batch.drop_column("revocation_reason")
        batch.drop_column("revoked_at")
        batch.create_unique_constraint("uq_organisation_code", ["tenant_id", "credit_code"])
    op.drop_table("organisation_certificates")
