"""`CaseTasks`: the one writer of case tasks, the pieces of work with a control date (call the
garage back Tuesday, chase the police report) that keep a case moving. By default each team
sees all its unfinished tasks, soonest control date first, most urgent first among equals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import case, select, update

from cases.tables import CaseRow, CaseTaskRow
from cases.tracking import canonical_tracking_number
from cases.types import PRIORITY_RANK, Priority
from integrations.database import Database


class TaskError(ValueError):
    """A task request that cannot be done; the message says why."""


@dataclasses.dataclass(frozen=True)
class TaskView:
    id: int
    tracking_number: str
    team: str
    assignee: str | None
    title: str
    control_at: datetime
    urgency: str
    created_at: datetime
    done_at: datetime | None

    def overdue(self, now: datetime) -> bool:
        return self.done_at is None and self.control_at <= now


_COLUMNS = (
    CaseTaskRow.id,
    CaseRow.tracking_number,
    CaseTaskRow.team,
    CaseTaskRow.assignee,
    CaseTaskRow.title,
    CaseTaskRow.control_at,
    CaseTaskRow.urgency,
    CaseTaskRow.created_at,
    CaseTaskRow.done_at,
)
# Most urgent first among tasks due at the same moment.
_URGENCY_ORDER = case(
    {priority.value: -rank for priority, rank in PRIORITY_RANK.items()},
    value=CaseTaskRow.urgency,
    else_=0,
)


def _now() -> datetime:
    return datetime.now(UTC)


class CaseTasks:
    def __init__(self, database: Database, clock: Callable[[], datetime] = _now) -> None:
        self.database = database
        self.clock = clock

    async def add(
        self,
        tracking_number: str,
        title: str,
        control_at: datetime,
        urgency: Priority = Priority.NORMAL,
        team: str | None = None,
        assignee: str | None = None,
    ) -> TaskView:
        """A task on the case, for its team unless another is named."""
        if not title.strip():
            raise TaskError("a task needs a title")
        number = canonical_tracking_number(tracking_number) or ""
        async with self.database.session() as session:
            row = await session.scalar(select(CaseRow).where(CaseRow.tracking_number == number))
            if row is None:
                raise TaskError(f"no case {tracking_number!r}")
            task = CaseTaskRow(
                case_id=row.id,
                team=team or row.team,
                assignee=assignee,
                title=title.strip(),
                control_at=control_at,
                urgency=Priority(urgency).value,
                created_at=self.clock(),
            )
            session.add(task)
            await session.commit()
            return TaskView(
                task.id,
                row.tracking_number,
                task.team,
                task.assignee,
                task.title,
                task.control_at,
                task.urgency,
                task.created_at,
                None,
            )

    async def unfinished(
        self, team: str | None = None, assignee: str | None = None, limit: int = 200
    ) -> list[TaskView]:
        """A team's (or a person's) unfinished tasks, soonest control date first."""
        query = (
            select(*_COLUMNS)
            .join(CaseRow, CaseRow.id == CaseTaskRow.case_id)
            .where(CaseTaskRow.done_at.is_(None))
        )
        if team is not None:
            query = query.where(CaseTaskRow.team == team)
        if assignee is not None:
            query = query.where(CaseTaskRow.assignee == assignee)
        query = query.order_by(CaseTaskRow.control_at, _URGENCY_ORDER, CaseTaskRow.id).limit(limit)
        async with self.database.autocommit() as connection:
            rows = (await connection.execute(query)).all()
        return [TaskView(*row) for row in rows]

    async def for_case(self, tracking_number: str) -> list[TaskView]:
        number = canonical_tracking_number(tracking_number) or ""
        query = (
            select(*_COLUMNS)
            .join(CaseRow, CaseRow.id == CaseTaskRow.case_id)
            .where(CaseRow.tracking_number == number)
            .order_by(CaseTaskRow.id)
        )
        async with self.database.autocommit() as connection:
            rows = (await connection.execute(query)).all()
        return [TaskView(*row) for row in rows]

    async def complete(self, task_id: int, agent: str) -> bool:
        """Mark a task done; False when it was done already (or does not exist)."""
        changed = await self.database.write(
            update(CaseTaskRow)
            .where(CaseTaskRow.id == task_id, CaseTaskRow.done_at.is_(None))
            .values(done_at=self.clock(), done_by=agent)
        )
        return changed == 1
