"""The dialer's calls through Asterisk: what each answered attempt's call said and did, kept on
the attempt while the call runs, so a worker restarted after a crash settles it truthfully.

- `campaign_attempts.result`: the outcome the campaign call's AGI route reached (the person
  pressed 9, asked for a callback, heard the message...), written during the call.
- `campaign_attempts.amd_status`: what Asterisk's AMD() said (HUMAN, MACHINE, NOTSURE).

Plain ADD COLUMN (nullable) on both databases: a batch rebuild on SQLite would have to recreate
the table's partial unique index of calls in flight.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaign_attempts", sa.Column("result", sa.String(length=32), nullable=True))
    op.add_column("campaign_attempts", sa.Column("amd_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign_attempts", "amd_status")
    op.drop_column("campaign_attempts", "result")
