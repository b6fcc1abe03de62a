"""Complaints and callback requests are cases: `caller_requests` (what a caller's request adds to
its case, and the unique key that keeps one open callback per number and kind), and every row of
`complaints` and `callback_tasks` moved into a case with its timeline (opened, its SLA, resolved
when it was), its callback task, and its old 8-digit number kept so a customer's number still
finds it. The old tables stay, read-only (nothing writes them since this revision).

Each moved case's deadlines are computed from its timeline as the store would (an old open
request is usually breached already: the SLA scan and escalation see it at once).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

from cases import types as case_types
from cases.calendar import iranian_holidays
from cases.caller_requests import CALLBACK_REASON, CASE_CATEGORY, REMEDY_IN_RECORDING
from cases.sla import ClockEvent, ClockEventKind, compute_clocks
from cases.tracking import new_tracking_number

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Old status -> (case state, case status) on the workflows of cases/types.yaml.
# A complaint in review was acknowledged, a task assigned was taken: both first responses.
RESPONDED = frozenset({"in_review", "assigned"})
COMPLAINT_STATES = {
    "received": ("received", "open"),
    "in_review": ("investigating", "open"),
    "resolved": ("closed", "closed"),
    "rejected": ("closed", "closed"),
}
CALLBACK_STATES = {
    "open": ("new", "open"),
    "assigned": ("in_progress", "open"),
    "done": ("resolved", "resolved"),
    "cancelled": ("closed", "closed"),
}

CLOCK_COLUMNS = ("first_response_due_at", "resolution_due_at")
_meta = sa.MetaData()
_cases = sa.Table(
    "cases",
    _meta,
    sa.Column("id", sa.Integer(), primary_key=True),
    *(sa.Column(name) for name in ("tracking_number", "type", "state", "status")),
    *(sa.Column(name) for name in ("priority", "channel", "team", "owner", "customer_id")),
    *(sa.Column(name) for name in ("phone", "summary", "sla_name", "escalation_step")),
    sa.Column("breached"),
    sa.Column("fields", sa.JSON()),
    *(sa.Column(name, sa.DateTime(timezone=True)) for name in ("opened_at", "updated_at")),
    *(sa.Column(name, sa.DateTime(timezone=True)) for name in ("resolved_at", "next_due_at")),
    *(sa.Column(name, sa.DateTime(timezone=True)) for name in CLOCK_COLUMNS),
    sa.Column("next_due_clock"),
)
_events = sa.Table(
    "case_events",
    _meta,
    *(sa.Column(name) for name in ("case_id", "kind", "actor", "note", "attachment")),
    sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("data", sa.JSON()),
)
_tasks = sa.Table(
    "case_tasks",
    _meta,
    sa.Column("id", sa.Integer(), primary_key=True),
    *(sa.Column(name) for name in ("case_id", "team", "title", "urgency", "done_by")),
    *(sa.Column(name, sa.DateTime(timezone=True)) for name in ("control_at", "created_at")),
    sa.Column("done_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    requests = op.create_table(
        "caller_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("cases.id", ondelete="CASCADE"),
            nullable=True,
            unique=True,
        ),
        sa.Column("open_key", sa.String(length=64), nullable=True, unique=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("policy_number", sa.String(length=32), nullable=True),
        sa.Column("recording_path", sa.String(length=300), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column(
            "task_id",
            sa.Integer(),
            sa.ForeignKey("case_tasks.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("taken_by", sa.String(length=32), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("legacy_number", sa.String(length=16), nullable=True, unique=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )
    assert requests is not None
    _Mover(op.get_bind(), requests).move()


def downgrade() -> None:
    # The moved cases go with the table that knows them (their timelines and tasks too: SQLite
    # may run without foreign keys); the old rows were never changed.
    moved = "(SELECT case_id FROM caller_requests WHERE legacy_number IS NOT NULL)"
    for table in ("case_events", "case_tasks"):
        op.execute(f"DELETE FROM {table} WHERE case_id IN {moved}")
    op.execute(f"DELETE FROM cases WHERE id IN {moved}")
    op.drop_table("caller_requests")


def _utc(moment: Any) -> datetime:
    """SQLite hands back naive datetimes (stored in UTC); PostgreSQL aware ones."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _inserted_id(result: sa.CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


class _Mover:
    def __init__(self, bind: sa.Connection, requests: sa.Table) -> None:
        self.bind = bind
        self.requests = requests
        self.types = case_types.load()
        self.holidays = iranian_holidays()
        self.now = datetime.now(UTC)
        self.taken = {row[0] for row in bind.execute(sa.text("SELECT tracking_number FROM cases"))}

    def move(self) -> None:
        complaints = self.bind.execute(sa.text("SELECT * FROM complaints ORDER BY id"))
        for row in complaints.mappings().all():
            self._complaint(row)
        callbacks = self.bind.execute(sa.text("SELECT * FROM callback_tasks ORDER BY id"))
        for row in callbacks.mappings().all():
            self._callback(row)

    def _complaint(self, row: Any) -> None:
        state, status = COMPLAINT_STATES.get(row["status"], ("investigating", "open"))
        fields = {
            "category": CASE_CATEGORY.get(row["category"], "other"),
            "remedy_sought": row["description"] or REMEDY_IN_RECORDING,
        }
        case_id, _ = self._case(row, "complaint", state, status, fields, row["caller_number"])
        self._request(
            row,
            case_id,
            kind=row["category"],
            phone=row["caller_number"],
            recording_path=row["recording_path"],
            outcome="rejected" if row["status"] == "rejected" else None,
        )

    def _callback(self, row: Any) -> None:
        state, status = CALLBACK_STATES.get(row["status"], ("new", "open"))
        renewal = row["kind"] == "renewal" and bool(row["policy_number"])
        fields = (
            {"policy_number": row["policy_number"]}
            if renewal
            else {"reason": CALLBACK_REASON.get(row["kind"], "general"), "phone": row["phone"]}
        )
        type_name = "renewal_callback" if renewal else "callback"
        case_id, team = self._case(row, type_name, state, status, fields, row["phone"])
        created = _utc(row["created_at"])
        task = self.bind.execute(
            _tasks.insert().values(
                case_id=case_id,
                team=team,
                title=row["kind"],
                urgency="normal",
                control_at=_utc(row["due_at"]) if row["due_at"] else created,
                created_at=created,
                done_at=None if status == "open" else created,
                done_by=row["assigned_agent"] if status != "open" else None,
            )
        )
        open_ = status == "open"
        self._request(
            row,
            case_id,
            kind=row["kind"],
            phone=row["phone"],
            policy_number=row["policy_number"],
            task_id=_inserted_id(task),
            taken_by=row["assigned_agent"],
            open_key=f"callback:{row['phone']}:{row['kind']}" if open_ else None,
            outcome=None if open_ else row["status"],
        )

    def _case(
        self,
        row: Any,
        type_name: str,
        state: str,
        status: str,
        fields: dict[str, Any],
        phone: str | None,
    ) -> tuple[int, str]:
        case_type = self.types.types[type_name]
        created = _utc(row["created_at"])
        updated = _utc(row["updated_at"]) if "updated_at" in row else created
        number = new_tracking_number()
        while number in self.taken:
            number = new_tracking_number()
        self.taken.add(number)
        result = self.bind.execute(
            _cases.insert().values(
                tracking_number=number,
                type=type_name,
                state=state,
                status=status,
                priority="normal",
                channel="ivr" if row["linkedid"] else "desktop",
                team=case_type.team,
                owner=row.get("assigned_agent"),
                customer_id=row["customer_id"],
                phone=phone,
                summary=row.get("note") or row.get("description") or "",
                fields=fields,
                sla_name=case_type.sla.name,
                opened_at=created,
                updated_at=updated,
                resolved_at=None if status == "open" else updated,
                escalation_step=0,
                breached="",
            )
        )
        case_id = _inserted_id(result)

        def seconds(span: timedelta | None) -> int | None:
            return None if span is None else int(span.total_seconds())

        sla = {
            "name": case_type.sla.name,
            "first_response_s": seconds(case_type.sla.first_response),
            "resolution_s": seconds(case_type.sla.resolution),
        }
        moved = {"channel": "ivr" if row["linkedid"] else "desktop", "from": row["tracking_number"]}
        events: list[dict[str, Any]] = [
            {
                "kind": "opened",
                "at": created,
                "data": moved,
                "attachment": row.get("recording_path"),
            },
            {"kind": "sla_set", "at": created, "data": sla},
        ]
        if row["status"] in RESPONDED:
            events.append({"kind": "responded", "at": updated, "data": {}})
        if status != "open":
            events.append({"kind": "resolved", "at": updated, "data": {"was": row["status"]}})
        for event in events:
            self.bind.execute(
                _events.insert().values(case_id=case_id, actor="system", note="", **event)
            )
        log = [
            ClockEvent(
                event["at"],
                ClockEventKind(event["kind"]),
                case_type.sla if event["kind"] == "sla_set" else None,
            )
            for event in events
        ]
        calendar = self.types.teams[case_type.team].calendar(self.holidays)
        clocks = compute_clocks(log, calendar, self.now)
        next_due = clocks.next_due
        self.bind.execute(
            _cases.update()
            .where(_cases.c.id == case_id)
            .values(
                first_response_due_at=clocks.first_response.due,
                resolution_due_at=clocks.resolution.due,
                next_due_at=next_due[1] if next_due else None,
                next_due_clock=next_due[0].value if next_due else None,
                breached=",".join(
                    clock.name.value
                    for clock in (clocks.first_response, clocks.resolution)
                    if clock.breached
                ),
            )
        )
        return case_id, case_type.team

    def _request(self, row: Any, case_id: int, **values: Any) -> None:
        self.bind.execute(
            self.requests.insert().values(
                case_id=case_id,
                linkedid=row["linkedid"],
                legacy_number=row["tracking_number"],
                claimed_at=_utc(row["created_at"]),
                **values,
            )
        )
