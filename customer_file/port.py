"""The one interface the rest of Tamas reads the customer file through.

The IVR, the agent popup and the dialer never touch tables: they call a `CustomerFile`.
`SqlCustomerFile` (integrations.customer_file.sql) implements it on our own tables and is the
default. An insurer points Tamas at its own core system by writing one class with these
methods — over SQL views of its database, or over its REST services with aiohttp — and
naming its factory in the `customer_file_adapter` setting (see
integrations.customer_file.adapters.open_customer_file); no menu changes.

Every method is async, returns the frozen views of customer_file.views (never
ORM objects), returns None (or an empty list) when nothing matches, and raises
`customer_file.identifiers.InvalidIdentifier` (a ValueError naming the field) for malformed
input. A slow core system should be awaited with a timeout by the caller
(`asyncio.timeout`), which then speaks a polite fallback.

Interactions, complaints and callback tasks are written by Tamas itself; an adapter for a
core system that does not keep them holds an `OwnRecords` store and inherits the methods
answering from it (`OwnRecordsMethods`, integrations.customer_file.own_records). The
contract every adapter keeps is a test suite: tests/customer_file_contract.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

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
)


class CustomerFileError(Exception):
    """The customer file cannot do what was asked; the message says why."""


class DuplicateCustomer(CustomerFileError):
    """Registering a customer whose national ID, company ID or phone is already on file."""

    def __init__(self, field: str) -> None:
        self.field = field
        super().__init__(f"a customer with this {field} is already on file")


@runtime_checkable
class CustomerFile(Protocol):
    # --- finding and identifying customers -------------------------------------------
    async def customer_by_phone(self, phone: str) -> CustomerSummary | None:
        """The customer owning this number (E.164 or as dialled; unparseable -> None).
        The hottest query: one indexed equality lookup."""
        ...

    async def customer_by_national_id(self, national_id: str) -> CustomerSummary | None:
        """By the 10-digit national ID or the 11-digit company ID."""
        ...

    async def customer_by_policy_number(self, policy_number: str) -> CustomerSummary | None:
        """The holder of a policy (callers may identify by policy number)."""
        ...

    async def customer(self, customer_id: int) -> CustomerSummary | None: ...

    async def customer_file(self, customer_id: int) -> CustomerFileView | None:
        """Everything the agent's popup shows about one customer."""
        ...

    async def search_customers(self, text: str, limit: int = 20) -> list[CustomerSummary]:
        """The agent's search box: a phone, national/company ID, policy number, claim
        tracking code, or names: each word typed is the start of a given or family name,
        Persian or Latin (`محمد`, `ali moh`)."""
        ...

    async def register_customer(self, registration: CustomerRegistration) -> CustomerSummary:
        """Raises InvalidIdentifier for a bad identifier, DuplicateCustomer if on file."""
        ...

    async def verify_customer_pin(self, customer_id: int, pin: str) -> bool:
        """False for a wrong PIN or a customer without one. Rate limiting is the caller's."""
        ...

    async def set_customer_pin(self, customer_id: int, pin: str) -> None: ...

    # --- claims, policies, debts -----------------------------------------------------
    async def claim_by_tracking_code(self, tracking_code: str) -> ClaimStatus | None: ...

    async def policy_for_authenticity(self, number_or_code: str) -> PolicyAuthenticity:
        """By policy number or authenticity code; `genuine=False` when neither matches."""
        ...

    async def debts(self, customer_id: int) -> DebtView: ...

    # --- places ----------------------------------------------------------------------
    async def branches_near(self, postal_code: str, limit: int = 3) -> list[BranchView]:
        """Nearest branches and agencies to the postal area of a 10-digit postal code,
        closest first, with `distance_km`. [] when the area is unknown."""
        ...

    async def medical_centres(self, city: str | None = None) -> list[CentreView]: ...

    async def payment_centres(self, city: str | None = None) -> list[CentreView]: ...

    # --- shareholders ----------------------------------------------------------------
    async def shareholder(self, shareholder_number: str) -> ShareholderView | None: ...

    async def verify_shareholder_pin(self, shareholder_number: str, pin: str) -> bool: ...

    async def next_general_meeting(
        self, after: datetime | None = None
    ) -> GeneralMeetingView | None:
        """The first meeting held after `after` (default: now)."""
        ...

    # --- requests callers leave ------------------------------------------------------
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
        """A callback case for an expert to call back (renewal request...); returns its
        tracking number (digits the caller hears). One open request of a kind per phone number:
        asked again while one is open, it returns that request's number and opens no new case.
        `channel`: a `cases.store.CaseChannel` value (sms, dialer...); by default a call's
        (ivr) when there is a linkedid, else the desktop's."""
        ...

    async def callback_tasks_for_agent(
        self, agent: str, include_unassigned: bool = True, limit: int = 50
    ) -> list[CallbackTaskView]:
        """Open tasks assigned to `agent` (and unassigned ones), soonest due first."""
        ...

    async def update_callback_task(self, tracking_number: str, agent: str, status: str) -> bool:
        """An agent takes a task ("assigned") or finishes it ("done", "cancelled").
        False when no such task, or another agent holds it."""
        ...

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
        """Opens a complaint case (ISO 10002); returns its tracking number. `channel` as for
        `create_callback_task`."""
        ...

    async def complaint_status(self, tracking_number: str) -> ComplaintView | None: ...

    # --- interactions (calls) --------------------------------------------------------
    async def recent_interactions(
        self, customer_id: int, limit: int = 10
    ) -> list[InteractionView]: ...

    async def interactions_for_agent(self, agent: str, limit: int = 20) -> list[InteractionView]:
        """The agent's own recent calls, newest first."""
        ...

    async def save_disposition(
        self, linkedid: str, agent: str, disposition: str, notes: str | None = None
    ) -> bool:
        """Store the agent's disposition and notes on the call's interaction record.
        False when no interaction has this linkedid."""
        ...
