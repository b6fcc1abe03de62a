"""`CustomerRecords`: customers and their policies, claims and debts on Tamas's own tables
(SQLite or PostgreSQL), the largest part of the insurer's core records (places and shareholders
are `place_records.py` and `shareholder_records.py`).

One read style: Core statements selecting just the columns the views show, run on a bare
connection without BEGIN/ROLLBACK (`Database.autocommit`), rows turned straight into frozen
views by `rows.py`; no ORM entities are loaded to be read. The statements callers wait for
(phone, claim tracking code, the agent's popup file) are built once at import and are single
indexed equality queries. Writes (registering a customer, setting a PIN) go through an ORM
session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    Executable,
    Integer,
    String,
    bindparam,
    cast,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from customer_file.debt import summarize_debt
from customer_file.identifiers import (
    ascii_digits,
    canonical_registration,
    compact_digits,
    mask_digits,
    try_normalize_phone,
    validate_national_or_company_id,
)
from customer_file.port import CustomerFileError, DuplicateCustomer
from customer_file.views import (
    ClaimStatus,
    CustomerFileView,
    CustomerRegistration,
    CustomerSummary,
    DebtView,
    PolicyAuthenticity,
    StageChange,
)
from integrations.customer_file import pins
from integrations.customer_file.claims import Claim, ClaimStageChange
from integrations.customer_file.customers import (
    KINDS,
    TIERS,
    Address,
    Customer,
    Email,
    Phone,
)
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.privacy import mask_name
from integrations.customer_file.rows import (
    CLAIM_COLUMNS,
    POLICY_COLUMNS,
    SUMMARY_COLUMNS,
    claim_view,
    contact_views,
    customer_summary,
    id_last4,
    one_of,
    owed_views,
    policy_view,
)
from integrations.customer_file.search import name_searches, normalize_persian
from integrations.customer_file.stores import Store
from integrations.prepared_reads import PreparedRead, reading
from tamas.languages import LANGUAGES

# Statements built once: the IVR asks these on every call.
_CUSTOMER_BY_PHONE = (
    select(*SUMMARY_COLUMNS)
    .join(Phone, Phone.customer_id == Customer.id)
    .where(Phone.e164 == bindparam("e164"))
)


_CLAIM_BY_CODE = (
    select(
        Claim.__table__,
        Policy.number.label("policy_number"),
        Customer.national_id,
        Customer.company_id,
    )
    .join(Policy, Policy.id == Claim.policy_id)
    .join(Customer, Customer.id == Claim.customer_id)
    .where(Claim.tracking_code == bindparam("code"))
)
_CLAIM_HISTORY = (
    select(ClaimStageChange.stage, ClaimStageChange.at, ClaimStageChange.note)
    .where(ClaimStageChange.claim_id == bindparam("claim_id"))
    .order_by(ClaimStageChange.at, ClaimStageChange.id)
)
# Run as the driver's prepared statements on PostgreSQL: SQLAlchemy's execution layer costs
# several times these indexed probes (integrations/prepared_reads.py).
_READ_CUSTOMER_BY_PHONE = PreparedRead(_CUSTOMER_BY_PHONE)
_READ_CLAIM_BY_CODE = PreparedRead(_CLAIM_BY_CODE)
_READ_CLAIM_HISTORY = PreparedRead(_CLAIM_HISTORY)


# The agent's popup file: statements built once (SQLAlchemy caches their compiled form) and
# run one after another on one connection. Each costs a trip to the database and the driver's
# overhead, so records of a like shape share one (UNION ALL). Only the columns the views show;
# ties in each order broken by id, so the file reads the same every time.
_CUSTOMER_ID: BindParameter[int] = bindparam("customer_id", type_=Integer)

_FILE_CUSTOMER = select(*SUMMARY_COLUMNS, Customer.birth_date).where(Customer.id == _CUSTOMER_ID)
# How to reach the customer: phones, emails and postal addresses, in one statement (one
# trip to the database instead of three), told apart by `what`, each in the order entered.
_FILE_CONTACTS: Executable = union_all(
    select(
        literal_column("'phone'").label("what"),
        Phone.id,
        Phone.kind,
        Phone.e164.label("value"),
        Phone.is_primary,
        cast(null(), String).label("postal_code"),
        cast(null(), String).label("province"),
        cast(null(), String).label("city"),
    ).where(Phone.customer_id == _CUSTOMER_ID),
    select(
        literal_column("'email'"),
        Email.id,
        cast(null(), String),
        Email.address,
        Email.is_primary,
        cast(null(), String),
        cast(null(), String),
        cast(null(), String),
    ).where(Email.customer_id == _CUSTOMER_ID),
    select(
        literal_column("'address'"),
        Address.id,
        Address.kind,
        Address.line,
        cast(null(), Boolean),
        Address.postal_code,
        Address.province,
        Address.city,
    ).where(Address.customer_id == _CUSTOMER_ID),
).order_by(literal_column("what"), literal_column("id"))
_FILE_POLICIES = (
    select(*POLICY_COLUMNS)
    .where(Policy.customer_id == _CUSTOMER_ID)
    .order_by(Policy.end_date.desc(), Policy.id)
)
_FILE_CLAIMS = (
    select(*CLAIM_COLUMNS, Policy.number.label("policy_number"))
    .join(Policy, Policy.id == Claim.policy_id)
    .where(Claim.customer_id == _CUSTOMER_ID)
    .order_by(Claim.stage_changed_at.desc(), Claim.id)
)
# What the customer owes: unpaid installments (with their policy's number as `reference`) and
# cheques due or bounced (their number as `reference`), in one statement.
_OWED: Executable = union_all(
    select(
        literal_column("'installment'").label("what"),
        Policy.number.label("reference"),
        Installment.sequence,
        cast(null(), String).label("bank"),
        Installment.due_date,
        Installment.amount_rials,
        Installment.status,
    )
    .join(Policy, Policy.id == Installment.policy_id)
    .where(Policy.customer_id == _CUSTOMER_ID, Installment.status != "paid"),
    select(
        literal_column("'cheque'"),
        Cheque.number,
        cast(null(), Integer),
        Cheque.bank,
        Cheque.due_date,
        Cheque.amount_rials,
        Cheque.status,
    ).where(Cheque.customer_id == _CUSTOMER_ID, one_of(Cheque.status, ("due", "bounced"))),
)


def _now() -> datetime:
    return datetime.now(UTC)


class CustomerRecords(Store):
    """Customers and their policies, claims and debts, kept in our own tables: with
    `PlaceRecords` and `ShareholderRecords`, the part of `CustomerFile` a core-system adapter
    replaces."""

    # --- finding and identifying customers -------------------------------------------

    async def customer_by_phone(self, phone: str) -> CustomerSummary | None:
        digits = phone[1:]
        e164 = phone if phone.startswith("+") and digits.isascii() and digits.isdigit() else None
        e164 = e164 or try_normalize_phone(phone, self.region)
        if e164 is None:
            return None
        # The hottest query: a statement built once, run as the driver's prepared statement,
        # one round trip through two index probes.
        row = await _READ_CUSTOMER_BY_PHONE.first(self.database, {"e164": e164})
        return None if row is None else customer_summary(row)

    async def customer_by_national_id(self, national_id: str) -> CustomerSummary | None:
        key = validate_national_or_company_id(national_id)
        column = Customer.company_id if len(key) == 11 else Customer.national_id
        return await self._one_summary(select(*SUMMARY_COLUMNS).where(column == key))

    async def customer_by_policy_number(self, policy_number: str) -> CustomerSummary | None:
        statement = (
            select(*SUMMARY_COLUMNS)
            .join(Policy, Policy.customer_id == Customer.id)
            .where(Policy.number == ascii_digits(policy_number).strip())
        )
        return await self._one_summary(statement)

    async def customer(self, customer_id: int) -> CustomerSummary | None:
        return await self._one_summary(select(*SUMMARY_COLUMNS).where(Customer.id == customer_id))

    async def _one_summary(self, statement: Any) -> CustomerSummary | None:
        async with self._reading() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else customer_summary(row)

    async def file(self, customer_id: int, connection: AsyncConnection) -> CustomerFileView | None:
        """The customer's file from these records, on the caller's connection: five small
        indexed reads in sequence, rows turned straight into views. The shareholding and
        Tamas's own records (complaints, callback tasks, calls) are left empty for the caller
        to add."""
        key = {"customer_id": customer_id}
        customer = (await connection.execute(_FILE_CUSTOMER, key)).first()
        if customer is None:
            return None
        phones, emails, addresses = contact_views(await connection.execute(_FILE_CONTACTS, key))
        policies = (await connection.execute(_FILE_POLICIES, key)).all()
        claims = (await connection.execute(_FILE_CLAIMS, key)).all()
        debt = await self._debts(connection, customer_id)
        return CustomerFileView(
            customer=customer_summary(customer),
            national_id_masked=mask_digits(customer.national_id) if customer.national_id else None,
            company_id=customer.company_id,
            birth_date=customer.birth_date,
            phones=phones,
            emails=emails,
            addresses=addresses,
            policies=tuple(policy_view(policy) for policy in policies),
            claims=tuple(claim_view(claim, claim.policy_number) for claim in claims),
            debt=debt,
            shareholder=None,
            open_complaints=(),
            open_callback_tasks=(),
            recent_interactions=(),
        )

    async def search_customers(self, text: str, limit: int = 20) -> list[CustomerSummary]:
        query = normalize_persian(ascii_digits(text))
        if not query:
            return []
        found: dict[int, CustomerSummary] = {}
        async with self._reading() as connection:

            async def add(statement: Any) -> None:
                for row in (await connection.execute(statement.limit(limit))).all():
                    found.setdefault(row.id, customer_summary(row))

            compact = "".join(query.split()).replace("-", "")
            if compact.lstrip("+").isdigit():
                if len(compact) == 10:
                    await add(select(*SUMMARY_COLUMNS).where(Customer.national_id == compact))
                if len(compact) == 11:
                    await add(select(*SUMMARY_COLUMNS).where(Customer.company_id == compact))
                e164 = try_normalize_phone(compact, self.region)
                if e164:
                    await add(
                        select(*SUMMARY_COLUMNS)
                        .join(Phone, Phone.customer_id == Customer.id)
                        .where(Phone.e164 == e164)
                    )
                await add(
                    select(*SUMMARY_COLUMNS)
                    .join(Claim, Claim.customer_id == Customer.id)
                    .where(Claim.tracking_code == compact)
                )
            await add(
                select(*SUMMARY_COLUMNS)
                .join(Policy, Policy.customer_id == Customer.id)
                .where(Policy.number == query)
            )
            if not compact.lstrip("+").isdigit():
                for statement in name_searches(query.split()):
                    await add(statement)
        return list(found.values())[:limit]

    async def register_customer(self, registration: CustomerRegistration) -> CustomerSummary:
        r = registration
        if r.kind not in KINDS:
            raise CustomerFileError(f"kind must be one of {', '.join(KINDS)}")
        if r.language not in LANGUAGES:
            raise CustomerFileError(f"language must be one of {', '.join(LANGUAGES)}")
        if r.tier not in TIERS:
            raise CustomerFileError(f"tier must be one of {', '.join(TIERS)}")
        if r.gender not in (None, "male", "female"):
            raise CustomerFileError("gender must be male, female or not given")
        family_name_fa = normalize_persian(r.family_name_fa)
        if not family_name_fa:
            raise CustomerFileError("family_name_fa is required")
        checked = canonical_registration(r, self.region)
        national_id, company_id = checked.national_id, checked.company_id
        phones, postal_code = checked.phones, checked.postal_code

        customer = Customer(
            kind=r.kind,
            national_id=national_id,
            company_id=company_id,
            given_name_fa=normalize_persian(r.given_name_fa),
            family_name_fa=family_name_fa,
            given_name_latin=" ".join(r.given_name_latin.split()),
            family_name_latin=" ".join(r.family_name_latin.split()),
            gender=r.gender,
            birth_date=r.birth_date,
            language=r.language,
            tier=r.tier,
            created_at=_now(),
        )
        customer.phones = [
            Phone(e164=e164, kind="mobile", is_primary=index == 0)
            for index, e164 in enumerate(phones)
        ]
        customer.emails = [
            Email(address=address.strip(), is_primary=index == 0)
            for index, address in enumerate(r.emails)
            if address.strip()
        ]
        if postal_code:
            customer.addresses = [
                Address(kind="home", postal_code=postal_code, city=r.city, line=r.address_line)
            ]
        async with self.database.session() as session:
            await self._refuse_duplicates(session, national_id, company_id, phones)
            session.add(customer)
            try:
                await session.commit()
            except IntegrityError as error:
                # Lost a race with another registration of the same person.
                raise DuplicateCustomer("national ID or phone") from error
        return customer_summary(customer)

    async def _refuse_duplicates(
        self,
        session: AsyncSession,
        national_id: str | None,
        company_id: str | None,
        phones: Sequence[str],
    ) -> None:
        if national_id and await session.scalar(
            select(Customer.id).where(Customer.national_id == national_id)
        ):
            raise DuplicateCustomer("national ID")
        if company_id and await session.scalar(
            select(Customer.id).where(Customer.company_id == company_id)
        ):
            raise DuplicateCustomer("company ID")
        if phones and await session.scalar(select(Phone.id).where(Phone.e164.in_(phones))):
            raise DuplicateCustomer("phone")

    async def verify_customer_pin(self, customer_id: int, pin: str) -> bool:
        async with self._reading() as connection:
            stored = await connection.scalar(
                select(Customer.pin_hash).where(Customer.id == customer_id)
            )
        # scrypt takes tens of milliseconds: keep it off the event loop.
        return await asyncio.to_thread(pins.verify_pin, ascii_digits(pin), stored)

    async def set_customer_pin(self, customer_id: int, pin: str) -> None:
        digits = ascii_digits(pin)
        if not (digits.isascii() and digits.isdigit() and 4 <= len(digits) <= 8):
            raise CustomerFileError("a PIN is 4 to 8 digits")
        hashed = await asyncio.to_thread(pins.hash_pin, digits)
        statement = update(Customer).where(Customer.id == customer_id).values(pin_hash=hashed)
        if await self.database.write(statement) == 0:
            raise CustomerFileError(f"no customer {customer_id}")

    # --- claims, policies, debts -----------------------------------------------------

    async def claim_by_tracking_code(self, tracking_code: str) -> ClaimStatus | None:
        code = compact_digits(tracking_code)
        if not code:
            return None
        # Asked by callers in the IVR's busiest menu: prepared statements, bare connection
        # without BEGIN/ROLLBACK (two round trips instead of four).
        async with reading(self.database) as reader:
            row = await reader.first(_READ_CLAIM_BY_CODE, {"code": code})
            if row is None:
                return None
            history = await reader.all(_READ_CLAIM_HISTORY, {"claim_id": row.id})
        return ClaimStatus(
            claim=claim_view(row, row.policy_number),
            history=tuple(StageChange(h.stage, h.at, h.note) for h in history),
            customer_id=row.customer_id,
            national_id_last4=id_last4(row),
        )

    async def policy_for_authenticity(self, number_or_code: str) -> PolicyAuthenticity:
        key = ascii_digits(number_or_code).strip()
        if not key:
            return PolicyAuthenticity(genuine=False)
        statement = (
            select(
                Policy.number,
                Policy.line,
                Policy.status,
                Policy.start_date,
                Policy.end_date,
                Customer.given_name_fa,
                Customer.family_name_fa,
                Customer.given_name_latin,
                Customer.family_name_latin,
            )
            .join(Customer, Customer.id == Policy.customer_id)
            .where(or_(Policy.number == key, Policy.authenticity_code == key))
            .limit(1)
        )
        async with self._reading() as connection:
            row = (await connection.execute(statement)).first()
        if row is None:
            return PolicyAuthenticity(genuine=False)
        return PolicyAuthenticity(
            genuine=True,
            number=row.number,
            line=row.line,
            status=row.status,
            holder_name_masked_fa=mask_name(f"{row.given_name_fa} {row.family_name_fa}"),
            holder_name_masked_latin=mask_name(f"{row.given_name_latin} {row.family_name_latin}"),
            start_date=row.start_date,
            end_date=row.end_date,
        )

    async def debts(self, customer_id: int) -> DebtView:
        async with self._reading() as connection:
            return await self._debts(connection, customer_id)

    async def _debts(self, reader: AsyncConnection, customer_id: int) -> DebtView:
        owed = await reader.execute(_OWED, {"customer_id": customer_id})
        installments, cheques = owed_views(owed)
        return summarize_debt(customer_id, installments, cheques, today=date.today())
