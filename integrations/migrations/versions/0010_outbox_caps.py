"""The outbox's caps: why a message was refused (a cap or its destination), and indexes to
count a recipient's and a kind's messages of the last 24 hours.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as table:
        table.add_column(sa.Column("refusal", sa.String(length=32), nullable=True))
    op.create_index("ix_outbound_messages_to_created_at", "outbound_messages", ["to", "created_at"])
    op.create_index(
        "ix_outbound_messages_kind_created_at", "outbound_messages", ["kind", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_messages_kind_created_at", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_to_created_at", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as table:
        table.drop_column("refusal")
