"""`OwnRecords`: what Tamas itself keeps about callers, whatever core system holds the rest —
complaints and callback requests, kept as cases (`cases.caller_requests`), and the interaction
records of calls through their one owner, `interactions.records`.

One read style: Core statements selecting the view's columns, on a bare connection without
BEGIN/ROLLBACK (`Database.autocommit`), rows turned into frozen views by `rows.py`. Writes go
through an ORM session. Every adapter keeps these records here: `SqlCustomerFile` and
`RestCustomerFile` both hold an `OwnRecords` and answer the port's methods on these records
from it (`OwnRecordsMethods`, one line a method).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncConnection

from cases import types as case_types
from cases.caller_requests import (
    CALLBACK_KINDS,
    Callback,
    CallerRequests,
    Complaint,
    RequestError,
)
from cases.store import CaseChannel, CaseError
from cases.types import CaseFieldError, CaseTypes
from customer_file.identifiers import ascii_digits, normalize_phone, try_normalize_phone
from customer_file.port import CustomerFileError
from customer_file.views import (
    CallbackTaskView,
    ComplaintView,
    CustomerFileView,
    CustomerSummary,
    InteractionView,
)
from integrations.customer_file.rows import utc
from integrations.customer_file.stores import Store, answered_by
from integrations.database import Database
from interactions.records import InteractionRecords

log = logging.getLogger(__name__)
# How many of a customer's calls the agent's popup file shows.
RECENT_CALLS_ON_FILE = 10


def _channel(channel: str | None, linkedid: str | None) -> CaseChannel:
    """The channel a request came by: as its caller said, else a call's (it has a linkedid)
    or the desktop's."""
    if channel is not None:
        return CaseChannel(channel)
    return CaseChannel.IVR if linkedid else CaseChannel.DESKTOP


def configured_case_types(settings: Any) -> CaseTypes | None:
    """The case types file the settings name (`cases_types_path`), for the complaints and
    callbacks an adapter's `OwnRecords` opens; None: the shipped cases/types.yaml."""
    path = getattr(settings, "cases_types_path", "") or ""
    return case_types.load(Path(path)) if path else None


@contextmanager
def _as_customer_file_error() -> Iterator[None]:
    """The port's one error for a request that cannot be made, whatever refused it."""
    try:
        yield
    except (RequestError, CaseError, CaseFieldError) as error:
        raise CustomerFileError(str(error)) from error


class CustomerOwnRecords(NamedTuple):
    """What Tamas keeps about one customer, as the agent's popup file shows it."""

    open_complaints: tuple[ComplaintView, ...]
    open_callback_tasks: tuple[CallbackTaskView, ...]
    recent_interactions: tuple[InteractionView, ...]


class OwnRecords(Store):
    """Complaints and callback requests (kept as cases: `cases.caller_requests`) and interaction
    records, in our own tables."""

    def __init__(
        self, database: Database, region: str = "IR", cases: CaseTypes | None = None
    ) -> None:
        super().__init__(database, region)
        self.interactions = InteractionRecords(database)
        self._case_types = cases
        self._requests: CallerRequests | None = None
        # Who a request's customer is (tier, language), from the adapter's customer records:
        # set by the adapter holding this store; None, the case is opened without them.
        self.customer_lookup: Callable[[int], Awaitable[CustomerSummary | None]] | None = None

    # --- the agent's popup file ------------------------------------------------------

    async def for_customer(
        self, customer_id: int, connection: AsyncConnection | None = None
    ) -> CustomerOwnRecords:
        """Open complaints, open callback tasks and the last calls of a customer: three
        indexed reads, on `connection` when the caller reads the rest of the file on it."""
        if connection is None:
            async with self._reading() as reader:
                return await self.for_customer(customer_id, reader)
        complaints, callbacks = await self.requests.open_for_customer(customer_id, connection)
        calls = await self.interactions.recent_for_customer(
            customer_id, RECENT_CALLS_ON_FILE, reader=connection
        )
        return CustomerOwnRecords(
            tuple(complaints),
            tuple(callbacks),
            tuple(calls),
        )

    async def add_to_file(
        self, file: CustomerFileView, connection: AsyncConnection | None = None
    ) -> CustomerFileView:
        """The file with Tamas's own records of its customer in place of whatever it had."""
        own = await self.for_customer(file.customer.id, connection)
        return dataclasses.replace(file, **own._asdict())

    # --- requests callers leave ------------------------------------------------------

    @property
    def requests(self) -> CallerRequests:
        """Complaints and callbacks, kept as cases (built on first use: the case types file)."""
        if self._requests is None:
            self._requests = CallerRequests(self.database, self._case_types or case_types.load())
        return self._requests

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
        channel: str | None = None,
    ) -> str:
        if kind not in CALLBACK_KINDS:
            raise CustomerFileError(f"callback kind must be one of {', '.join(CALLBACK_KINDS)}")
        keyed_policy = ascii_digits(policy_number).strip()[:32] if policy_number else None
        e164 = normalize_phone(phone, self.region)
        customer = await self._customer(customer_id)
        callback = Callback(
            kind,
            e164,
            customer_id=customer_id,
            policy_number=keyed_policy or None,
            due_at=None if due_at is None else utc(due_at),
            note=note,
            linkedid=linkedid,
            tier=customer.tier if customer else None,
            language=customer.language if customer else None,
        )
        with _as_customer_file_error():
            return await self.requests.request_callback(callback, _channel(channel, linkedid))

    async def callback_tasks_for_agent(
        self, agent: str, include_unassigned: bool = True, limit: int = 50
    ) -> list[CallbackTaskView]:
        return await self.requests.callbacks_for_agent(agent, include_unassigned, limit)

    async def update_callback_task(self, tracking_number: str, agent: str, status: str) -> bool:
        with _as_customer_file_error():
            return await self.requests.update_callback(tracking_number, agent, status)

    async def create_complaint(
        self,
        category: str,
        *,
        customer_id: int | None = None,
        caller_number: str | None = None,
        recording_path: str | None = None,
        description: str | None = None,
        linkedid: str | None = None,
        channel: str | None = None,
    ) -> str:
        caller = try_normalize_phone(caller_number, self.region) if caller_number else None
        customer = await self._customer(customer_id)
        complaint = Complaint(
            category,
            customer_id=customer_id,
            caller_number=caller,
            recording_path=recording_path,
            description=description,
            linkedid=linkedid,
            tier=customer.tier if customer else None,
            language=customer.language if customer else None,
        )
        with _as_customer_file_error():
            return await self.requests.file_complaint(complaint, _channel(channel, linkedid))

    async def complaint_status(self, tracking_number: str) -> ComplaintView | None:
        return await self.requests.complaint(tracking_number)

    async def _customer(self, customer_id: int | None) -> CustomerSummary | None:
        if customer_id is None or self.customer_lookup is None:
            return None
        try:
            return await self.customer_lookup(customer_id)
        except CustomerFileError as error:
            # The core system is down: the request is still taken, routed without the tier.
            log.warning("customer %s not read for a request's routing: %s", customer_id, error)
            return None

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
