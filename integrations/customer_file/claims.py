"""Claims (loss files) and the history of their stages.

`Claim.stage` is the latest row of the history, kept beside it so the IVR answers "where is
my claim" with one indexed lookup; `advance_claim` changes both together.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from integrations.database import Base, UtcDateTime

# The path a claim takes; "rejected" can follow any stage before "paid".
STAGES = ("registered", "inspection", "assessment", "approved", "paid", "rejected")
# What the claimant should do or wait for next: a code, so the IVR speaks it from recorded
# prompts in each language.
NEXT_STEPS = (
    "book_inspection",
    "submit_documents",
    "await_assessment",
    "await_approval",
    "collect_payment",
    "none",
)


class Claim(Base):
    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the claimant keys on the phone: digits only.
    tracking_code: Mapped[str] = mapped_column(String(20), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line: Mapped[str] = mapped_column(String(32))
    loss_date: Mapped[date] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(16), default="registered")
    stage_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    amount_claimed_rials: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_approved_rials: Mapped[int | None] = mapped_column(BigInteger)
    amount_paid_rials: Mapped[int | None] = mapped_column(BigInteger)
    adjuster_name: Mapped[str | None] = mapped_column(String(100))
    adjuster_deadline: Mapped[date | None] = mapped_column(Date)
    next_step: Mapped[str] = mapped_column(String(32), default="none")
    # Free text for the agent; callers hear the coded next_step.
    next_step_note: Mapped[str | None] = mapped_column(Text)

    history: Mapped[list[ClaimStageChange]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimStageChange.at"
    )


class ClaimStageChange(Base):
    __tablename__ = "claim_stage_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    note: Mapped[str | None] = mapped_column(Text)


def advance_claim(claim: Claim, stage: str, at: datetime, note: str | None = None) -> None:
    """Move a claim to `stage`, recording it in the history."""
    if stage not in STAGES:
        raise ValueError(f"unknown claim stage {stage!r}; expected one of {', '.join(STAGES)}")
    if claim.stage in ("paid", "rejected") and claim.history:
        raise ValueError(f"claim {claim.tracking_code} is closed ({claim.stage})")
    claim.stage = stage
    claim.stage_changed_at = at
    claim.history.append(ClaimStageChange(stage=stage, at=at, note=note))
