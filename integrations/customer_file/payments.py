"""What customers owe: premium installments and the cheques they gave.

The debt balance is never stored: it is derived from these rows (see
`customer_file.debt`), so it cannot drift from them.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base

INSTALLMENT_STATUSES = ("due", "paid", "overdue")
CHEQUE_STATUSES = ("due", "paid", "bounced")


class Installment(Base):
    __tablename__ = "installments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    policy_id: Mapped[int] = mapped_column(
        ForeignKey("policies.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    amount_rials: Mapped[int] = mapped_column(BigInteger)
    # "overdue" may be stored by the core system; an unpaid one past its due date is overdue
    # whatever the stored value says.
    status: Mapped[str] = mapped_column(String(8), default="due")
    paid_on: Mapped[date | None] = mapped_column(Date)


class Cheque(Base):
    __tablename__ = "cheques"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    bank: Mapped[str] = mapped_column(String(64))
    due_date: Mapped[date] = mapped_column(Date)
    amount_rials: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="due")
