"""`SqlCustomerFile`: the `CustomerFile` port on Tamas's own tables (SQLite or PostgreSQL).

Every method uses one short-lived connection or session from the project's one engine and
returns frozen views. Reads select just the columns the views show, with Core statements built
once at import (no ORM entities). Lookups callers wait for (phone, claim tracking code,
shareholder ID) are single indexed equality queries.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, date, datetime
from math import cos, radians
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    Executable,
    Integer,
    String,
    bindparam,
    cast,
    literal,
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
    mask_digits,
    normalize_phone,
    try_normalize_phone,
    validate_company_id,
    validate_national_id,
    validate_postal_code,
)
from customer_file.port import CustomerFileError, DuplicateCustomer
from customer_file.views import (
    BranchView,
    CallbackTaskView,
    CentreView,
    ClaimStatus,
    ComplaintView,
    CustomerFileView,
    CustomerRegistration,
    CustomerSummary,
    DebtView,
    GeneralMeetingView,
    InteractionView,
    PolicyAuthenticity,
    ShareholderView,
    StageChange,
)
from integrations.customer_file import pins
from integrations.customer_file.claims import Claim, ClaimStageChange
from integrations.customer_file.customers import (
    KINDS,
    LANGUAGES,
    TIERS,
    Address,
    Customer,
    Email,
    Phone,
)
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.places import (
    Branch,
    MedicalCentre,
    PaymentCentre,
    PostalArea,
    distance_km,
)
from integrations.customer_file.policies import Policy
from integrations.customer_file.privacy import mask_name
from integrations.customer_file.rows import (
    CALLBACK_COLUMNS,
    CLAIM_COLUMNS,
    COMPLAINT_COLUMNS,
    DIVIDEND_COLUMNS,
    INTERACTION_COLUMNS,
    POLICY_COLUMNS,
    SHAREHOLDER_COLUMNS,
    SUMMARY_COLUMNS,
    branch_view,
    callback_view,
    claim_view,
    complaint_view,
    contact_views,
    customer_summary,
    interaction_view,
    owed_views,
    policy_view,
    shareholder_view,
    utc,
)
from integrations.customer_file.search import name_searches, normalize_persian
from integrations.customer_file.service_requests import (
    CALLBACK_KINDS,
    CALLBACK_STATUSES,
    COMPLAINT_CATEGORIES,
    OPEN_CALLBACK_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    CallbackTask,
    Complaint,
)
from integrations.customer_file.shareholders import Dividend, GeneralMeeting, Shareholder
from integrations.database import Database
from interactions.table import Interaction

# Tracking numbers are 8 digits a caller can key and hear; the first digit tells the kind,
# so the complaint-status menu can reject a callback number at once.
COMPLAINT_PREFIX = "7"
CALLBACK_PREFIX = "5"
_TRACKING_ATTEMPTS = 8
# Search radii for branches_near, widened until enough branches are found; None: anywhere.
_BRANCH_RADII_KM = (25.0, 100.0, 400.0, None)
_KM_PER_DEGREE = 111.2


def _now() -> datetime:
    return datetime.now(UTC)


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


# The agent's popup file: nine statements built once (SQLAlchemy caches their compiled form)
# and run one after another on one connection. Each costs a trip to the database and the
# driver's overhead, so records of a like shape share one (UNION ALL). Only the columns the
# views show; ties in each order broken by id, so the file reads the same every time.
_CUSTOMER_ID: BindParameter[int] = bindparam("customer_id", type_=Integer)


def _one_of(column: Any, values: Sequence[str]) -> Any:
    """`column IN (...)` over fixed values as plain parameters: a list of plain values would
    make an "expanding" IN, whose SQL is re-rendered on every execution."""
    return column.in_([literal(value) for value in values])


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
    ).where(Cheque.customer_id == _CUSTOMER_ID, _one_of(Cheque.status, ("due", "bounced"))),
)
# A holder and their dividends in one statement: one row per dividend (or one with no
# dividend columns for a holder who has none yet).
_HOLDER_WITH_DIVIDENDS = (
    select(*SHAREHOLDER_COLUMNS, *DIVIDEND_COLUMNS)
    .outerjoin(Dividend, Dividend.shareholder_id == Shareholder.id)
    .order_by(Shareholder.id, Dividend.fiscal_year)
)
_FILE_SHAREHOLDER = _HOLDER_WITH_DIVIDENDS.where(Shareholder.customer_id == _CUSTOMER_ID)
_SHAREHOLDER_BY_NUMBER = _HOLDER_WITH_DIVIDENDS.where(
    Shareholder.shareholder_number == bindparam("number")
)
_OPEN_COMPLAINTS = (
    select(*COMPLAINT_COLUMNS)
    .where(
        Complaint.customer_id == _CUSTOMER_ID,
        _one_of(Complaint.status, OPEN_COMPLAINT_STATUSES),
    )
    .order_by(Complaint.created_at.desc(), Complaint.id.desc())
)
_OPEN_CALLBACK_TASKS = (
    select(*CALLBACK_COLUMNS)
    .where(
        CallbackTask.customer_id == _CUSTOMER_ID,
        _one_of(CallbackTask.status, OPEN_CALLBACK_STATUSES),
    )
    .order_by(CallbackTask.created_at.desc(), CallbackTask.id.desc())
)
_RECENT_INTERACTIONS = (
    select(*INTERACTION_COLUMNS)
    .where(Interaction.customer_id == _CUSTOMER_ID)
    .order_by(Interaction.started_at.desc())
    .limit(bindparam("limit"))
)


def _shareholder(rows: Sequence[Any]) -> ShareholderView | None:
    """The first holder in rows of _HOLDER_WITH_DIVIDENDS, with their dividends."""
    if not rows:
        return None
    holder = rows[0]
    dividends = [row for row in rows if row.id == holder.id and row.fiscal_year is not None]
    return shareholder_view(holder, dividends)


def _digits(text: str) -> str:
    """A code as keyed or typed (`۵۵۵۰-۱۲۳۴`) -> `55501234`."""
    return "".join(ascii_digits(text).replace("-", " ").split())


class SqlCustomerFile:
    """The customer file on our own tables. Implements `CustomerFile`."""

    def __init__(self, database: Database, region: str = "IR") -> None:
        self.database = database
        # Country assumed for numbers written without a country code (settings.default_region).
        self.region = region

    # --- finding and identifying customers -------------------------------------------

    async def customer_by_phone(self, phone: str) -> CustomerSummary | None:
        digits = phone[1:]
        e164 = phone if phone.startswith("+") and digits.isascii() and digits.isdigit() else None
        e164 = e164 or try_normalize_phone(phone, self.region)
        if e164 is None:
            return None
        # The hottest query: a statement built once, run on a bare connection (no ORM
        # session to set up and tear down), one round trip through two index probes.
        # A single read needs no BEGIN/ROLLBACK pair around it (see _reading).
        async with self._reading() as reader:
            row = (await reader.execute(_CUSTOMER_BY_PHONE, {"e164": e164})).first()
        return None if row is None else customer_summary(row)

    async def customer_by_national_id(self, national_id: str) -> CustomerSummary | None:
        digits = _digits(national_id)
        if len(digits) == 11:
            condition = Customer.company_id == validate_company_id(digits)
        else:
            condition = Customer.national_id == validate_national_id(digits)
        return await self._one_summary(select(*SUMMARY_COLUMNS).where(condition))

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
        # Column rows, not entities: a bare connection is enough and cheaper than a session.
        async with self._reading() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else customer_summary(row)

    def _reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A bare connection for reads: no ORM session to set up, and no BEGIN/ROLLBACK pair
        around them (`Database.autocommit`)."""
        return self.database.autocommit()

    async def customer_file(self, customer_id: int) -> CustomerFileView | None:
        # Built as the agent's phone rings: nine small indexed reads in sequence on one
        # connection, each a statement compiled once, rows turned straight into views.
        key = {"customer_id": customer_id}
        async with self._reading() as connection:
            customer = (await connection.execute(_FILE_CUSTOMER, key)).first()
            if customer is None:
                return None
            phones, emails, addresses = contact_views(await connection.execute(_FILE_CONTACTS, key))
            policies = (await connection.execute(_FILE_POLICIES, key)).all()
            claims = (await connection.execute(_FILE_CLAIMS, key)).all()
            debt = await self._debts(connection, customer_id)
            holder = (await connection.execute(_FILE_SHAREHOLDER, key)).all()
            complaints, tasks, interactions = await self._own_records(connection, customer_id)
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
            shareholder=_shareholder(holder),
            open_complaints=complaints,
            open_callback_tasks=tasks,
            recent_interactions=interactions,
        )

    async def _own_records(
        self, reader: AsyncConnection | AsyncSession, customer_id: int
    ) -> tuple[
        tuple[ComplaintView, ...], tuple[CallbackTaskView, ...], tuple[InteractionView, ...]
    ]:
        """What Tamas itself keeps about a customer: open complaints, open callback tasks,
        the last 10 calls. Shared with adapters whose other data comes from elsewhere."""
        key = {"customer_id": customer_id}
        complaints = (await reader.execute(_OPEN_COMPLAINTS, key)).all()
        tasks = (await reader.execute(_OPEN_CALLBACK_TASKS, key)).all()
        interactions = await self._recent_interactions(reader, customer_id, 10)
        return (
            tuple(complaint_view(c) for c in complaints),
            tuple(callback_view(task) for task in tasks),
            tuple(interactions),
        )

    async def search_customers(self, text: str, limit: int = 20) -> list[CustomerSummary]:
        query = normalize_persian(ascii_digits(text))
        if not query:
            return []
        found: dict[int, CustomerSummary] = {}
        async with self.database.session() as session:

            async def add(statement: Any) -> None:
                for row in (await session.execute(statement.limit(limit))).all():
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
        national_id = validate_national_id(r.national_id) if r.national_id else None
        company_id = validate_company_id(r.company_id) if r.company_id else None
        phones = list(dict.fromkeys(normalize_phone(p, self.region) for p in r.phones))
        postal_code = validate_postal_code(r.postal_code) if r.postal_code else None

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
        async with self.database.session() as session:
            stored = await session.scalar(
                select(Customer.pin_hash).where(Customer.id == customer_id)
            )
        # scrypt takes tens of milliseconds: keep it off the event loop.
        return await asyncio.to_thread(pins.verify_pin, ascii_digits(pin), stored)

    async def set_customer_pin(self, customer_id: int, pin: str) -> None:
        digits = ascii_digits(pin)
        if not (digits.isascii() and digits.isdigit() and 4 <= len(digits) <= 8):
            raise CustomerFileError("a PIN is 4 to 8 digits")
        hashed = await asyncio.to_thread(pins.hash_pin, digits)
        async with self.database.session() as session:
            result = await session.execute(
                update(Customer).where(Customer.id == customer_id).values(pin_hash=hashed)
            )
            await session.commit()
        if _rowcount(result) == 0:
            raise CustomerFileError(f"no customer {customer_id}")

    # --- claims, policies, debts -----------------------------------------------------

    async def claim_by_tracking_code(self, tracking_code: str) -> ClaimStatus | None:
        code = _digits(tracking_code)
        if not code:
            return None
        # Asked by callers in the IVR's busiest menu: prepared statements, bare connection
        # without BEGIN/ROLLBACK (two round trips instead of four).
        async with self._reading() as connection:
            row = (await connection.execute(_CLAIM_BY_CODE, {"code": code})).first()
            if row is None:
                return None
            history = (await connection.execute(_CLAIM_HISTORY, {"claim_id": row.id})).all()
        identity = row.national_id or row.company_id or ""
        return ClaimStatus(
            claim=claim_view(row, row.policy_number),
            history=tuple(StageChange(h.stage, utc(h.at), h.note) for h in history),
            customer_id=row.customer_id,
            national_id_last4=identity[-4:],
        )

    async def policy_for_authenticity(self, number_or_code: str) -> PolicyAuthenticity:
        key = ascii_digits(number_or_code).strip()
        if not key:
            return PolicyAuthenticity(genuine=False)
        async with self.database.session() as session:
            row = (
                await session.execute(
                    select(Policy, Customer)
                    .join(Customer, Customer.id == Policy.customer_id)
                    .where(or_(Policy.number == key, Policy.authenticity_code == key))
                    .limit(1)
                )
            ).first()
        if row is None:
            return PolicyAuthenticity(genuine=False)
        policy, holder = row
        return PolicyAuthenticity(
            genuine=True,
            number=policy.number,
            line=policy.line,
            status=policy.status,
            holder_name_masked_fa=mask_name(f"{holder.given_name_fa} {holder.family_name_fa}"),
            holder_name_masked_latin=mask_name(
                f"{holder.given_name_latin} {holder.family_name_latin}"
            ),
            start_date=policy.start_date,
            end_date=policy.end_date,
        )

    async def debts(self, customer_id: int) -> DebtView:
        async with self._reading() as connection:
            return await self._debts(connection, customer_id)

    async def _debts(self, reader: AsyncConnection, customer_id: int) -> DebtView:
        owed = await reader.execute(_OWED, {"customer_id": customer_id})
        installments, cheques = owed_views(owed)
        return summarize_debt(customer_id, installments, cheques, today=date.today())

    # --- places ----------------------------------------------------------------------

    async def _postal_area(self, postal_code: str) -> tuple[float, float] | None:
        """Where a postal code is: its area's centre (five-digit prefix), else the first area
        sharing a shorter prefix. Raises InvalidIdentifier for a malformed postal code."""
        prefix = validate_postal_code(postal_code)[:5]
        async with self.database.session() as session:
            area = await session.get(PostalArea, prefix)
            # An area not on file yet: fall back to the district (3 digits), then the
            # region (2 digits), which still points at the right city.
            for length in (3, 2):
                if area is not None:
                    break
                area = (
                    await session.scalars(
                        select(PostalArea)
                        .where(PostalArea.prefix.startswith(prefix[:length]))
                        .order_by(PostalArea.prefix)
                        .limit(1)
                    )
                ).first()
        return None if area is None else (area.latitude, area.longitude)

    async def branches_near(self, postal_code: str, limit: int = 3) -> list[BranchView]:
        area = await self._postal_area(postal_code)
        if area is None:
            return []
        latitude, longitude = area
        today = date.today()
        async with self.database.session() as session:
            for radius in _BRANCH_RADII_KM:
                statement = select(Branch).where(
                    or_(Branch.licence_end.is_(None), Branch.licence_end >= today)
                )
                if radius is not None:
                    # A box around the caller that the (latitude, longitude) index narrows.
                    d_lat = radius / _KM_PER_DEGREE
                    d_lon = radius / (_KM_PER_DEGREE * max(0.1, cos(radians(latitude))))
                    statement = statement.where(
                        Branch.latitude.between(latitude - d_lat, latitude + d_lat),
                        Branch.longitude.between(longitude - d_lon, longitude + d_lon),
                    )
                branches = (await session.scalars(statement)).all()
                ranked = sorted(
                    (
                        (distance_km(latitude, longitude, b.latitude, b.longitude), b.id, b)
                        for b in branches
                    ),
                    key=lambda item: (item[0], item[1]),
                )
                within = [item for item in ranked if radius is None or item[0] <= radius]
                if len(within) >= limit or radius is None:
                    return [branch_view(branch, distance) for distance, _, branch in within[:limit]]
        return []

    async def medical_centres(self, city: str | None = None) -> list[CentreView]:
        statement = select(MedicalCentre).order_by(MedicalCentre.city, MedicalCentre.name_fa)
        if city:
            statement = statement.where(MedicalCentre.city == city)
        async with self.database.session() as session:
            rows = (await session.scalars(statement)).all()
        return [
            CentreView(c.id, c.kind, c.name_fa, c.name_en, c.city, c.address_fa, c.phone)
            for c in rows
        ]

    async def payment_centres(self, city: str | None = None) -> list[CentreView]:
        statement = select(PaymentCentre).order_by(PaymentCentre.city, PaymentCentre.name_fa)
        if city:
            statement = statement.where(PaymentCentre.city == city)
        async with self.database.session() as session:
            rows = (await session.scalars(statement)).all()
        return [
            CentreView(
                c.id,
                "payment",
                c.name_fa,
                c.name_en,
                c.city,
                c.address_fa,
                c.phone,
                c.opening_hours,
            )
            for c in rows
        ]

    # --- shareholders ----------------------------------------------------------------

    async def shareholder(self, shareholder_number: str) -> ShareholderView | None:
        number = _digits(shareholder_number)
        async with self._reading() as connection:
            rows = (await connection.execute(_SHAREHOLDER_BY_NUMBER, {"number": number})).all()
        return _shareholder(rows)

    async def verify_shareholder_pin(self, shareholder_number: str, pin: str) -> bool:
        async with self.database.session() as session:
            stored = await session.scalar(
                select(Shareholder.pin_hash).where(
                    Shareholder.shareholder_number == _digits(shareholder_number)
                )
            )
        return await asyncio.to_thread(pins.verify_pin, ascii_digits(pin), stored)

    async def next_general_meeting(
        self, after: datetime | None = None
    ) -> GeneralMeetingView | None:
        moment = utc(after) if after is not None else _now()
        async with self.database.session() as session:
            meeting = (
                await session.scalars(
                    select(GeneralMeeting)
                    .where(GeneralMeeting.held_at > moment)
                    .order_by(GeneralMeeting.held_at)
                    .limit(1)
                )
            ).first()
        if meeting is None:
            return None
        return GeneralMeetingView(
            id=meeting.id,
            kind=meeting.kind,
            held_at=utc(meeting.held_at),
            place_fa=meeting.place_fa,
            place_en=meeting.place_en,
            agenda=tuple(meeting.agenda or ()),
            resolutions=meeting.resolutions,
            invitation_text=meeting.invitation_text,
        )

    # --- requests callers leave ------------------------------------------------------

    async def _insert_tracked(self, prefix: str, make: Any) -> str:
        """Insert a row under a fresh random tracking number, retrying on the rare clash."""
        for _ in range(_TRACKING_ATTEMPTS):
            number = prefix + f"{secrets.randbelow(10**7):07d}"
            row = make(number)
            async with self.database.session() as session:
                session.add(row)
                try:
                    await session.commit()
                except IntegrityError as error:
                    await session.rollback()
                    taken = await session.scalar(
                        select(type(row).id).where(type(row).tracking_number == number)
                    )
                    if taken is None:
                        # Not a clash: a reference to a customer or policy that does not exist.
                        raise CustomerFileError(f"cannot save the request: {error.orig}") from error
                    continue
            return number
        raise CustomerFileError("could not allocate a tracking number; try again")

    async def create_callback_task(
        self,
        kind: str,
        phone: str,
        *,
        customer_id: int | None = None,
        policy_number: str | None = None,
        due_at: datetime | None = None,
        note: str | None = None,
        linkedid: str | None = None,
    ) -> str:
        if kind not in CALLBACK_KINDS:
            raise CustomerFileError(f"callback kind must be one of {', '.join(CALLBACK_KINDS)}")
        e164 = normalize_phone(phone, self.region)
        keyed_policy = ascii_digits(policy_number).strip()[:32] if policy_number else None
        created_at = _now()

        def make(number: str) -> CallbackTask:
            return CallbackTask(
                tracking_number=number,
                kind=kind,
                customer_id=customer_id,
                phone=e164,
                policy_number=keyed_policy or None,
                status="open",
                due_at=None if due_at is None else utc(due_at),
                note=note,
                linkedid=linkedid,
                created_at=created_at,
            )

        return await self._insert_tracked(CALLBACK_PREFIX, make)

    async def callback_tasks_for_agent(
        self, agent: str, include_unassigned: bool = True, limit: int = 50
    ) -> list[CallbackTaskView]:
        mine = CallbackTask.assigned_agent == agent
        who = or_(mine, CallbackTask.assigned_agent.is_(None)) if include_unassigned else mine
        statement = (
            select(CallbackTask)
            .where(CallbackTask.status.in_(OPEN_CALLBACK_STATUSES), who)
            .order_by(
                CallbackTask.due_at.is_(None),
                CallbackTask.due_at,
                CallbackTask.created_at,
                CallbackTask.id,
            )
            .limit(limit)
        )
        async with self.database.session() as session:
            tasks = (await session.scalars(statement)).all()
        return [callback_view(task) for task in tasks]

    async def update_callback_task(self, tracking_number: str, agent: str, status: str) -> bool:
        if status not in CALLBACK_STATUSES or status == "open":
            raise CustomerFileError("a task can be assigned, done or cancelled")
        statement = (
            update(CallbackTask)
            .where(
                CallbackTask.tracking_number == _digits(tracking_number),
                or_(CallbackTask.assigned_agent.is_(None), CallbackTask.assigned_agent == agent),
            )
            .values(assigned_agent=agent, status=status)
        )
        async with self.database.session() as session:
            result = await session.execute(statement)
            await session.commit()
        return _rowcount(result) > 0

    async def create_complaint(
        self,
        category: str,
        *,
        customer_id: int | None = None,
        caller_number: str | None = None,
        recording_path: str | None = None,
        description: str | None = None,
        linkedid: str | None = None,
    ) -> str:
        if category not in COMPLAINT_CATEGORIES:
            raise CustomerFileError(
                f"complaint category must be one of {', '.join(COMPLAINT_CATEGORIES)}"
            )
        caller = try_normalize_phone(caller_number, self.region) if caller_number else None
        now = _now()

        def make(number: str) -> Complaint:
            return Complaint(
                tracking_number=number,
                customer_id=customer_id,
                caller_number=caller,
                category=category,
                status="received",
                recording_path=recording_path,
                description=description,
                linkedid=linkedid,
                created_at=now,
                updated_at=now,
            )

        return await self._insert_tracked(COMPLAINT_PREFIX, make)

    async def complaint_status(self, tracking_number: str) -> ComplaintView | None:
        number = _digits(tracking_number)
        async with self.database.session() as session:
            complaint = (
                await session.scalars(select(Complaint).where(Complaint.tracking_number == number))
            ).first()
        return None if complaint is None else complaint_view(complaint)

    # --- interactions ----------------------------------------------------------------

    async def recent_interactions(self, customer_id: int, limit: int = 10) -> list[InteractionView]:
        async with self._reading() as connection:
            return await self._recent_interactions(connection, customer_id, limit)

    async def _recent_interactions(
        self, reader: AsyncConnection | AsyncSession, customer_id: int, limit: int
    ) -> list[InteractionView]:
        records = await reader.execute(
            _RECENT_INTERACTIONS, {"customer_id": customer_id, "limit": limit}
        )
        return [interaction_view(record) for record in records]

    async def interactions_for_agent(self, agent: str, limit: int = 20) -> list[InteractionView]:
        async with self.database.session() as session:
            records = (
                await session.scalars(
                    select(Interaction)
                    .where(Interaction.agent == agent)
                    .order_by(Interaction.started_at.desc())
                    .limit(limit)
                )
            ).all()
        return [interaction_view(record) for record in records]

    async def save_disposition(
        self, linkedid: str, agent: str, disposition: str, notes: str | None = None
    ) -> bool:
        """False when no interaction has this linkedid, or another agent handled it."""
        statement = (
            update(Interaction)
            .where(
                Interaction.linkedid == linkedid,
                or_(Interaction.agent.is_(None), Interaction.agent == agent),
            )
            .values(agent=agent, disposition=disposition[:64], notes=notes)
        )
        async with self.database.session() as session:
            result = await session.execute(statement)
            await session.commit()
        return _rowcount(result) > 0


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
