"""Escalation: the SLA scan finds cases whose next deadline is near or passed and fires the
steps of `types.yaml`'s escalation (notify the owner, then the team lead, then reassign), each
once per deadline, and publishes a `case.alert` for the desktops and the wallboard.

The scan reads only the indexed `cases.next_due_at` (kept current by `CaseStore`), so it costs
the cases it returns, not the cases that are open. Two scanners running at once fire a step
once: the step counter moves by compare-and-set, and only the winner acts.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select, update

from cases.store import CaseStore, CaseView, TimelineKind
from cases.tables import CaseRow
from cases.types import EscalationAction, EscalationStep
from popup_server.roles import Role
from tamas.bus import Audience, Bus, BusError, Event

log = logging.getLogger(__name__)
SCAN_LIMIT = 10_000


class CaseAlert(Event):
    """A case's deadline is near or passed. The owner (or whoever the step is for) sees it on
    the desktop; every supervisor sees it on the wallboard."""

    name = "case.alert"

    def __init__(self, case: CaseView, action: EscalationAction, to: str | None, at: datetime):
        self.case, self.action, self.to, self.at = case, action, to, at

    def payload(self) -> dict[str, Any]:
        case = self.case
        due = case.next_due_at
        return {
            "tracking_number": case.tracking_number,
            "type": case.type,
            "team": case.team,
            "owner": case.owner,
            "priority": case.priority,
            "clock": case.next_due_clock,
            "due_at": due.isoformat() if due else None,
            "overdue": bool(due and due <= self.at),
            "action": self.action.value,
            "to": self.to,
            "at": self.at.isoformat(),
        }

    def audience(self) -> Audience:
        agents = frozenset({self.to}) if self.to else frozenset()
        return Audience(agents=agents, roles=frozenset({Role.SUPERVISOR.value}))


class DueCase(NamedTuple):
    """What the scan reads of a due case (the rest is read when a step acts on it)."""

    id: int
    tracking_number: str
    type: str
    state: str
    priority: str
    team: str
    owner: str | None
    next_due_at: datetime
    next_due_clock: str | None
    escalation_step: int
    breached_clocks: str

    @property
    def breached(self) -> tuple[str, ...]:
        return tuple(name for name in self.breached_clocks.split(",") if name)


DUE_COLUMNS = (
    CaseRow.id,
    CaseRow.tracking_number,
    CaseRow.type,
    CaseRow.state,
    CaseRow.priority,
    CaseRow.team,
    CaseRow.owner,
    CaseRow.next_due_at,
    CaseRow.next_due_clock,
    CaseRow.escalation_step,
    CaseRow.breached,
)


@dataclasses.dataclass(frozen=True)
class Fired:
    tracking_number: str
    action: EscalationAction
    to: str | None


def _now() -> datetime:
    return datetime.now(UTC)


class SlaScan:
    def __init__(
        self, store: CaseStore, bus: Bus | None = None, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock
        self.steps: tuple[EscalationStep, ...] = store.types.escalation

    @property
    def lookahead(self) -> timedelta:
        """How far ahead of a deadline the first step fires (0 without a step before it)."""
        return max((-step.offset for step in self.steps), default=timedelta(0))

    async def due(self, now: datetime | None = None, limit: int = SCAN_LIMIT) -> list[DueCase]:
        """Open cases whose next deadline is passed or within the lookahead, soonest first."""
        horizon = (now or self.clock()) + self.lookahead
        query = (
            select(*DUE_COLUMNS)
            .where(CaseRow.next_due_at.is_not(None), CaseRow.next_due_at <= horizon)
            .order_by(CaseRow.next_due_at)
            .limit(limit)
        )
        # The columns the scan acts on, as plain rows: a backlog of tens of thousands of due
        # cases is read at about the driver's speed, not at the ORM's.
        async with self.store.database.autocommit() as connection:
            return [DueCase._make(row) for row in (await connection.execute(query)).all()]

    async def run(self, now: datetime | None = None) -> list[Fired]:
        """Fire every step now due, on every case due; what was fired, in order."""
        now = now or self.clock()
        fired: list[Fired] = []
        for case in await self.due(now):
            fired.extend(await self._escalate(case, now))
        return fired

    async def _escalate(self, case: DueCase, now: datetime) -> list[Fired]:
        ready = [
            index
            for index, step in enumerate(self.steps)
            if index >= case.escalation_step and case.next_due_at + step.offset <= now
        ]
        if not ready:
            return []
        claimed = await self.store.database.write(
            update(CaseRow)
            .where(
                CaseRow.id == case.id,
                CaseRow.escalation_step == case.escalation_step,
                CaseRow.next_due_at == case.next_due_at,
            )
            .values(escalation_step=ready[-1] + 1)
        )
        if claimed != 1:  # another scanner got there first, or the deadline moved
            return []
        fired = []
        for index in ready:
            action = self.steps[index].action
            fired.append(await self._act(case, action, index, now))
        return fired

    async def _act(
        self, case: DueCase, action: EscalationAction, index: int, now: datetime
    ) -> Fired:
        lead = self.store.types.teams[case.team].lead
        to = case.owner if action is EscalationAction.NOTIFY_OWNER else lead
        if action is EscalationAction.NOTIFY_OWNER and to is None:
            to = lead  # nobody owns it yet: its team lead hears it
        data = {"action": action.value, "step": index, "to": to, "clock": case.next_due_clock}
        data["due_at"] = case.next_due_at.isoformat()
        if action is EscalationAction.REASSIGN and to is not None and to != case.owner:
            await self.store.assign(case.tracking_number, "system:escalation", owner=to)
        updated = await self.store.record(
            case.tracking_number, TimelineKind.ESCALATED, "system:escalation", data=data
        )
        if self.bus is not None:
            try:
                await self.bus.publish(CaseAlert(updated, action, to, now))
            except BusError as error:  # the timeline has it; the desktops catch up later
                log.warning("case alert for %s not sent to every process: %s", case.id, error)
        return Fired(case.tracking_number, action, to)
