"""The dialer's tables. Each has one writer: campaigns and their targets `dialer/campaigns.py`,
attempts `dialer/attempts.py`, the do-not-call list `dialer/do_not_call.py`, the SMS sent to
targets the calls never reached `dialer/fallback.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime

THIRTY_DAYS_S = 30 * 24 * 3600


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    # draft, running, paused, stopped, finished
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Abandoned calls / answered calls kept under this, over a rolling window of this length
    # (the US rules' 30 days by default; Ofcom's is 24 h).
    abandon_target: Mapped[float] = mapped_column(Float, default=0.03)
    abandon_window_s: Mapped[int] = mapped_column(Integer, default=THIRTY_DAYS_S)


class TargetRow(Base):
    __tablename__ = "campaign_targets"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone", name="uq_campaign_targets_campaign_phone"),
        # Workers claim the campaign's due targets in id order straight from this index.
        Index("ix_campaign_targets_due", "campaign_id", "state", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str | None] = mapped_column(String(2))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # pending (to call, from next_try_at), dialing (claimed by a worker), done, skipped
    state: Mapped[str] = mapped_column(String(16), default="pending")
    next_try_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


IN_FLIGHT = text("ended_at IS NULL")


class AttemptRow(Base):
    __tablename__ = "campaign_attempts"
    __table_args__ = (
        # One call in flight per person, whatever the campaign: the database refuses a second.
        Index(
            "uq_campaign_attempts_phone_in_flight",
            "phone",
            unique=True,
            postgresql_where=IN_FLIGHT,
            sqlite_where=IN_FLIGHT,
        ),
        Index("ix_campaign_attempts_phone_ended_at", "phone", "ended_at"),
        Index("ix_campaign_attempts_campaign_ended_at", "campaign_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    target_id: Mapped[int] = mapped_column(ForeignKey("campaign_targets.id", ondelete="CASCADE"))
    # The Originate's ChannelId, so every later event (and the interaction's linkedid) matches.
    channel_id: Mapped[str] = mapped_column(String(64), unique=True)
    phone: Mapped[str] = mapped_column(String(32))
    mode: Mapped[str] = mapped_column(String(16))
    worker: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Written during the call (migration 0014): the outcome the campaign call's route reached,
    # and what AMD() heard, so a worker restarted after a crash settles the attempt truthfully.
    result: Mapped[str | None] = mapped_column(String(32))
    amd_status: Mapped[str | None] = mapped_column(String(16))


class DoNotCallRow(Base):
    __tablename__ = "do_not_call"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    # opted_out (key 9 in a call), sms_stop, operator, import
    reason: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source: Mapped[str | None] = mapped_column(String(128))


class SmsFallbackRow(Base):
    """One SMS per target the calls never reached: the row is written before the message is
    queued, so a second run (or a second worker) finds it and sends nothing (migration 0016)."""

    __tablename__ = "campaign_sms_fallbacks"

    target_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_targets.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The outbox's row (sent, pending or refused), once queued.
    message_id: Mapped[int | None] = mapped_column(Integer)
    # Why the outbox refused it (a cap, a destination), or why it was not written.
    refusal: Mapped[str | None] = mapped_column(String(32))
