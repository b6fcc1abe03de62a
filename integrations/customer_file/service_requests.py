"""What callers asked the insurer to do before requests were cases: complaints, and callback
tasks. Read-only since migration 0023, which moved every row into a case (`cases.caller_requests`
keeps their numbers); nothing writes these tables, and a later revision drops them.

Both carry a tracking number the caller hears and can key in later. They are Tamas's own
records, so they refer to customers and policies by plain values, not foreign keys: with an
insurer's own adapter the customers live in its core system, not in our tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, func, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime

COMPLAINT_CATEGORIES = ("claim", "service", "agent_conduct", "billing", "other")
COMPLAINT_STATUSES = ("received", "in_review", "resolved", "rejected")
CALLBACK_KINDS = ("renewal", "callback", "quote", "claim_followup", "cancellation")
CALLBACK_STATUSES = ("open", "assigned", "done", "cancelled")
OPEN_COMPLAINT_STATUSES = ("received", "in_review")
OPEN_CALLBACK_STATUSES = ("open", "assigned")


class Complaint(Base):
    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    caller_number: Mapped[str | None] = mapped_column(String(16))  # E.164
    category: Mapped[str] = mapped_column(String(16), default="other")
    status: Mapped[str] = mapped_column(String(16), default="received")
    # The caller's voice message, relative to the recordings directory.
    recording_path: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    resolution: Mapped[str | None] = mapped_column(Text)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime, server_default=func.now(), onupdate=func.now()
    )


class CallbackTask(Base):
    __tablename__ = "callback_tasks"
    # One open request of a kind per number, whatever the channel it came by: a caller who
    # presses 9 twenty times (type-ahead) or asks again tomorrow is told the same tracking
    # number, and the agents' list holds one task. Partial, so closed tasks do not count.
    __table_args__ = (
        Index(
            "uq_callback_tasks_open_phone_kind",
            "phone",
            "kind",
            unique=True,
            sqlite_where=text("status IN ('open', 'assigned')"),
            postgresql_where=text("status IN ('open', 'assigned')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="callback")
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    phone: Mapped[str] = mapped_column(String(16))  # E.164, where to call back
    # As the caller keyed it; the expert checks it against the core system.
    policy_number: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    assigned_agent: Mapped[str | None] = mapped_column(String(32), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())
