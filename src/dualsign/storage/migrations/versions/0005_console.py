"""the reviewer console: reviewers, and QC verdict and review decision projected on sessions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviewers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("qc_verdict", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review", sa.String(length=16), nullable=True))
        batch.create_index("ix_sessions_qc_verdict", ["qc_verdict"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_qc_verdict")
        batch.drop_column("review")
        batch.drop_column("qc_verdict")
    op.drop_table("reviewers")
