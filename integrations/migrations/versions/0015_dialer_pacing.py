"""The dialer's trunk limits: trunks with their channel and calls-per-second caps, and the
channels in flight (slots) every worker admits its calls through.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dialer_trunks",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("max_channels", sa.Integer(), nullable=False),
        sa.Column("calls_per_second", sa.Float(), nullable=False),
    )
    op.create_table(
        "dialer_channel_slots",
        sa.Column("channel_id", sa.String(length=64), primary_key=True),
        sa.Column(
            "trunk",
            sa.String(length=64),
            sa.ForeignKey("dialer_trunks.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("admitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_dialer_channel_slots_trunk_admitted_at",
        "dialer_channel_slots",
        ["trunk", "admitted_at"],
    )
    op.create_index(
        "ix_dialer_channel_slots_campaign_id_released_at",
        "dialer_channel_slots",
        ["campaign_id", "released_at"],
    )


def downgrade() -> None:
    op.drop_table("dialer_channel_slots")
    op.drop_table("dialer_trunks")
