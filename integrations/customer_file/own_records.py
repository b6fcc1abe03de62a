"""`OwnRecords`: what Tamas itself keeps about callers, whatever core system holds the rest —
complaints and callback tasks in our own tables, and the interaction records of calls through
their one owner, `interactions.records`.

One read style: Core statements selecting the view's columns, on a bare connection without
BEGIN/ROLLBACK (`Database.autocommit`), rows turned into frozen views by `rows.py`. Writes go
through an ORM session. Every adapter keeps these records here: `SqlCustomerFile` and
`RestCustomerFile` both hold an `OwnRecords` and answer the port's methods on these records
from it (`OwnRecordsMethods`, one line a method).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import NamedTuple, TypeVar

from sqlalchemy import Integer, bindparam, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from customer_file.identifiers import (
    ascii_digits,
    compact_digits,
    normalize_phone,
    try_normalize_phone,
)
from customer_file.port import CustomerFileError
from customer_file.views import (
    CallbackTaskView,
    ComplaintView,
    CustomerFileView,
    InteractionView,
)
from integrations.customer_file.rows import (
    CALLBACK_COLUMNS,
    COMPLAINT_COLUMNS,
    callback_view,
    complaint_view,
    one_of,
    utc,
)
from integrations.customer_file.service_requests import (
    CALLBACK_KINDS,
    CALLBACK_STATUSES,
    COMPLAINT_CATEGORIES,
    OPEN_CALLBACK_STATUSES,
    OPEN_COMPLAINT_STATUSES,
    CallbackTask,
    Complaint,
)
from integrations.customer_file.stores import Store, answered_by
from integrations.database import Database
from interactions.records import InteractionRecords

# Tracking numbers are 8 digits a caller can key and hear; the first digit tells the kind,
# so the complaint-status menu can reject a callback number at once.
COMPLAINT_PREFIX = "7"
CALLBACK_PREFIX = "5"
_TRACKING_ATTEMPTS = 8
# How many of a customer's calls the agent's popup file shows.
RECENT_CALLS_ON_FILE = 10

_CUSTOMER_ID = bindparam("customer_id", type_=Integer)
# Three statements of the agent's popup file, run on the file's connection (see
# `OwnRecords.add_to_file`): built once, SQLAlchemy caches their compiled form.
_OPEN_COMPLAINTS = (
    select(*COMPLAINT_COLUMNS)
    .where(
        Complaint.customer_id == _CUSTOMER_ID,
        one_of(Complaint.status, OPEN_COMPLAINT_STATUSES),
    )
    .order_by(Complaint.created_at.desc(), Complaint.id.desc())
)
_OPEN_CALLBACK_TASKS = (
    select(*CALLBACK_COLUMNS)
    .where(
        CallbackTask.customer_id == _CUSTOMER_ID,
        one_of(CallbackTask.status, OPEN_CALLBACK_STATUSES),
    )
    .order_by(CallbackTask.created_at.desc(), CallbackTask.id.desc())
)
Tracked = TypeVar("Tracked", CallbackTask, Complaint)


def _now() -> datetime:
    return datetime.now(UTC)


class CustomerOwnRecords(NamedTuple):
    """What Tamas keeps about one customer, as the agent's popup file shows it."""

    open_complaints: tuple[ComplaintView, ...]
    open_callback_tasks: tuple[CallbackTaskView, ...]
    recent_interactions: tuple[InteractionView, ...]


class OwnRecords(Store):
    """Complaints, callback tasks and interaction records, in our own tables."""

    def __init__(self, database: Database, region: str = "IR") -> None:
        super().__init__(database, region)
        self.interactions = InteractionRecords(database)

    # --- the agent's popup file ------------------------------------------------------

    async def for_customer(
        self, customer_id: int, connection: AsyncConnection | None = None
    ) -> CustomerOwnRecords:
        """Open complaints, open callback tasks and the last calls of a customer: three
        indexed reads, on `connection` when the caller reads the rest of the file on it."""
        if connection is None:
            async with self._reading() as reader:
                return await self.for_customer(customer_id, reader)
        key = {"customer_id": customer_id}
        complaints = (await connection.execute(_OPEN_COMPLAINTS, key)).all()
        tasks = (await connection.execute(_OPEN_CALLBACK_TASKS, key)).all()
        calls = await self.interactions.recent_for_customer(
            customer_id, RECENT_CALLS_ON_FILE, reader=connection
        )
        return CustomerOwnRecords(
            tuple(complaint_view(complaint) for complaint in complaints),
            tuple(callback_view(task) for task in tasks),
            tuple(calls),
        )

    async def add_to_file(
        self, file: CustomerFileView, connection: AsyncConnection | None = None
    ) -> CustomerFileView:
        """The file with Tamas's own records of its customer in place of whatever it had."""
        own = await self.for_customer(file.customer.id, connection)
        return dataclasses.replace(file, **own._asdict())

    # --- requests callers leave ------------------------------------------------------

    async def _insert_tracked(self, prefix: str, make: Callable[[str], Tracked]) -> str:
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

        existing = await self._open_callback_task(e164, kind)
        if existing is not None:
            return existing
        try:
            return await self._insert_tracked(CALLBACK_PREFIX, make)
        except CustomerFileError:
            # The same request made at the same moment by another call of this number.
            existing = await self._open_callback_task(e164, kind)
            if existing is None:
                raise
            return existing

    async def _open_callback_task(self, phone: str, kind: str) -> str | None:
        """The tracking number of this number's open request of this kind, if any."""
        statement = select(CallbackTask.tracking_number).where(
            CallbackTask.phone == phone,
            CallbackTask.kind == kind,
            CallbackTask.status.in_(OPEN_CALLBACK_STATUSES),
        )
        async with self._reading() as connection:
            return (await connection.execute(statement)).scalar_one_or_none()

    async def callback_tasks_for_agent(
        self, agent: str, include_unassigned: bool = True, limit: int = 50
    ) -> list[CallbackTaskView]:
        mine = CallbackTask.assigned_agent == agent
        who = or_(mine, CallbackTask.assigned_agent.is_(None)) if include_unassigned else mine
        statement = (
            select(*CALLBACK_COLUMNS)
            .where(CallbackTask.status.in_(OPEN_CALLBACK_STATUSES), who)
            .order_by(
                CallbackTask.due_at.is_(None),
                CallbackTask.due_at,
                CallbackTask.created_at,
                CallbackTask.id,
            )
            .limit(limit)
        )
        async with self._reading() as connection:
            tasks = (await connection.execute(statement)).all()
        return [callback_view(task) for task in tasks]

    async def update_callback_task(self, tracking_number: str, agent: str, status: str) -> bool:
        if status not in CALLBACK_STATUSES or status == "open":
            raise CustomerFileError("a task can be assigned, done or cancelled")
        statement = (
            update(CallbackTask)
            .where(
                CallbackTask.tracking_number == compact_digits(tracking_number),
                or_(CallbackTask.assigned_agent.is_(None), CallbackTask.assigned_agent == agent),
            )
            .values(assigned_agent=agent, status=status)
        )
        return await self.database.write(statement) > 0

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
        statement = select(*COMPLAINT_COLUMNS).where(
            Complaint.tracking_number == compact_digits(tracking_number)
        )
        async with self._reading() as connection:
            complaint = (await connection.execute(statement)).first()
        return None if complaint is None else complaint_view(complaint)

    # --- interactions: read and written by their one owner ------------------------------

    async def recent_interactions(self, customer_id: int, limit: int = 10) -> list[InteractionView]:
        return await self.interactions.recent_for_customer(customer_id, limit)

    async def interactions_for_agent(self, agent: str, limit: int = 20) -> list[InteractionView]:
        return await self.interactions.for_agent(agent, limit)

    async def save_disposition(
        self, linkedid: str, agent: str, disposition: str, notes: str | None = None
    ) -> bool:
        """False when no interaction has this linkedid, or another agent handled it."""
        return await self.interactions.save_disposition(linkedid, agent, disposition, notes)


class OwnRecordsMethods:
    """The `CustomerFile` methods on Tamas's own records, answered by the adapter's
    `own_records` store: an adapter for a core system gets them by holding an `OwnRecords`."""

    own_records: OwnRecords

    create_callback_task = answered_by("own_records", OwnRecords.create_callback_task)
    callback_tasks_for_agent = answered_by("own_records", OwnRecords.callback_tasks_for_agent)
    update_callback_task = answered_by("own_records", OwnRecords.update_callback_task)
    create_complaint = answered_by("own_records", OwnRecords.create_complaint)
    complaint_status = answered_by("own_records", OwnRecords.complaint_status)
    recent_interactions = answered_by("own_records", OwnRecords.recent_interactions)
    interactions_for_agent = answered_by("own_records", OwnRecords.interactions_for_agent)
    save_disposition = answered_by("own_records", OwnRecords.save_disposition)
