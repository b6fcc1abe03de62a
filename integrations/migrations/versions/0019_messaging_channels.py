"""SMS channels: the outbox row keeps which provider took the message, in how many parts, and
the delivery report matched to it (status, when, the provider's error code); reports are
matched by (provider, provider_id). Texts customers send in land in `inbound_messages`, once
each (a provider's id is unique per provider, so a report or an inbox read twice is one row).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as table:
        table.add_column(sa.Column("provider", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("parts", sa.Integer(), nullable=True))
        table.add_column(sa.Column("delivery_status", sa.String(length=16), nullable=True))
        table.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        table.add_column(sa.Column("delivery_error", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_outbound_messages_provider_provider_id",
        "outbound_messages",
        ["provider", "provider_id"],
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("keyword", sa.String(length=32), nullable=True),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "provider", "provider_message_id", name="uq_inbound_messages_provider_message"
        ),
    )
    op.create_index("ix_inbound_messages_status", "inbound_messages", ["status"])


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_status", table_name="inbound_messages")
    op.drop_table("inbound_messages")
    op.drop_index("ix_outbound_messages_provider_provider_id", table_name="outbound_messages")
    with op.batch_alter_table("outbound_messages") as table:
        table.drop_column("delivery_error")
        table.drop_column("delivered_at")
        table.drop_column("delivery_status")
        table.drop_column("parts")
        table.drop_column("provider")
