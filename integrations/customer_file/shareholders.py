"""Shareholders of the insurer: their holdings and file, dividends, and general meetings."""

from __future__ import annotations

from datetime import date, datetime

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

from integrations.database import Base, UtcDateTime

# What a holder's file may lack before dividends can be paid; the IVR speaks each code.
DOCUMENTS = (
    "national_card_copy",
    "birth_certificate_copy",
    "bank_account_number",
    "share_certificate",
    "signature_specimen",
    "inheritance_certificate",
)


class Shareholder(Base):
    __tablename__ = "shareholders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The shareholder ID callers key in (digits), printed on the share certificate.
    shareholder_number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    name_fa: Mapped[str] = mapped_column(String(200))
    name_latin: Mapped[str] = mapped_column(String(200), default="")
    pin_hash: Mapped[str | None] = mapped_column(String(160))
    shares: Mapped[int] = mapped_column(BigInteger, default=0)
    # Codes from DOCUMENTS.
    missing_documents: Mapped[list[str]] = mapped_column(JSON, default=list)

    dividends: Mapped[list[Dividend]] = relationship(
        cascade="all, delete-orphan", order_by="Dividend.fiscal_year"
    )


class Dividend(Base):
    __tablename__ = "dividends"
    __table_args__ = (UniqueConstraint("shareholder_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shareholder_id: Mapped[int] = mapped_column(
        ForeignKey("shareholders.id", ondelete="CASCADE"), index=True
    )
    # Iranian fiscal years are Jalali years (1403); the IVR says them as such.
    fiscal_year: Mapped[int] = mapped_column(Integer)
    per_share_rials: Mapped[int] = mapped_column(BigInteger)
    amount_due_rials: Mapped[int] = mapped_column(BigInteger)
    payment_date: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)


class GeneralMeeting(Base):
    __tablename__ = "general_meetings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="ordinary")  # or extraordinary
    held_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    place_fa: Mapped[str] = mapped_column(String(300))
    place_en: Mapped[str] = mapped_column(String(300), default="")
    agenda: Mapped[list[str]] = mapped_column(JSON, default=list)
    resolutions: Mapped[str | None] = mapped_column(Text)
    # The invitation sent by SMS or fax on request.
    invitation_text: Mapped[str | None] = mapped_column(Text)
