"""Complaints and callback requests are cases: `caller_requests` (what a caller's request adds to
its case, and the unique key that keeps one open callback per number and kind), and every row of
`complaints` and `callback_tasks` moved into a case with its timeline (opened, its SLA, resolved
when it was), its callback task, and its old 8-digit number kept so a customer's number still
finds it. Then the old tables go. A downgrade writes every caller's request back into them
(under its old number when it had one) and removes their cases, so a second upgrade moves them
again, once.

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
OPEN_TASK = "status IN ('open', 'assigned')"
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
    op.drop_table("complaints")
    op.drop_table("callback_tasks")


def downgrade() -> None:
    complaints, callbacks = _old_tables()
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT r.*, c.tracking_number AS case_number, c.type, c.state, c.status,"
            " c.owner, c.customer_id, c.phone AS case_phone, c.summary, c.opened_at,"
            " c.updated_at, t.control_at FROM caller_requests r JOIN cases c ON c.id = r.case_id"
            " LEFT JOIN case_tasks t ON t.id = r.task_id ORDER BY r.id"
        )
    ).mappings()
    for row in rows.all():
        number = row["legacy_number"] or row["case_number"]
        common = {
            "tracking_number": number,
            "customer_id": row["customer_id"],
            "linkedid": row["linkedid"],
            "created_at": _utc(row["opened_at"]),
        }
        if row["type"] == "complaint":
            bind.execute(
                complaints.insert().values(
                    caller_number=row["phone"],
                    category=row["kind"],
                    status=_old_complaint_status(row),
                    recording_path=row["recording_path"],
                    description=row["summary"] or None,
                    updated_at=_utc(row["updated_at"]),
                    **common,
                )
            )
        else:
            bind.execute(
                callbacks.insert().values(
                    kind=row["kind"],
                    phone=row["phone"] or row["case_phone"] or "",
                    policy_number=row["policy_number"],
                    status=_old_callback_status(row),
                    assigned_agent=row["owner"] or row["taken_by"],
                    due_at=_utc(row["control_at"]) if row["control_at"] else None,
                    note=row["summary"] or None,
                    **common,
                )
            )
    # Their cases go (timelines and tasks too: SQLite may run without foreign keys), so that
    # upgrading again moves each request once.
    requested = "(SELECT case_id FROM caller_requests)"
    for table in ("case_events", "case_tasks"):
        op.execute(f"DELETE FROM {table} WHERE case_id IN {requested}")
    op.execute(f"DELETE FROM cases WHERE id IN {requested}")
    op.drop_table("caller_requests")


def _old_complaint_status(row: Any) -> str:
    if row["outcome"] == "rejected":
        return "rejected"
    if row["status"] != "open":
        return "resolved"
    return "received" if row["state"] == "received" else "in_review"


def _old_callback_status(row: Any) -> str:
    if row["status"] != "open":
        return str(row["outcome"] or ("cancelled" if row["state"] == "closed" else "done"))
    return "assigned" if row["owner"] else "open"


def _old_tables() -> tuple[sa.Table, sa.Table]:
    """complaints and callback_tasks as revision 0022 had them."""

    def created() -> sa.Column[Any]:
        return sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        )

    complaints = op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("caller_number", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recording_path", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        created(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_complaints_tracking_number")),
    )
    op.create_index(op.f("ix_complaints_customer_id"), "complaints", ["customer_id"])
    callbacks = op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_agent", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        created(),
        sa.Column("policy_number", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_tasks")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_callback_tasks_tracking_number")),
    )
    for column in ("assigned_agent", "customer_id", "status"):
        op.create_index(op.f(f"ix_callback_tasks_{column}"), "callback_tasks", [column])
    op.create_index(
        "uq_callback_tasks_open_phone_kind",
        "callback_tasks",
        ["phone", "kind"],
        unique=True,
        sqlite_where=sa.text(OPEN_TASK),
        postgresql_where=sa.text(OPEN_TASK),
    )
    assert complaints is not None and callbacks is not None
    return complaints, callbacks


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
