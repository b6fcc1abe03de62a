"""One open callback request of a kind per phone number: a partial unique index on
callback_tasks (phone, kind) over open and assigned tasks. Duplicates already there (a caller
who pressed 9 many times) are closed as cancelled, keeping the first, whose tracking number
the caller heard first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('open', 'assigned')"


def upgrade() -> None:
    op.execute(
        "UPDATE callback_tasks SET status = 'cancelled'"
        f" WHERE {OPEN} AND EXISTS (SELECT 1 FROM callback_tasks AS first"
        " WHERE first.phone = callback_tasks.phone AND first.kind = callback_tasks.kind"
        " AND first.status IN ('open', 'assigned') AND first.id < callback_tasks.id)"
    )
    op.create_index(
        "uq_callback_tasks_open_phone_kind",
        "callback_tasks",
        ["phone", "kind"],
        unique=True,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def downgrade() -> None:
    op.drop_index("uq_callback_tasks_open_phone_kind", table_name="callback_tasks")
