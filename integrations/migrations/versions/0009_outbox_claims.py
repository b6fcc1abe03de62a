"""The outbox's senders claim rows before sending (status `sending`, by whom and when), and a
send whose result is unknown (a timeout, an answer without the provider's id) is `uncertain`
until the provider's status query settles it; the provider's id is kept. Status grows to 16
characters for the new names.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as table:
        table.alter_column("status", existing_type=sa.String(length=8), type_=sa.String(length=16))
        table.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        table.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("provider_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as table:
        table.drop_column("provider_id")
        table.drop_column("claimed_at")
        table.drop_column("claimed_by")
        table.alter_column("status", existing_type=sa.String(length=16), type_=sa.String(length=8))
