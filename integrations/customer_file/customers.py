"""Customers: persons and legal entities, with their phones, emails and postal addresses.

Finding a customer by the caller's number is the hottest query in the system, so phones live
in their own table keyed by the E.164 string under a unique index: one indexed equality
lookup, never a `LIKE` over formatted numbers.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from integrations.database import Base, UtcDateTime

KINDS = ("person", "company")
# In order of privilege; gold and VIP callers get a priority queue position.
TIERS = ("regular", "bronze", "silver", "gold", "vip")
PRIORITY_TIERS = frozenset({"gold", "vip"})
PHONE_KINDS = ("mobile", "landline", "work", "fax")
ADDRESS_KINDS = ("home", "work", "mailing")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), default="person")
    # Exactly one of the two identity numbers is set: national_id for persons (10 digits),
    # company_id for legal entities (11 digits). Both validated by customer_file.identifiers.
    national_id: Mapped[str | None] = mapped_column(String(10), unique=True)
    company_id: Mapped[str | None] = mapped_column(String(11), unique=True)
    # For a company the family name holds the registered name and the given name is empty.
    # All four are indexed: the agent's search box looks names up by prefix (a range scan).
    given_name_fa: Mapped[str] = mapped_column(String(100), default="", index=True)
    family_name_fa: Mapped[str] = mapped_column(String(200), index=True)
    given_name_latin: Mapped[str] = mapped_column(String(100), default="", index=True)
    family_name_latin: Mapped[str] = mapped_column(String(200), default="", index=True)
    # "male", "female" or None: Persian and Russian greetings differ by it.
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_date: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2), default="fa")
    tier: Mapped[str] = mapped_column(String(8), default="regular")
    # Salted scrypt hash from integrations.customer_file.pins; None until a PIN is chosen.
    pin_hash: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())

    phones: Mapped[list[Phone]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Phone.id"
    )
    emails: Mapped[list[Email]] = relationship(cascade="all, delete-orphan", order_by="Email.id")
    addresses: Mapped[list[Address]] = relationship(
        cascade="all, delete-orphan", order_by="Address.id"
    )


class Phone(Base):
    __tablename__ = "phones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    # E.164 (`+989121234567`), normalised by customer_file.identifiers.normalize_phone.
    # A unique index, not a LIKE: the caller lookup is one equality probe.
    e164: Mapped[str] = mapped_column(String(16), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(8), default="mobile")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class Email(Base):
    __tablename__ = "emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(254), index=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class Address(Base):
    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(8), default="home")
    postal_code: Mapped[str] = mapped_column(String(10), index=True)
    province: Mapped[str] = mapped_column(String(64), default="")
    city: Mapped[str] = mapped_column(String(64), default="")
    # The street address as the post office writes it, in Persian (or Latin for foreigners).
    line: Mapped[str] = mapped_column(String(300), default="")
