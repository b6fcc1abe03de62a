"""The dialer's operators' side: the SMS sent, once, to each campaign target the calls never
reached (`campaign_sms_fallbacks`, written by dialer/fallback.py before the message is queued).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_sms_fallbacks",
        sa.Column(
            "target_id",
            sa.Integer(),
            sa.ForeignKey("campaign_targets.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("refusal", sa.String(length=32), nullable=True),
    )
    op.create_index(
        "ix_campaign_sms_fallbacks_campaign_id", "campaign_sms_fallbacks", ["campaign_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_sms_fallbacks_campaign_id", table_name="campaign_sms_fallbacks")
    op.drop_table("campaign_sms_fallbacks")
