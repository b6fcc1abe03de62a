"""Cases: one row per case with its next deadline (indexed for the SLA scan), the timeline of
every step and clock event, and tasks with their control dates.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = sa.text("next_due_at IS NOT NULL")
UNFINISHED = sa.text("done_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tracking_number", sa.String(length=16), nullable=False, unique=True),
        sa.Column("type", sa.String(length=48), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("team", sa.String(length=48), nullable=False),
        sa.Column("owner", sa.String(length=32), nullable=True),
        sa.Column("partner", sa.String(length=48), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("national_id", sa.String(length=10), nullable=True),
        sa.Column("company_id", sa.String(length=11), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("line", sa.String(length=32), nullable=True),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("sla_name", sa.String(length=48), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_due_clock", sa.String(length=16), nullable=True),
        sa.Column("escalation_step", sa.Integer(), nullable=False),
        sa.Column("breached", sa.String(length=32), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=True),
        sa.Column("nps", sa.Integer(), nullable=True),
    )
    op.create_index(
        "ix_cases_next_due_at",
        "cases",
        ["next_due_at"],
        postgresql_where=DUE,
        sqlite_where=DUE,
    )
    op.create_index("ix_cases_team_state", "cases", ["team", "state"])
    op.create_index("ix_cases_owner_state", "cases", ["owner", "state"])
    for column in ("partner", "customer_id", "national_id", "company_id", "phone"):
        op.create_index(f"ix_cases_{column}", "cases", [column])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attachment", sa.String(length=512), nullable=True),
    )
    op.create_index("ix_case_events_case_id_id", "case_events", ["case_id", "id"])
    op.create_table(
        "case_tasks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id", sa.Integer(), sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("team", sa.String(length=48), nullable=False),
        sa.Column("assignee", sa.String(length=32), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("control_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=32), nullable=True),
    )
    op.create_index(
        "ix_case_tasks_team_unfinished",
        "case_tasks",
        ["team", "control_at"],
        postgresql_where=UNFINISHED,
        sqlite_where=UNFINISHED,
    )
    op.create_index("ix_case_tasks_case_id", "case_tasks", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_tasks")
    op.drop_table("case_events")
    op.drop_table("cases")
