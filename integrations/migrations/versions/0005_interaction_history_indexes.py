"""Interaction history read newest first from an index: an agent's own recent calls on the
desktop, a customer's last calls on the popup.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_interactions_agent_started_at", "interactions", ["agent", "started_at"])
    op.create_index(
        "ix_interactions_customer_id_started_at", "interactions", ["customer_id", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_interactions_customer_id_started_at", table_name="interactions")
    op.drop_index("ix_interactions_agent_started_at", table_name="interactions")
