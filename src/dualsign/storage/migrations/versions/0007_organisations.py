"""organisations (#19): a tenant's organisations that seal documents, with their certificate and seal

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("seal_text", sa.String(length=40), nullable=True),
        sa.Column("certificate_serial", sa.String(length=64), nullable=False),
        sa.Column("certificate_subject", sa.String(length=500), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("seal_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tenant_id", "credit_code", name="uq_organisation_code"),
    )
    op.create_index("ix_organisations_tenant_id", "organisations", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_organisations_tenant_id", table_name="organisations")
    op.drop_table("organisations")
