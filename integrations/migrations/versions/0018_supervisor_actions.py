"""The supervisors' alerts: when each alert condition (queue and kind) was last sent to the
supervisor on duty, so it is sent at most once per interval across processes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervisor_alert_firings",
        sa.Column("condition", sa.String(length=128), primary_key=True),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("supervisor_alert_firings")
