"""security (#22): prompt recordings owned by the tenant that uploaded them; revocable console sign-ins

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:40:00

Templates published before this revision keep their prompt recordings: each tenant's template versions
are read and the recordings they name are recorded as that tenant's (nothing stored is lost).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _named_recordings(document: Any) -> set[str]:
    if isinstance(document, str):
        document = json.loads(document)
    questions = document.get("questions") if isinstance(document, dict) else None
    return {str(q["prompt_audio"]) for q in questions or [] if isinstance(q, dict) and q.get("prompt_audio")}


def upgrade() -> None:
    owners = op.create_table(
        "prompt_audio_owners",
        sa.Column("owner", sa.String(length=40), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", "sha256"),
    )
    with op.batch_alter_table("reviewers") as batch:
        batch.add_column(sa.Column("sign_in_generation", sa.Integer(), server_default="0", nullable=False))
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT tenant_id, document FROM template_versions WHERE tenant_id IS NOT NULL")
    )
    found = {(tenant, digest) for tenant, document in rows for digest in _named_recordings(document)}
    now = datetime.now(UTC)
    if found:
        op.bulk_insert(owners, [{"owner": t, "sha256": d, "created_at": now} for t, d in sorted(found)])


def downgrade() -> None:
    with op.batch_alter_table("reviewers") as batch:
        batch.drop_column("sign_in_generation")
    op.drop_table("prompt_audio_owners")
