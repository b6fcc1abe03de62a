"""Indexes on given names, so the agent's search box finds customers by any name's prefix
without scanning the table.

Revision ID: 0004
Revises: popup_agents
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_customers_given_name_fa"), "customers", ["given_name_fa"])
    op.create_index(op.f("ix_customers_given_name_latin"), "customers", ["given_name_latin"])


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_given_name_latin"), table_name="customers")
    op.drop_index(op.f("ix_customers_given_name_fa"), table_name="customers")
