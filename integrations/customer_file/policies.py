"""Insurance policies, what they insure, and the endorsements that changed them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from integrations.database import Base

LINES = (
    "third_party_motor",
    "motor_hull",
    "fire",
    "health",
    "life",
    "travel",
    "liability",
    "engineering",
    "cargo",
    "marine_hull",
    "personal_accident",
    "home",
)
STATUSES = ("active", "expired", "cancelled", "suspended")


class Policy(Base):
    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # The printed code anyone can check by phone to tell a genuine policy from a forged one.
    authenticity_code: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="active")
    start_date: Mapped[date] = mapped_column(Date)
    # Indexed: renewal campaigns look for policies ending soon.
    end_date: Mapped[date] = mapped_column(Date, index=True)
    # Rials exceed 2**31 on any real premium: always BigInteger.
    premium_rials: Mapped[int] = mapped_column(BigInteger)
    sum_insured_rials: Mapped[int | None] = mapped_column(BigInteger)
    # [{"kind": "car", "plate": "12 ب 345 - 67", "model": "Peugeot 206"}, {"kind": "building", ...}]
    insured_objects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The branch or agency that issued it.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)

    endorsements: Mapped[list[Endorsement]] = relationship(
        cascade="all, delete-orphan", order_by="Endorsement.sequence"
    )


class Endorsement(Base):
    __tablename__ = "endorsements"
    __table_args__ = (UniqueConstraint("policy_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    effective_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    # Positive: extra premium the holder owes; negative: a refund.
    premium_change_rials: Mapped[int] = mapped_column(BigInteger, default=0)
