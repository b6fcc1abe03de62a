"""What the daily run finds due in our own customer-file tables: installments and cheques
falling due, installments overdue, policies ending, shareholders' general meetings ahead,
and everybody on Nowruz; each with the person's name, language, primary mobile and email.

Set-based reads, one query per kind of reminder read as a stream in pages (never one
query per customer). An insurer whose customer file is elsewhere sends these as
core-system events instead (docs/notices.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from integrations.customer_file.customers import Customer, Email, Phone
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.shareholders import GeneralMeeting, Shareholder
from integrations.database import Database

PAGE = 5000
TEHRAN = ZoneInfo("Asia/Tehran")


@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str  # a notice kind of messaging/notices.yaml
    entity: str  # what it is about, for the notice's key: installment:17, policy:9...
    customer_id: int
    name_fa: str
    name_latin: str
    language: str
    mobile: str | None
    email: str | None
    values: dict[str, Any]


def _contacts() -> tuple[Any, Any]:
    """The customer's first mobile (primary first) and first email, as correlated scalars."""
    phone = aliased(Phone)
    mobile = (
        select(phone.e164)
        .where(phone.customer_id == Customer.id, phone.kind == "mobile")
        .order_by(phone.is_primary.desc(), phone.id)
        .limit(1)
        .scalar_subquery()
    )
    mail = aliased(Email)
    email = (
        select(mail.address)
        .where(mail.customer_id == Customer.id)
        .order_by(mail.is_primary.desc(), mail.id)
        .limit(1)
        .scalar_subquery()
    )
    return mobile, email


def _person() -> list[Any]:
    mobile, email = _contacts()
    return [
        Customer.id.label("customer_id"),
        func.trim(Customer.given_name_fa + " " + Customer.family_name_fa).label("name_fa"),
        func.trim(Customer.given_name_latin + " " + Customer.family_name_latin).label("name_latin"),
        Customer.language,
        mobile.label("mobile"),
        email.label("email"),
    ]


class DueReminders:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def _pages(
        self, query: Select[Any], key: Any, kind: str, entity: str, values: Any
    ) -> AsyncIterator[list[Reminder]]:
        """The query's rows in pages of PAGE, from ONE query read as a stream (a server-side
        cursor on PostgreSQL): a million reminders are sorted once, not once a page."""
        async with self.database.engine.connect() as connection:
            result = await connection.stream(query.order_by(key).execution_options(yield_per=PAGE))
            async for rows in result.partitions(PAGE):
                yield [
                    Reminder(
                        kind,
                        f"{entity}:{row.entity_id}",
                        row.customer_id,
                        row.name_fa,
                        row.name_latin,
                        row.language,
                        row.mobile,
                        row.email,
                        values(row),
                    )
                    for row in rows
                ]

    def installments_due(self, on: date) -> AsyncIterator[list[Reminder]]:
        return self._installments(on, "installment_due")

    def installments_overdue(self, since: date) -> AsyncIterator[list[Reminder]]:
        """Unpaid installments that fell due on `since` (the run reminds at set days after)."""
        return self._installments(since, "installment_overdue")

    def _installments(self, due: date, kind: str) -> AsyncIterator[list[Reminder]]:
        query = (
            select(
                Installment.id.label("entity_id"),
                Policy.number,
                Installment.amount_rials,
                Installment.due_date,
                *_person(),
            )
            .join(Policy, Policy.id == Installment.policy_id)
            .join(Customer, Customer.id == Policy.customer_id)
            .where(Installment.due_date == due, Installment.paid_on.is_(None))
            .where(Installment.status != "paid")
        )
        return self._pages(query, Installment.id, kind, "installment", _installment)

    def cheques_due(self, on: date) -> AsyncIterator[list[Reminder]]:
        query = (
            select(
                Cheque.id.label("entity_id"),
                Cheque.number,
                Cheque.amount_rials,
                Cheque.due_date,
                *_person(),
            )
            .join(Customer, Customer.id == Cheque.customer_id)
            .where(Cheque.due_date == on, Cheque.status == "due")
        )
        return self._pages(
            query,
            Cheque.id,
            "cheque_due",
            "cheque",
            lambda row: {
                "cheque_number": row.number,
                "amount": row.amount_rials,
                "due_date": row.due_date,
            },
        )

    def policies_ending(self, on: date) -> AsyncIterator[list[Reminder]]:
        renewed = aliased(Policy)
        query = (
            select(Policy.id.label("entity_id"), Policy.number, Policy.end_date, *_person())
            .join(Customer, Customer.id == Policy.customer_id)
            .where(Policy.end_date == on, Policy.status == "active")
            # Not renewed: no later policy of the same line for the customer starts after it.
            .where(
                ~select(renewed.id)
                .where(
                    and_(
                        renewed.customer_id == Policy.customer_id,
                        renewed.line == Policy.line,
                        renewed.start_date > Policy.start_date,
                    )
                )
                .exists()
            )
        )
        return self._pages(
            query,
            Policy.id,
            "policy_ending",
            "policy",
            lambda row: {"policy_number": row.number, "end_date": row.end_date},
        )

    def meeting_invitations(self, meeting_on: date) -> AsyncIterator[list[Reminder]]:
        # The meeting's day as Tehran sees it.
        starts = datetime.combine(meeting_on, time(), TEHRAN)
        meeting = (
            select(GeneralMeeting.id, GeneralMeeting.held_at, GeneralMeeting.place_fa)
            .where(GeneralMeeting.held_at >= starts)
            .where(GeneralMeeting.held_at < starts + timedelta(days=1))
            .limit(1)
            .subquery()
        )
        query = (
            select(
                Shareholder.id.label("entity_id"),
                meeting.c.held_at,
                meeting.c.place_fa,
                meeting.c.id.label("meeting_id"),
                *_person(),
            )
            .join(Customer, Customer.id == Shareholder.customer_id)
            .join(meeting, meeting.c.id.is_not(None))
        )
        return self._pages(
            query,
            Shareholder.id,
            "meeting_invitation",
            f"meeting:{meeting_on.isoformat()}:shareholder",
            lambda row: {
                "meeting_date": row.held_at.astimezone(TEHRAN).date(),
                "place": row.place_fa,
            },
        )

    def everybody(self, kind: str) -> AsyncIterator[list[Reminder]]:
        query = select(Customer.id.label("entity_id"), *_person())
        return self._pages(query, Customer.id, kind, "customer", lambda row: {})


def _installment(row: Any) -> dict[str, Any]:
    return {"policy_number": row.number, "amount": row.amount_rials, "due_date": row.due_date}
