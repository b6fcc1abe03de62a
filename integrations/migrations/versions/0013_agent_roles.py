"""Agents' roles hold every role of popup_server.roles (supervisor, campaign operator, messaging
operator, case handler): the column grows from 64 to 200 characters.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("roles", type_=sa.String(length=200), existing_type=sa.String(length=64))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.alter_column("roles", type_=sa.String(length=64), existing_type=sa.String(length=200))
