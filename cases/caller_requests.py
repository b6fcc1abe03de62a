"""Complaints and callback requests as cases: what the IVR, the text service, the wallboard and the
dialer's "press 2" ask for through the customer file's port, opened as complaint, callback and
renewal_callback cases, with the little a caller's request adds to its case (its kind, the
number to call, the recording, the tracking number of the old tables) in `caller_requests`.

One open callback request per number and kind is the database's rule, not a read-then-write:
a request first claims its key (`open_key`, unique) and only the claimant opens the case; the
key is released when the request is done, cancelled or its case closed by any other way.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Mapped, mapped_column

from cases.store import CaseChannel, CaseRequest, CaseStore, TimelineKind
from cases.tables import CaseRow, CaseTaskRow
from cases.tasks import CaseTasks
from cases.tracking import canonical_tracking_number
from cases.types import CaseTypes
from customer_file.identifiers import compact_digits
from customer_file.views import CallbackTaskView, ComplaintView
from dialer.windows import DaysOff
from integrations.database import Base, Database, UtcDateTime

CALLBACK_KINDS = ("renewal", "callback", "quote", "claim_followup", "cancellation")
COMPLAINT_CATEGORIES = ("claim", "service", "agent_conduct", "billing", "other")
COMPLAINT_STATUSES = ("received", "in_review", "waiting_customer", "resolved", "rejected")
CALLBACK_TYPES = ("callback", "renewal_callback")
COMPLAINT_TYPE = "complaint"
# The complaint type's categories (cases/types.yaml) for the IVR's.
CASE_CATEGORY = {
    "claim": "claim_payment",
    "service": "service",
    "agent_conduct": "staff",
    "billing": "premium",
    "other": "other",
}
IVR_CATEGORY = {case: ivr for ivr, case in CASE_CATEGORY.items()}
# A callback kind's reason on a callback case (renewal with a policy number: renewal_callback).
CALLBACK_REASON = {
    "renewal": "renewal",
    "callback": "general",
    "quote": "sales",
    "claim_followup": "claim",
    "cancellation": "general",
}
# What the IVR says of a complaint in each ISO 10002 state (prompts complaint_status_*).
COMPLAINT_STATUS = {
    "received": "received",
    "acknowledged": "in_review",
    "assessed": "in_review",
    "investigating": "in_review",
    "waiting_customer": "waiting_customer",
    "responded": "resolved",
    "communicated": "resolved",
    "closed": "resolved",
}
# A claimant that died between claiming a key and opening its case leaves the key claimed but
# empty; after this long another request takes it over.
STALE_CLAIM = timedelta(seconds=30)
# How long a repeat request waits for the claimant's case (20 at once on SQLite: ~2 s).
CLAIM_WAIT_S = 15.0
_POLL_S = 0.05
# The remedy a voice complaint seeks is in the recording: a language-free placeholder.
REMEDY_IN_RECORDING = "—"


class RequestError(ValueError):
    """A caller's request that cannot be made; the message says why."""


class CallerRequestRow(Base):
    __tablename__ = "caller_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Set once the claimant has opened it; unique: a case is one request.
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), unique=True
    )
    # callback:<E.164>:<kind> while the request is open, NULL after (NULLs never clash).
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A callback's kind, or the complaint's category as the IVR names it.
    kind: Mapped[str] = mapped_column(String(16))
    phone: Mapped[str | None] = mapped_column(String(16))  # E.164
    policy_number: Mapped[str | None] = mapped_column(String(32))
    # The caller's voice message, relative to the recordings directory.
    recording_path: Mapped[str | None] = mapped_column(String(300))
    linkedid: Mapped[str | None] = mapped_column(String(64))
    # The callback's task on the case (its control date is the callback's due time).
    task_id: Mapped[int | None] = mapped_column(ForeignKey("case_tasks.id", ondelete="SET NULL"))
    # The agent who took the callback: taking is compare-and-set on this column.
    taken_by: Mapped[str | None] = mapped_column(String(32))
    # How it ended where the case's state does not say: done, cancelled; rejected (complaint).
    outcome: Mapped[str | None] = mapped_column(String(16))
    # The 8-digit number of the complaints or callback_tasks row it was (migration 0023).
    legacy_number: Mapped[str | None] = mapped_column(String(16), unique=True)
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)


@dataclasses.dataclass(frozen=True)
class Callback:
    """A callback request as its caller made it."""

    kind: str
    phone: str  # E.164
    customer_id: int | None = None
    policy_number: str | None = None
    due_at: datetime | None = None
    note: str | None = None
    linkedid: str | None = None
    # The customer's tier and language, when known: routing (a gold customer's request) and
    # the language the case is kept in.
    tier: str | None = None
    language: str | None = None


@dataclasses.dataclass(frozen=True)
class Complaint:
    category: str  # one of COMPLAINT_CATEGORIES
    customer_id: int | None = None
    caller_number: str | None = None  # E.164
    recording_path: str | None = None
    description: str | None = None
    linkedid: str | None = None
    tier: str | None = None
    language: str | None = None


_R = CallerRequestRow
_CALLBACK_COLUMNS = (
    CaseRow.tracking_number,
    _R.kind,
    CaseRow.type,
    CaseRow.status,
    CaseRow.owner,
    CaseRow.customer_id,
    _R.phone,
    CaseRow.phone.label("case_phone"),
    _R.policy_number,
    CaseRow.fields,
    CaseTaskRow.control_at,
    CaseRow.opened_at,
    CaseRow.summary,
    _R.outcome,
)
_COMPLAINT_COLUMNS = (
    CaseRow.tracking_number,
    _R.kind,
    CaseRow.fields,
    CaseRow.state,
    CaseRow.status,
    CaseRow.customer_id,
    CaseRow.opened_at,
    CaseRow.updated_at,
    _R.recording_path,
    _R.outcome,
)


def callback_view(row: Any) -> CallbackTaskView:
    """The desktop's view of a callback case (one opened on the cases page has no request row:
    its kind follows from its type and reason)."""
    fields = row.fields or {}
    kind = row.kind or ("renewal" if row.type == "renewal_callback" else "callback")
    if row.status == "open":
        status = "assigned" if row.owner else "open"
    else:
        status = row.outcome or "done"
    return CallbackTaskView(
        tracking_number=row.tracking_number,
        kind=kind,
        status=status,
        customer_id=row.customer_id,
        phone=row.phone or row.case_phone or fields.get("phone") or "",
        policy_number=row.policy_number or fields.get("policy_number"),
        assigned_agent=row.owner,
        due_at=row.control_at,
        created_at=row.opened_at,
        note=row.summary or None,
    )


def complaint_view(row: Any) -> ComplaintView:
    if row.outcome == "rejected":
        status = "rejected"
    else:
        status = COMPLAINT_STATUS.get(row.state, "in_review")
    category = row.kind or IVR_CATEGORY.get((row.fields or {}).get("category", ""), "other")
    return ComplaintView(
        tracking_number=row.tracking_number,
        category=category,
        status=status,
        customer_id=row.customer_id,
        created_at=row.opened_at,
        updated_at=row.updated_at,
        resolution=None,
        has_recording=bool(row.recording_path),
    )


def _callbacks() -> Any:
    return (
        select(*_CALLBACK_COLUMNS)
        .select_from(CaseRow)
        .outerjoin(_R, _R.case_id == CaseRow.id)
        .outerjoin(CaseTaskRow, CaseTaskRow.id == _R.task_id)
        .where(CaseRow.type.in_(CALLBACK_TYPES))
    )


def _complaints() -> Any:
    return (
        select(*_COMPLAINT_COLUMNS)
        .select_from(CaseRow)
        .outerjoin(_R, _R.case_id == CaseRow.id)
        .where(CaseRow.type == COMPLAINT_TYPE)
    )


def _by_number(query: Any, tracking_number: str) -> Any:
    """A case by its tracking number, or by the number its old complaint or task had."""
    number = canonical_tracking_number(tracking_number)
    if number is not None:
        return query.where(CaseRow.tracking_number == number)
    return query.where(_R.legacy_number == compact_digits(tracking_number))


def _now() -> datetime:
    return datetime.now(UTC)


class CallerRequests:
    """Complaints and callback requests, opened and worked as cases."""

    def __init__(
        self,
        database: Database,
        case_types: CaseTypes,
        holidays: DaysOff | None = None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.database = database
        self.store = CaseStore(database, case_types, holidays, clock)
        self.tasks = CaseTasks(database, clock)
        self.clock = clock

    # --- callbacks -----------------------------------------------------------------------

    async def request_callback(self, callback: Callback, channel: CaseChannel) -> str:
        """The tracking number of this number's open request of this kind, or of a new one."""
        if callback.kind not in CALLBACK_KINDS:
            raise RequestError(f"callback kind must be one of {', '.join(CALLBACK_KINDS)}")
        key = f"callback:{callback.phone}:{callback.kind}"
        waited_until = asyncio.get_running_loop().time() + CLAIM_WAIT_S
        while True:
            number = await self._open_request(key)
            if number:
                return number
            if number is None:
                claim = await self._claim(key, callback)
                if claim is not None:
                    return await self._open_callback(claim, callback, channel)
            # Another request holds the key and is opening its case: wait for its number.
            if asyncio.get_running_loop().time() > waited_until:
                raise RequestError("another request from this number is being saved; try again")
            await asyncio.sleep(_POLL_S)

    async def _open_request(self, key: str) -> str | None:
        """The open request's tracking number; "" while its claimant is opening the case; None
        when the key is free (a stale claim or a closed case's key released on the way)."""
        query = (
            select(
                _R.id,
                _R.case_id,
                _R.task_id,
                _R.claimed_at,
                CaseRow.tracking_number,
                CaseRow.status,
            )
            .select_from(_R)
            .outerjoin(CaseRow, CaseRow.id == _R.case_id)
            .where(_R.open_key == key)
        )
        async with self.database.autocommit() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        if row.case_id is None:
            if self.clock() - row.claimed_at < STALE_CLAIM:
                return ""
            await self.database.write(delete(_R).where(_R.id == row.id, _R.case_id.is_(None)))
            return None
        if row.status == "open":
            return str(row.tracking_number)
        # Closed on the cases page (or by a partner): the caller may ask again, and the
        # callback's task no longer waits in the team's list.
        await self.database.write(update(_R).where(_R.id == row.id).values(open_key=None))
        if row.task_id is not None:
            await self.tasks.complete(row.task_id, "system")
        return None

    async def _claim(self, key: str, callback: Callback) -> int | None:
        row = _R(
            open_key=key,
            kind=callback.kind,
            phone=callback.phone,
            policy_number=callback.policy_number,
            linkedid=callback.linkedid,
            claimed_at=self.clock(),
        )
        async with self.database.session() as session:
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                return None
            return row.id

    async def _open_callback(self, claim: int, callback: Callback, channel: CaseChannel) -> str:
        renewal = callback.kind == "renewal" and bool(callback.policy_number)
        fields = (
            {"policy_number": callback.policy_number}
            if renewal
            else {"reason": CALLBACK_REASON[callback.kind], "phone": callback.phone}
        )
        request = CaseRequest(
            type="renewal_callback" if renewal else "callback",
            channel=channel,
            actor=_actor(channel),
            summary=callback.note or "",
            fields=fields,
            phone=callback.phone,
            customer_id=callback.customer_id,
            tier=callback.tier,
            language=callback.language,
        )
        try:
            case = await self.store.open_case(request)
            control_at = callback.due_at or case.first_response_due_at or case.opened_at
            task = await self.tasks.add(case.tracking_number, callback.kind, control_at)
        except Exception:
            await self.database.write(delete(_R).where(_R.id == claim))
            raise
        await self.database.write(
            update(_R).where(_R.id == claim).values(case_id=case.id, task_id=task.id)
        )
        return case.tracking_number

    async def callbacks_for_agent(
        self, agent: str, include_unassigned: bool = True, limit: int = 50
    ) -> list[CallbackTaskView]:
        """Open callback cases owned by `agent` (and nobody's), soonest due first."""
        mine = CaseRow.owner == agent
        query = (
            _callbacks()
            .where(
                CaseRow.status == "open",
                or_(mine, CaseRow.owner.is_(None)) if include_unassigned else mine,
            )
            .order_by(
                CaseTaskRow.control_at.is_(None),
                CaseTaskRow.control_at,
                CaseRow.opened_at,
                CaseRow.id,
            )
            .limit(limit)
        )
        async with self.database.autocommit() as connection:
            rows = (await connection.execute(query)).all()
        return [callback_view(row) for row in rows]

    async def update_callback(self, tracking_number: str, agent: str, status: str) -> bool:
        """An agent takes a callback ("assigned") or finishes it ("done", "cancelled"). False
        when there is no such open callback, or another agent holds it."""
        if status not in ("assigned", "done", "cancelled"):
            raise RequestError("a task can be assigned, done or cancelled")
        query = _by_number(
            select(CaseRow.tracking_number, CaseRow.owner, CaseRow.state, _R.id, _R.task_id)
            .select_from(CaseRow)
            .outerjoin(_R, _R.case_id == CaseRow.id)
            .where(CaseRow.type.in_(CALLBACK_TYPES), CaseRow.status == "open"),
            tracking_number,
        )
        async with self.database.autocommit() as connection:
            found = (await connection.execute(query)).first()
        if found is None:
            return False
        number, owner, state, request_id, task_id = found
        if owner not in (None, agent):
            return False
        if request_id is not None:
            # Two agents taking the same callback at once: one wins.
            taken = await self.database.write(
                update(_R)
                .where(_R.id == request_id, or_(_R.taken_by.is_(None), _R.taken_by == agent))
                .values(taken_by=agent)
            )
            if taken == 0 and owner != agent:
                return False
        actor = f"agent:{agent}"
        if owner != agent:
            await self.store.assign(number, actor, owner=agent)
        if status == "assigned":
            return True
        end_state = "resolved" if status == "done" else "closed"
        if state != end_state:
            await self.store.move(number, end_state, actor, note=status)
        if task_id is not None:
            await self.tasks.complete(task_id, agent)
        if request_id is not None:
            await self.database.write(
                update(_R).where(_R.id == request_id).values(open_key=None, outcome=status)
            )
        return True

    # --- complaints ----------------------------------------------------------------------

    async def file_complaint(self, complaint: Complaint, channel: CaseChannel) -> str:
        if complaint.category not in COMPLAINT_CATEGORIES:
            raise RequestError(
                f"complaint category must be one of {', '.join(COMPLAINT_CATEGORIES)}"
            )
        request = CaseRequest(
            type=COMPLAINT_TYPE,
            channel=channel,
            actor=_actor(channel),
            summary=complaint.description or "",
            fields={
                "category": CASE_CATEGORY[complaint.category],
                "remedy_sought": complaint.description or REMEDY_IN_RECORDING,
            },
            phone=complaint.caller_number,
            customer_id=complaint.customer_id,
            tier=complaint.tier,
            language=complaint.language,
            attachment=complaint.recording_path,
        )
        case = await self.store.open_case(request)
        async with self.database.session() as session:
            session.add(
                _R(
                    case_id=case.id,
                    kind=complaint.category,
                    phone=complaint.caller_number,
                    recording_path=complaint.recording_path,
                    linkedid=complaint.linkedid,
                    claimed_at=case.opened_at,
                )
            )
            await session.commit()
        if complaint.linkedid:
            await self.store.record(
                case.tracking_number,
                TimelineKind.CALL,
                "ivr",
                data={"linkedid": complaint.linkedid, "direction": "inbound"},
            )
        return case.tracking_number

    async def complaint(self, tracking_number: str) -> ComplaintView | None:
        """A complaint by its case number or the number the old complaints table gave it."""
        query = _by_number(_complaints(), tracking_number)
        async with self.database.autocommit() as connection:
            row = (await connection.execute(query)).first()
        return None if row is None else complaint_view(row)

    # --- the agent's popup file ----------------------------------------------------------

    async def open_for_customer(
        self, customer_id: int, connection: AsyncConnection
    ) -> tuple[Sequence[ComplaintView], Sequence[CallbackTaskView]]:
        """A customer's open complaints and callbacks, newest first, on the file's connection."""
        complaints = await connection.execute(
            _complaints()
            .where(CaseRow.customer_id == customer_id, CaseRow.status == "open")
            .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
        )
        callbacks = await connection.execute(
            _callbacks()
            .where(CaseRow.customer_id == customer_id, CaseRow.status == "open")
            .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
        )
        return (
            [complaint_view(row) for row in complaints.all()],
            [callback_view(row) for row in callbacks.all()],
        )

    async def open_callbacks(self) -> int:
        """How many callback cases are open (tests, the demo's check)."""
        query = (
            select(func.count())
            .select_from(CaseRow)
            .where(CaseRow.type.in_(CALLBACK_TYPES), CaseRow.status == "open")
        )
        async with self.database.autocommit() as connection:
            return int((await connection.execute(query)).scalar_one())


def _actor(channel: CaseChannel) -> str:
    return "ivr" if channel == CaseChannel.IVR else "system"
