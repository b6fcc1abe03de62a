"""`CaseStore`: the one writer of cases and their timelines. Every channel opens a case through
`open_case` (IVR, desktop, SMS, email, web form, the dialer, the partner API); every step after
goes through a method here, which appends to the timeline and recomputes the case's deadlines
from it in the same transaction (so the row's `next_due_at`, which the scan reads, is never
stale).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cases.calendar import iranian_holidays
from cases.notices import CaseNotices, Contact, NotifyBy, Step
from cases.registry import CivilRegistry
from cases.sla import ClockEvent, ClockEventKind, Clocks, Sla, compute_clocks
from cases.tables import CaseEventRow, CaseRow
from cases.tracking import canonical_tracking_number, new_tracking_number
from cases.types import CaseType, CaseTypes, Workflow
from customer_file.identifiers import (
    mask_digits,
    normalize_phone,
    validate_company_id,
    validate_national_id,
)
from dialer.windows import DaysOff
from integrations.database import Database

CLOCK_KINDS = frozenset(kind.value for kind in ClockEventKind)
_TRACKING_ATTEMPTS = 8


class CaseChannel(StrEnum):
    IVR = "ivr"
    DESKTOP = "desktop"
    SMS = "sms"
    EMAIL = "email"
    FAX = "fax"
    WEB = "web"
    DIALER = "dialer"
    PARTNER = "partner"


class TimelineKind(StrEnum):
    """Timeline entries other than clock events (`ClockEventKind`)."""

    STATE = "state"
    NOTE = "note"
    CALL = "call"
    MESSAGE = "message"
    ATTACHMENT = "attachment"
    ASSIGNED = "assigned"
    FIELDS = "fields"
    ESCALATED = "escalated"
    SATISFACTION = "satisfaction"
    PROGRESS = "progress"
    IDENTITY = "identity"  # the civil registry's answer about the customer's national ID
    CENTRAL = "central"  # exported to / in step with the central complaint system


class CaseError(ValueError):
    """A request about a case that cannot be done; the message says why."""


class CaseNotFound(CaseError):
    pass


@dataclasses.dataclass(frozen=True)
class CaseRequest:
    """What any channel knows when it opens a case. `actor`: agent:101, ivr, partner:acme."""

    type: str
    channel: CaseChannel
    actor: str
    summary: str = ""
    fields: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    phone: str | None = None
    customer_id: int | None = None
    national_id: str | None = None
    company_id: str | None = None
    line: str | None = None
    region: str | None = None
    tier: str | None = None
    language: str | None = None
    partner: str | None = None
    attachment: str | None = None
    # How the customer wants to hear about the case (cases/notices.py).
    notify_by: NotifyBy = NotifyBy.SMS
    email: str | None = None


@dataclasses.dataclass(frozen=True)
class CaseView:
    id: int
    tracking_number: str
    type: str
    state: str
    status: str
    priority: str
    channel: str
    team: str
    owner: str | None
    partner: str | None
    customer_id: int | None
    phone: str | None
    national_id_masked: str | None
    summary: str
    fields: dict[str, Any]
    sla_name: str | None
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    next_due_at: datetime | None
    next_due_clock: str | None
    escalation_step: int
    breached: tuple[str, ...]
    satisfaction: int | None
    nps: int | None
    language: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        data["breached"] = list(self.breached)
        return data


@dataclasses.dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    actor: str
    note: str
    data: dict[str, Any]
    attachment: str | None


def case_view(row: CaseRow | Row[Any]) -> CaseView:
    """The view of a case from its ORM object or a plain row of the table (same names)."""
    return CaseView(
        row.id,
        row.tracking_number,
        row.type,
        row.state,
        row.status,
        row.priority,
        row.channel,
        row.team,
        row.owner,
        row.partner,
        row.customer_id,
        row.phone,
        mask_digits(row.national_id or row.company_id or "") or None,
        row.summary,
        dict(row.fields or {}),
        row.sla_name,
        row.opened_at,
        row.updated_at,
        row.resolved_at,
        row.first_response_due_at,
        row.resolution_due_at,
        row.next_due_at,
        row.next_due_clock,
        row.escalation_step,
        tuple(name for name in row.breached.split(",") if name),
        row.satisfaction,
        row.nps,
        language=row.language,
    )


def _sla_data(sla: Sla) -> dict[str, Any]:
    """The SLA as the timeline keeps it: its targets then, whatever types.yaml says later."""

    def seconds(span: timedelta | None) -> int | None:
        return None if span is None else int(span.total_seconds())

    return {
        "name": sla.name,
        "first_response_s": seconds(sla.first_response),
        "resolution_s": seconds(sla.resolution),
    }


def _sla_of(data: Mapping[str, Any]) -> Sla:
    def span(key: str) -> timedelta | None:
        value = data.get(key)
        return None if value is None else timedelta(seconds=int(value))

    return Sla(str(data.get("name", "")), span("first_response_s"), span("resolution_s"))


def _now() -> datetime:
    return datetime.now(UTC)


class CaseStore:
    """Cases and their timelines. `clock` is the store's notion of now (tests set it)."""

    def __init__(
        self,
        database: Database,
        case_types: CaseTypes,
        holidays: DaysOff | None = None,
        clock: Callable[[], datetime] = _now,
        registry: CivilRegistry | None = None,
        notices: CaseNotices | None = None,
    ) -> None:
        self.database = database
        self.types = case_types
        self.holidays = holidays if holidays is not None else iranian_holidays()
        self.clock = clock
        self.registry = registry
        self.notices = notices

    # --- opening -------------------------------------------------------------------------

    async def open_case(self, request: CaseRequest) -> CaseView:
        """Open a case from any channel: the identity checked, the fields validated, routed to a
        team (and a person when a rule names one), its SLA set and its clocks started."""
        case_type = self._type(request.type)
        fields = case_type.clean_fields(request.fields)
        national_id = request.national_id and validate_national_id(request.national_id)
        company_id = request.company_id and validate_company_id(request.company_id)
        phone = request.phone and normalize_phone(request.phone)
        routing = self.types.route(request.type, request.line, request.region, request.tier)
        # Asked before any row is written: an ID the registry does not know opens nothing.
        checked = None
        if self.registry is not None and national_id:
            checked = await self.registry.check(national_id)
        now = self.clock()
        for _ in range(_TRACKING_ATTEMPTS):
            row = CaseRow(
                tracking_number=new_tracking_number(),
                type=case_type.name,
                state=case_type.workflow.first_state,
                status="open",
                priority=routing.priority.value,
                channel=CaseChannel(request.channel).value,
                team=routing.team,
                owner=routing.person,
                partner=request.partner,
                customer_id=request.customer_id,
                national_id=national_id or None,
                company_id=company_id or None,
                phone=phone or None,
                language=request.language,
                line=request.line,
                region=request.region,
                tier=request.tier,
                summary=request.summary,
                fields=fields,
                sla_name=routing.sla.name,
                opened_at=now,
                updated_at=now,
                escalation_step=0,
                breached="",
            )
            async with self.database.session() as session:
                session.add(row)
                try:
                    await session.flush()
                except IntegrityError:  # the tracking number was taken: draw another
                    await session.rollback()
                    continue
                contact = {"channel": row.channel, "notify_by": NotifyBy(request.notify_by).value,
                           "email": request.email}  # fmt: skip
                self._append(session, row, ClockEventKind.OPENED, request.actor, now,
                             note=request.summary, data=contact,
                             attachment=request.attachment)  # fmt: skip
                self._append(session, row, ClockEventKind.SLA_SET, "system", now,
                             data=_sla_data(routing.sla))  # fmt: skip
                self._append(session, row, TimelineKind.ASSIGNED, "system", now,
                             data={"team": row.team, "owner": row.owner})  # fmt: skip
                if checked is not None:
                    self._append(session, row, TimelineKind.IDENTITY, "system:registry", now,
                                 checked.reason, dataclasses.asdict(checked))  # fmt: skip
                await self._recompute(session, row, now)
                await session.commit()
                view = case_view(row)
            await self._notify(view, Step.RECEIVED)
            if view.owner is not None:
                await self._notify(view, Step.ASSIGNED)
            return view
        raise CaseError("could not draw a free tracking number: try again")

    # --- reading -------------------------------------------------------------------------

    async def get(self, tracking_number: str) -> CaseView:
        async with self.database.session() as session:
            return case_view(await self._row(session, tracking_number))

    async def find(
        self,
        *,
        team: str | None = None,
        owner: str | None = None,
        partner: str | None = None,
        open_only: bool = True,
        limit: int = 100,
    ) -> list[CaseView]:
        """Cases, most urgent deadline first (those without one last, newest first)."""
        query = select(CaseRow)
        if team is not None:
            query = query.where(CaseRow.team == team)
        if owner is not None:
            query = query.where(CaseRow.owner == owner)
        if partner is not None:
            query = query.where(CaseRow.partner == partner)
        if open_only:
            query = query.where(CaseRow.status == "open")
        query = query.order_by(
            CaseRow.next_due_at.is_(None), CaseRow.next_due_at, CaseRow.id.desc()
        ).limit(limit)
        async with self.database.session() as session:
            return [case_view(row) for row in (await session.scalars(query)).all()]

    async def timeline(self, tracking_number: str) -> list[TimelineEntry]:
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            events = await session.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id == row.id).order_by(CaseEventRow.id)
            )
            return [
                TimelineEntry(e.at, e.kind, e.actor, e.note, dict(e.data or {}), e.attachment)
                for e in events.all()
            ]

    # --- steps ---------------------------------------------------------------------------

    async def record(
        self,
        tracking_number: str,
        kind: TimelineKind,
        actor: str,
        note: str = "",
        data: Mapping[str, Any] | None = None,
        attachment: str | None = None,
    ) -> CaseView:
        """A note, call, message, attachment or partner progress on the timeline. A call or
        message to the customer by the case's handler is its first response."""
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            now = self.clock()
            self._append(session, row, kind, actor, now, note, dict(data or {}), attachment)
            if (
                kind in (TimelineKind.CALL, TimelineKind.MESSAGE)
                and (data or {}).get("direction") == "outbound"
            ):
                self._append(session, row, ClockEventKind.RESPONDED, actor, now)
            await self._recompute(session, row, now)
            await session.commit()
            return case_view(row)

    async def move(
        self,
        tracking_number: str,
        state: str,
        actor: str,
        note: str = "",
        fields: Mapping[str, Any] | None = None,
    ) -> CaseView:
        """Move the case to `state` of its workflow; `fields` set alongside (the complaint's
        assessment: severity, complexity, impact, urgency). The clocks follow the workflow:
        a pause state stops the resolution clock, a resolving one stops it, leaving a
        resolved state reopens the case."""
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            workflow = self._type(row.type).workflow
            if state not in workflow.states:
                raise CaseError(
                    f"{state!r} is not a state of a {row.type} case "
                    f"(states: {', '.join(workflow.states)})"
                )
            if state == row.state:
                raise CaseError(f"case {row.tracking_number} is already {state}")
            now = self.clock()
            if fields:
                self._set_fields(session, row, fields, actor, now)
            old = row.state
            self._append(session, row, TimelineKind.STATE, actor, now, note,
                         {"from": old, "to": state})  # fmt: skip
            order = workflow.states.index
            if old in workflow.paused_in and state not in workflow.paused_in:
                self._append(session, row, ClockEventKind.RESUMED, actor, now)
            if state in workflow.paused_in and old not in workflow.paused_in:
                self._append(session, row, ClockEventKind.PAUSED, actor, now, data={"in": state})
            if order(state) >= order(workflow.responded_on) > order(old):
                self._append(session, row, ClockEventKind.RESPONDED, actor, now)
            if state in workflow.resolved_on and old not in workflow.resolved_on:
                self._append(session, row, ClockEventKind.RESOLVED, actor, now)
            if old in workflow.resolved_on and state not in workflow.resolved_on:
                self._append(session, row, ClockEventKind.REOPENED, actor, now)
            row.state = state
            await self._recompute(session, row, now)
            await session.commit()
            view = case_view(row)
        if state in workflow.resolved_on and old not in workflow.resolved_on:
            await self._notify(view, Step.RESOLVED)
        if state == workflow.states[-1]:
            await self._notify(view, Step.SURVEY)
        return view

    async def update_fields(
        self, tracking_number: str, fields: Mapping[str, Any], actor: str
    ) -> CaseView:
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            now = self.clock()
            self._set_fields(session, row, fields, actor, now)
            row.updated_at = now
            await session.commit()
            return case_view(row)

    async def assign(
        self, tracking_number: str, actor: str, team: str | None = None, owner: str | None = None
    ) -> CaseView:
        """Give the case to a team (its calendar then counts the clocks) and/or a person."""
        if team is not None and team not in self.types.teams:
            raise CaseError(f"no team {team!r} (teams: {', '.join(self.types.teams)})")
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            now = self.clock()
            row.team = team or row.team
            # The customer hears once that a person has their case, not at each reassignment.
            newly_owned = owner is not None and row.owner is None
            row.owner = owner
            self._append(session, row, TimelineKind.ASSIGNED, actor, now,
                         data={"team": row.team, "owner": owner})  # fmt: skip
            await self._recompute(session, row, now)
            await session.commit()
            view = case_view(row)
        if newly_owned:
            await self._notify(view, Step.ASSIGNED)
        return view

    async def change_sla(self, tracking_number: str, sla_name: str, actor: str) -> CaseView:
        """A new SLA from now on; the business time already counted stays counted."""
        sla = self.types.slas.get(sla_name)
        if sla is None:
            raise CaseError(f"no SLA {sla_name!r} (SLAs: {', '.join(self.types.slas)})")
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            now = self.clock()
            self._append(session, row, ClockEventKind.SLA_SET, actor, now, data=_sla_data(sla))
            row.sla_name = sla.name
            await self._recompute(session, row, now)
            await session.commit()
            return case_view(row)

    async def record_satisfaction(
        self, tracking_number: str, actor: str, score: int | None = None, nps: int | None = None
    ) -> CaseView:
        """The customer's answer after the case: satisfaction 1-5 and/or NPS 0-10."""
        if score is not None and not 1 <= score <= 5:
            raise CaseError("satisfaction is 1 to 5")
        if nps is not None and not 0 <= nps <= 10:
            raise CaseError("NPS is 0 to 10")
        async with self.database.session() as session:
            row = await self._row(session, tracking_number)
            now = self.clock()
            row.satisfaction = score if score is not None else row.satisfaction
            row.nps = nps if nps is not None else row.nps
            self._append(session, row, TimelineKind.SATISFACTION, actor, now,
                         data={"score": score, "nps": nps})  # fmt: skip
            row.updated_at = now
            await session.commit()
            return case_view(row)

    async def recompute_open(self, batch: int = 500) -> int:
        """Every open case's deadlines again from its timeline, after the calendar changed (the
        override file got a year's official holidays, a team's hours changed); how many."""
        done, after = 0, 0
        while True:
            async with self.database.session() as session:
                rows = (
                    await session.scalars(
                        select(CaseRow)
                        .where(CaseRow.status == "open", CaseRow.id > after)
                        .order_by(CaseRow.id)
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    return done
                now = self.clock()
                for row in rows:
                    await self._recompute(session, row, now)
                await session.commit()
            done += len(rows)
            after = rows[-1].id

    # --- inside --------------------------------------------------------------------------

    async def _notify(self, case: CaseView, step: Step) -> None:
        """Tell the customer, by the channel they chose when the case was opened."""
        if self.notices is None:
            return
        async with self.database.session() as session:
            opened = await session.scalar(
                select(CaseEventRow.data)
                .where(CaseEventRow.case_id == case.id, CaseEventRow.kind == "opened")
                .limit(1)
            )
        chosen = dict(opened or {})
        contact = Contact(
            NotifyBy(chosen.get("notify_by") or NotifyBy.SMS),
            case.phone,
            chosen.get("email"),
            case.language or "fa",
            case.customer_id,
        )
        await self.notices.tell(contact, case.tracking_number, step)

    def _type(self, name: str) -> CaseType:
        case_type = self.types.types.get(name)
        if case_type is None:
            raise CaseError(f"no case type {name!r} (types: {', '.join(self.types.types)})")
        return case_type

    async def _row(self, session: AsyncSession, tracking_number: str) -> CaseRow:
        number = canonical_tracking_number(tracking_number)
        row = None
        if number is not None:
            row = await session.scalar(select(CaseRow).where(CaseRow.tracking_number == number))
        if row is None:
            raise CaseNotFound(f"no case {tracking_number!r}")
        return row

    def _set_fields(
        self,
        session: AsyncSession,
        row: CaseRow,
        fields: Mapping[str, Any],
        actor: str,
        now: datetime,
    ) -> None:
        merged = {**(row.fields or {}), **fields}
        row.fields = self._type(row.type).clean_fields(merged)
        self._append(session, row, TimelineKind.FIELDS, actor, now, data=dict(fields))

    def _append(
        self,
        session: AsyncSession,
        row: CaseRow,
        kind: StrEnum,
        actor: str,
        at: datetime,
        note: str = "",
        data: dict[str, Any] | None = None,
        attachment: str | None = None,
    ) -> None:
        session.add(
            CaseEventRow(
                case_id=row.id,
                at=at,
                kind=kind.value,
                actor=actor,
                note=note,
                data=data or {},
                attachment=attachment,
            )
        )
        row.updated_at = at

    async def _recompute(self, session: AsyncSession, row: CaseRow, now: datetime) -> None:
        """The case's deadlines from its clock events, on its team's calendar."""
        await session.flush()
        events = await session.scalars(
            select(CaseEventRow)
            .where(CaseEventRow.case_id == row.id, CaseEventRow.kind.in_(CLOCK_KINDS))
            .order_by(CaseEventRow.id)
        )
        log = [
            ClockEvent(
                e.at,
                ClockEventKind(e.kind),
                _sla_of(e.data) if e.kind == ClockEventKind.SLA_SET else None,
            )
            for e in events.all()
        ]
        team = self.types.teams[row.team]
        clocks = compute_clocks(log, team.calendar(self.holidays), now)
        _apply(row, clocks, self._type(row.type).workflow)


def _apply(row: CaseRow, clocks: Clocks, workflow: Workflow) -> None:
    """The clocks' deadlines and the status they imply, onto the case's row."""
    row.first_response_due_at = clocks.first_response.due
    row.resolution_due_at = clocks.resolution.due
    next_due = clocks.next_due
    due_at = next_due[1] if next_due else None
    if due_at != row.next_due_at:
        row.escalation_step = 0  # a new deadline: its escalation starts again
    row.next_due_at = due_at
    row.next_due_clock = next_due[0].value if next_due else None
    both = (clocks.first_response, clocks.resolution)
    row.breached = ",".join(clock.name.value for clock in both if clock.breached)
    row.resolved_at = clocks.resolution.stopped_at
    if row.state == workflow.states[-1]:
        row.status = "closed"
    elif row.resolved_at is not None:
        row.status = "resolved"
    else:
        row.status = "open"
