"""What agents did with customers' data and the telephone (popup_server.audit): file reads,
searches, click-to-call and transfers, refused ones included.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agent", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=32), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("refusal", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_records")),
    )
    op.create_index("ix_audit_records_agent_action_at", "audit_records", ["agent", "action", "at"])
    op.create_index(op.f("ix_audit_records_customer_id"), "audit_records", ["customer_id"])


def downgrade() -> None:
    op.drop_table("audit_records")
