"""Outbound campaigns: campaigns, their targets, every attempt (written before its Originate)
and the do-not-call list every campaign honours.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IN_FLIGHT = sa.text("ended_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=64), nullable=False, unique=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("abandon_target", sa.Float(), nullable=False),
        sa.Column("abandon_window_s", sa.Integer(), nullable=False),
    )
    op.create_table(
        "campaign_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("campaign_id", "phone", name="uq_campaign_targets_campaign_phone"),
    )
    op.create_index("ix_campaign_targets_phone", "campaign_targets", ["phone"])
    op.create_index(
        "ix_campaign_targets_due", "campaign_targets", ["campaign_id", "state", "next_try_at"]
    )
    op.create_table(
        "campaign_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "target_id",
            sa.Integer(),
            sa.ForeignKey("campaign_targets.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("channel_id", sa.String(length=64), nullable=False, unique=True),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("worker", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
    )
    op.create_index(
        "uq_campaign_attempts_phone_in_flight",
        "campaign_attempts",
        ["phone"],
        unique=True,
        postgresql_where=IN_FLIGHT,
        sqlite_where=IN_FLIGHT,
    )
    op.create_index(
        "ix_campaign_attempts_phone_ended_at", "campaign_attempts", ["phone", "ended_at"]
    )
    op.create_index(
        "ix_campaign_attempts_campaign_ended_at", "campaign_attempts", ["campaign_id", "ended_at"]
    )
    op.create_table(
        "do_not_call",
        sa.Column("phone", sa.String(length=32), primary_key=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=128), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("do_not_call")
    op.drop_table("campaign_attempts")
    op.drop_table("campaign_targets")
    op.drop_table("campaigns")
