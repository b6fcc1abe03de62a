"""The outbox's cap indexes hold only the rows the caps count (not `refused`): a recipient
who was refused many times (an abuser calling again and again) no longer makes every later
request read all those rows under the kind's lock.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = sa.text("status <> 'refused'")
INDEXES = {
    "ix_outbound_messages_to_created_at": ["to", "created_at"],
    "ix_outbound_messages_kind_created_at": ["kind", "created_at"],
}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="outbound_messages")
        op.create_index(
            name, "outbound_messages", columns, postgresql_where=COUNTED, sqlite_where=COUNTED
        )


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name="outbound_messages")
        op.create_index(name, "outbound_messages", columns)
