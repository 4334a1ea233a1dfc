"""job leases that a running worker renews, and that only their holder can end

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:00:00

``jobs.lease_id`` names the claim a worker holds. The worker renews ``locked_until`` while its handler
runs, and marks the job done, queued again or dead only while the lease is still its own: a worker that
lost its lease (stalled past it, and another worker took the job) changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_id", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lease_id")
