"""The supervisors' event store: queue events (each once, by its idempotent key), one row per
queue call derived from them, the calls' sums per quarter hour and queue, and where each
ingestion source stopped reading.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "supervisor_queue_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("callid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
    )
    op.create_index("ix_supervisor_queue_events_callid", "supervisor_queue_events", ["callid"])
    op.create_index("ix_supervisor_queue_events_at", "supervisor_queue_events", ["at"])
    op.create_index(
        "ix_supervisor_queue_events_event_at", "supervisor_queue_events", ["event", "at"]
    )
    op.create_table(
        "supervisor_queue_calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("callid", sa.String(length=64), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("caller_number", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=False),
        sa.Column("talk_s", sa.Float(), nullable=False),
        sa.Column("agent", sa.String(length=128), nullable=False),
        sa.Column("transfer", sa.String(length=16), nullable=True),
        sa.UniqueConstraint(
            "callid", "queue", "entered_at", name="uq_supervisor_queue_calls_callid_queue_entered"
        ),
    )
    op.create_index(
        "ix_supervisor_queue_calls_quarter_queue", "supervisor_queue_calls", ["quarter", "queue"]
    )
    op.create_index(
        "ix_supervisor_queue_calls_entered_at", "supervisor_queue_calls", ["entered_at"]
    )
    op.create_index(
        "ix_supervisor_queue_calls_outcome_entered_at",
        "supervisor_queue_calls",
        ["outcome", "entered_at"],
    )
    op.create_table(
        "supervisor_queue_quarters",
        sa.Column("queue", sa.String(length=64), primary_key=True),
        sa.Column("quarter", sa.Integer(), primary_key=True),
        sa.Column("thresholds", sa.String(length=255), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "offered",
                "answered",
                "answered_within_sl",
                "abandoned",
                "short_abandoned",
                "exit_timeout",
                "exit_key",
                "exit_empty",
                "lost",
                "waiting",
                "transfers_blind",
                "transfers_attended",
            )
        ),
        *(
            sa.Column(name, sa.Float(), nullable=False)
            for name in ("wait_answered_s", "wait_abandoned_s", "talk_s", "longest_wait_s")
        ),
    )
    op.create_table(
        "supervisor_ingest_positions",
        sa.Column("source", sa.String(length=255), primary_key=True),
        sa.Column("inode", sa.BigInteger(), nullable=False),
        sa.Column("head", sa.String(length=64), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("last_line", sa.Text(), nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Written by Asterisk itself (cel_pgsql, cdr_pgsql), read by the ingester.
    text = {name: sa.String(length=80) for name in ("clid", "src", "dst", "dcontext")}
    op.create_table(
        "asterisk_cel",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("eventtype", sa.String(length=30), nullable=False),
        sa.Column("eventtime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("userdeftype", sa.String(length=255), nullable=True),
        *(
            sa.Column(name, sa.String(length=80), nullable=True)
            for name in (
                "cid_name",
                "cid_num",
                "cid_ani",
                "cid_rdnis",
                "cid_dnid",
                "exten",
                "context",
                "channame",
                "appname",
            )
        ),
        sa.Column("appdata", sa.String(length=512), nullable=True),
        sa.Column("amaflags", sa.Integer(), nullable=True),
        sa.Column("accountcode", sa.String(length=32), nullable=True),
        sa.Column("peeraccount", sa.String(length=32), nullable=True),
        sa.Column("uniqueid", sa.String(length=150), nullable=True),
        sa.Column("linkedid", sa.String(length=150), nullable=True),
        sa.Column("userfield", sa.String(length=255), nullable=True),
        sa.Column("peer", sa.String(length=80), nullable=True),
        sa.Column("extra", sa.Text(), nullable=True),
    )
    op.create_index("ix_asterisk_cel_linkedid", "asterisk_cel", ["linkedid"])
    op.create_table(
        "asterisk_cdr",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("calldate", sa.DateTime(timezone=True), nullable=False),
        *(sa.Column(name, kind, nullable=True) for name, kind in text.items()),
        sa.Column("channel", sa.String(length=80), nullable=True),
        sa.Column("dstchannel", sa.String(length=80), nullable=True),
        sa.Column("lastapp", sa.String(length=80), nullable=True),
        sa.Column("lastdata", sa.String(length=512), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column("billsec", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(length=45), nullable=True),
        sa.Column("amaflags", sa.Integer(), nullable=True),
        sa.Column("accountcode", sa.String(length=32), nullable=True),
        sa.Column("uniqueid", sa.String(length=150), nullable=True),
        sa.Column("linkedid", sa.String(length=150), nullable=True),
        sa.Column("userfield", sa.String(length=255), nullable=True),
        sa.Column("peeraccount", sa.String(length=32), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
    )
    op.create_index("ix_asterisk_cdr_linkedid", "asterisk_cdr", ["linkedid"])


def downgrade() -> None:
    op.drop_table("asterisk_cdr")
    op.drop_table("asterisk_cel")
    op.drop_table("supervisor_ingest_positions")
    op.drop_table("supervisor_queue_quarters")
    op.drop_table("supervisor_queue_calls")
    op.drop_table("supervisor_queue_events")
