"""The cases' tables. One writer each: cases and their timeline `cases/store.py`, tasks
`cases/tasks.py`.

The case row carries its next deadline (`next_due_at`), recomputed from the timeline whenever
an event moves a clock; the SLA scan reads only that indexed column, never the timelines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime

DUE = text("next_due_at IS NOT NULL")
UNFINISHED = text("done_at IS NULL")


class CaseRow(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # The SLA scan: running clocks only (paused and closed cases have no next deadline).
        Index("ix_cases_next_due_at", "next_due_at", postgresql_where=DUE, sqlite_where=DUE),
        Index("ix_cases_team_state", "team", "state"),
        Index("ix_cases_owner_state", "owner", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the customer keys or texts back: 9 digits, the last a check digit.
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    type: Mapped[str] = mapped_column(String(48))
    state: Mapped[str] = mapped_column(String(32))
    # open until a resolving state, then resolved; closed once the workflow closes it.
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    channel: Mapped[str] = mapped_column(String(16))
    team: Mapped[str] = mapped_column(String(48))
    owner: Mapped[str | None] = mapped_column(String(32))
    partner: Mapped[str | None] = mapped_column(String(48), index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    national_id: Mapped[str | None] = mapped_column(String(10), index=True)
    company_id: Mapped[str | None] = mapped_column(String(11), index=True)
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str | None] = mapped_column(String(2))
    line: Mapped[str | None] = mapped_column(String(32))
    region: Mapped[str | None] = mapped_column(String(32))
    tier: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sla_name: Mapped[str | None] = mapped_column(String(48))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_response_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The earliest running deadline and which clock it is (first_response, resolution).
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_due_clock: Mapped[str | None] = mapped_column(String(16))
    # How many escalation steps have fired for the current next_due_at (reset when it moves).
    escalation_step: Mapped[int] = mapped_column(Integer, default=0)
    breached: Mapped[str] = mapped_column(String(32), default="")
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    nps: Mapped[int | None] = mapped_column(Integer)


class CaseEventRow(Base):
    """The timeline: every step, note, call, message and clock event, in order of `id`."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case_id_id", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(24))
    # agent:101, system, partner:acme, customer
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A recording, fax or photo is kept where it is; the timeline holds its reference.
    attachment: Mapped[str | None] = mapped_column(String(512))


class CaseTaskRow(Base):
    __tablename__ = "case_tasks"
    __table_args__ = (
        Index(
            "ix_case_tasks_team_unfinished",
            "team",
            "control_at",
            postgresql_where=UNFINISHED,
            sqlite_where=UNFINISHED,
        ),
        Index("ix_case_tasks_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    team: Mapped[str] = mapped_column(String(48))
    assignee: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(Text)
    # The control date: when someone must look at it again.
    control_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # low, normal, high, urgent (the case priorities)
    urgency: Mapped[str] = mapped_column(String(16), default="normal")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    done_by: Mapped[str | None] = mapped_column(String(32))
