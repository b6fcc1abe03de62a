"""Targets chosen from the customer file by a kind's rule (`target:` in dialer/kinds.yaml):
policies ending and not renewed, overdue installments, bounced cheques, debts, new
policyholders, premiums paid, claims settled, shareholders, birthdays and every customer (the
occasions).

Set-based: each rule is one SELECT over the customer file, and a batch of customers becomes
targets in ONE `INSERT ... SELECT` (with its counts taken by one more statement), never a
row at a time through the ORM; a million-customer file is walked in customer-id ranges so no
transaction holds more than a batch. One target per customer (the row the rule ranks first:
the soonest end date, the oldest overdue installment...), called on the customer's primary
number; numbers on the do-not-call list and numbers already in the campaign are left out, and
the unique (campaign, phone) key refuses a second copy even to two runs at once. The rows are
written here rather than through dialer/campaigns.py because they never pass through Python.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dialer.campaigns import Campaign
from dialer.kinds import IMPORTED, CampaignKind, TargetRule
from dialer.tables import DoNotCallRow, TargetRow
from integrations.customer_file.claims import Claim
from integrations.customer_file.customers import Customer, Phone
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.shareholders import GeneralMeeting, Shareholder
from integrations.database import Database, rowcount
from tamas.errors import CommandError

# The insurer keeps its books on Tehran's calendar: "overdue by 7 days" counts its days.
BOOKS_ZONE = ZoneInfo("Asia/Tehran")
# Customers per statement: big enough that a million-customer file is ten statements, small
# enough that a batch's transaction stays short beside live calls.
BATCH_CUSTOMERS = 100_000
# Campaigns that may still take targets.
OPEN_STATES = ("draft", "running", "paused")

CustomerRange = Callable[[Any], ColumnElement[bool]]


class SelectionError(CommandError):
    """The rule cannot select for this campaign; the message says why and what to do."""


@dataclass(frozen=True)
class SelectionReport:
    """What a selection found: customers the rule picked (one target each), those left out and
    why, and the targets added (0 on a dry run)."""

    rule: str
    matched: int = 0
    without_phone: int = 0
    do_not_call: int = 0
    already_in_campaign: int = 0
    added: int = 0
    dry_run: bool = False

    def plus(self, other: SelectionReport) -> SelectionReport:
        return SelectionReport(
            rule=self.rule,
            matched=self.matched + other.matched,
            without_phone=self.without_phone + other.without_phone,
            do_not_call=self.do_not_call + other.do_not_call,
            already_in_campaign=self.already_in_campaign + other.already_in_campaign,
            added=self.added + other.added,
            dry_run=self.dry_run,
        )

    @property
    def new(self) -> int:
        """Customers not yet in the campaign who may be called: what a run adds (a dry run's
        answer; a run at the same moment as another may add fewer)."""
        return self.matched - self.without_phone - self.do_not_call - self.already_in_campaign

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "new": self.new}


@dataclass(frozen=True)
class _Moment:
    today: date
    now: datetime


def _key(name: str) -> Any:
    # Our own field names (lower-case letters and _), so a constant in the SQL is safe; a
    # bound parameter here would leave PostgreSQL unable to type json_build_object's "any".
    return literal_column(f"'{name}'")


def _text(value: str | None) -> Any:
    return cast(literal(value, String), String) if value is not None else null()


# --- the rules: each returns (customer_id, rank_key, tiebreak, field columns...) -------------


def _policies_ending(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    p = Policy.__table__.alias("p")
    conditions = [
        p.c.status == "active",
        p.c.end_date >= at.today,
        p.c.end_date <= at.today + timedelta(days=rule.value("days_before")),
        customers(p.c.customer_id),
    ]
    if rule.value("not_renewed"):
        # Renewed: the customer holds another live policy of the same line that ends later.
        renewal = Policy.__table__.alias("renewal")
        conditions.append(
            ~exists().where(
                renewal.c.customer_id == p.c.customer_id,
                renewal.c.line == p.c.line,
                renewal.c.end_date > p.c.end_date,
                renewal.c.status == "active",
            )
        )
    return select(
        p.c.customer_id,
        p.c.end_date.label("rank_key"),
        p.c.id.label("tiebreak"),
        p.c.number.label("policy_number"),
        p.c.end_date.label("end_date"),
        p.c.premium_rials.label("amount_rials"),
    ).where(*conditions)


def _unpaid(i: Any) -> ColumnElement[bool]:
    return i.c.status != "paid"


def _installments_overdue(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    i, p = Installment.__table__.alias("i"), Policy.__table__.alias("p")
    return (
        select(
            p.c.customer_id,
            i.c.due_date.label("rank_key"),
            i.c.id.label("tiebreak"),
            p.c.number.label("policy_number"),
            i.c.amount_rials.label("amount_rials"),
            i.c.due_date.label("due_date"),
        )
        .join_from(i, p, p.c.id == i.c.policy_id)
        .where(
            _unpaid(i),
            i.c.due_date < at.today - timedelta(days=rule.value("days_overdue")),
            customers(p.c.customer_id),
        )
    )


def _cheques_bounced(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    c = Cheque.__table__.alias("c")
    return select(
        c.c.customer_id,
        c.c.due_date.label("rank_key"),
        c.c.id.label("tiebreak"),
        c.c.number.label("cheque_number"),
        c.c.bank.label("bank"),
        c.c.amount_rials.label("amount_rials"),
        c.c.due_date.label("due_date"),
    ).where(
        c.c.status == "bounced",
        c.c.due_date <= at.today - timedelta(days=rule.value("days_since")),
        c.c.due_date >= at.today - timedelta(days=rule.value("within_days")),
        customers(c.c.customer_id),
    )


def _debts_open(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    # customer_file.debt's overdue figure: unpaid installments past their date (or marked
    # overdue) and bounced cheques; cheques still due pay installments already counted.
    i, p, c = (
        Installment.__table__.alias("i"),
        Policy.__table__.alias("p"),
        Cheque.__table__.alias("c"),
    )
    owed = union_all(
        select(
            p.c.customer_id.label("customer_id"),
            i.c.amount_rials.label("amount"),
            i.c.due_date.label("due_date"),
        )
        .join_from(i, p, p.c.id == i.c.policy_id)
        .where(
            _unpaid(i),
            or_(i.c.status == "overdue", i.c.due_date < at.today),
            customers(p.c.customer_id),
        ),
        select(c.c.customer_id, c.c.amount_rials, c.c.due_date).where(
            c.c.status == "bounced", customers(c.c.customer_id)
        ),
    ).subquery("owed")
    total = func.sum(owed.c.amount)
    return (
        select(
            owed.c.customer_id,
            literal(0, Integer).label("rank_key"),
            literal(0, Integer).label("tiebreak"),
            total.label("amount_rials"),
            func.min(owed.c.due_date).label("due_date"),
        )
        .group_by(owed.c.customer_id)
        .having(total >= rule.value("min_amount_rials"))
    )


def _policies_started(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    p = Policy.__table__.alias("p")
    conditions = [
        p.c.status == "active",
        p.c.start_date <= at.today,
        p.c.start_date >= at.today - timedelta(days=rule.value("days_since")),
        customers(p.c.customer_id),
    ]
    if rule.value("first_policy_only"):
        earlier = Policy.__table__.alias("earlier")
        conditions.append(
            ~exists().where(
                earlier.c.customer_id == p.c.customer_id, earlier.c.start_date < p.c.start_date
            )
        )
    return select(
        p.c.customer_id,
        p.c.start_date.label("rank_key"),
        p.c.id.label("tiebreak"),
        p.c.number.label("policy_number"),
        p.c.start_date.label("start_date"),
        p.c.premium_rials.label("amount_rials"),
    ).where(*conditions)


def _premiums_paid(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    i, p = Installment.__table__.alias("i"), Policy.__table__.alias("p")
    return (
        select(
            p.c.customer_id,
            i.c.paid_on.label("rank_key"),
            i.c.id.label("tiebreak"),
            p.c.number.label("policy_number"),
            i.c.amount_rials.label("amount_rials"),
            i.c.due_date.label("due_date"),
            i.c.paid_on.label("paid_on"),
        )
        .join_from(i, p, p.c.id == i.c.policy_id)
        .where(
            i.c.status == "paid",
            i.c.paid_on <= at.today,
            i.c.paid_on >= at.today - timedelta(days=rule.value("days_since")),
            customers(p.c.customer_id),
        )
    )


def _claims_settled(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    c, p = Claim.__table__.alias("c"), Policy.__table__.alias("p")
    return (
        select(
            c.c.customer_id,
            c.c.stage_changed_at.label("rank_key"),
            c.c.id.label("tiebreak"),
            c.c.tracking_code.label("claim_code"),
            p.c.number.label("policy_number"),
            c.c.amount_paid_rials.label("amount_rials"),
        )
        .join_from(c, p, p.c.id == c.c.policy_id)
        .where(
            c.c.stage == "paid",
            c.c.stage_changed_at >= at.now - timedelta(days=rule.value("days_since")),
            customers(c.c.customer_id),
        )
    )


def _all_customers(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    c = Customer.__table__.alias("c")
    query = select(
        c.c.id.label("customer_id"), c.c.id.label("rank_key"), c.c.id.label("tiebreak")
    ).where(customers(c.c.id))
    return query.where(c.c.kind == "person") if rule.value("persons_only") else query


def _birthdays(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
    c = Customer.__table__.alias("c")
    day = at.today + timedelta(days=rule.value("days_ahead"))
    days = [day.day]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        days.append(29)
    return select(
        c.c.id.label("customer_id"),
        c.c.id.label("rank_key"),
        c.c.id.label("tiebreak"),
        c.c.birth_date.label("birth_date"),
    ).where(
        c.c.kind == "person",
        extract("month", c.c.birth_date) == day.month,
        extract("day", c.c.birth_date).in_(days),
        customers(c.c.id),
    )


def _shareholders(meeting_date: str) -> Callable[[TargetRule, _Moment, CustomerRange], Select[Any]]:
    def rule_select(rule: TargetRule, at: _Moment, customers: CustomerRange) -> Select[Any]:
        s = Shareholder.__table__.alias("s")
        return select(
            s.c.customer_id,
            s.c.shares.label("rank_key"),
            s.c.id.label("tiebreak"),
            s.c.shareholder_number.label("shareholder_number"),
            _text(meeting_date).label("meeting_date"),
        ).where(
            s.c.customer_id.is_not(None),
            s.c.shares >= rule.value("min_shares"),
            customers(s.c.customer_id),
        )

    return rule_select


RuleSelect = Callable[[TargetRule, _Moment, CustomerRange], Select[Any]]
_RULES: dict[str, RuleSelect] = {
    "policies_ending": _policies_ending,
    "installments_overdue": _installments_overdue,
    "cheques_bounced": _cheques_bounced,
    "debts_open": _debts_open,
    "policies_started": _policies_started,
    "premiums_paid": _premiums_paid,
    "claims_settled": _claims_settled,
    "all_customers": _all_customers,
    "birthdays": _birthdays,
}
_NOT_FIELDS = ("customer_id", "rank_key", "tiebreak")


def _json_object(dialect: str, pairs: list[tuple[str, Any]]) -> Any:
    arguments = [part for name, value in pairs for part in (_key(name), value)]
    if dialect == "postgresql":
        return func.json_build_object(*arguments, type_=JSON)
    return func.json_object(*arguments, type_=JSON)


def _targets(rule_select: Select[Any], campaign_id: int, dialect: str) -> Any:
    """One row per customer the rule picks: the customer's number, name, language, fields,
    and whether the number is on the do-not-call list or already in the campaign."""
    candidates = rule_select.subquery("candidates")
    fields = [column for column in candidates.c if column.key not in _NOT_FIELDS]
    ranked = select(
        candidates,
        func.row_number()
        .over(
            partition_by=candidates.c.customer_id,
            order_by=(candidates.c.rank_key, candidates.c.tiebreak),
        )
        .label("rank"),
    ).subquery("ranked")
    customer, phone = Customer.__table__.alias("customer"), Phone.__table__.alias("phone")
    values = [(column.key, ranked.c[column.key]) for column in fields]
    name = func.trim(customer.c.given_name_fa + literal(" ") + customer.c.family_name_fa)
    return (
        select(
            ranked.c.customer_id.label("customer_id"),
            phone.c.e164.label("phone"),
            name.label("name"),
            customer.c.language.label("language"),
            _json_object(dialect, values).label("fields"),
            exists().where(DoNotCallRow.phone == phone.c.e164).label("on_do_not_call"),
            exists()
            .where(TargetRow.campaign_id == campaign_id, TargetRow.phone == phone.c.e164)
            .label("in_campaign"),
        )
        .join_from(ranked, customer, customer.c.id == ranked.c.customer_id)
        .outerjoin(phone, and_(phone.c.customer_id == customer.c.id, phone.c.is_primary))
        .where(ranked.c.rank == 1)
        .subquery("targets")
    )


def _counts(targets: Any) -> Select[Any]:
    def counted(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    has_phone = targets.c.phone.is_not(None)
    return select(
        func.count(),
        counted(targets.c.phone.is_(None)),
        counted(and_(has_phone, targets.c.on_do_not_call)),
        counted(and_(has_phone, ~targets.c.on_do_not_call, targets.c.in_campaign)),
    )


def _insert(targets: Any, campaign_id: int, dialect: str) -> Any:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(TargetRow)
    rows = select(
        literal(campaign_id, Integer),
        targets.c.phone,
        targets.c.name,
        targets.c.language,
        targets.c.customer_id,
        targets.c.fields,
        literal("pending", String),
        literal(0, Integer),
    ).where(targets.c.phone.is_not(None), ~targets.c.on_do_not_call, ~targets.c.in_campaign)
    return insert.from_select(
        ["campaign_id", "phone", "name", "language", "customer_id", "fields", "state", "attempts"],
        rows,
    ).on_conflict_do_nothing(index_elements=["campaign_id", "phone"])


async def _rule_select(session: AsyncSession, rule: TargetRule, now: datetime) -> RuleSelect:
    if rule.rule == IMPORTED:
        raise SelectionError(
            "this kind takes its targets from a file only: tamas campaign import NAME FILE"
        )
    if rule.rule == "shareholders":
        held_at = await session.scalar(
            select(func.min(GeneralMeeting.held_at)).where(GeneralMeeting.held_at >= now)
        )
        if held_at is None:
            raise SelectionError("no general meeting ahead on file to invite shareholders to")
        return _shareholders(held_at.astimezone(BOOKS_ZONE).date().isoformat())
    return _RULES[rule.rule]


async def select_targets(
    database: Database,
    campaign: Campaign,
    kind: CampaignKind,
    now: datetime,
    *,
    dry_run: bool = False,
    batch_customers: int = BATCH_CUSTOMERS,
) -> SelectionReport:
    """Add the targets `kind`'s rule picks from the customer file to `campaign` (a dry run
    only counts them): one statement per batch of customers, each batch its own transaction."""
    if campaign.state not in OPEN_STATES:
        raise SelectionError(f"campaign {campaign.name!r} is {campaign.state}: it takes no targets")
    if kind.name != campaign.kind:
        raise SelectionError(f"campaign {campaign.name!r} is of kind {campaign.kind!r}")
    at = _Moment(today=now.astimezone(BOOKS_ZONE).date(), now=now)
    dialect = database.engine.dialect.name
    report = SelectionReport(rule=kind.target.rule, dry_run=dry_run)
    async with database.session() as session:
        rule_select = await _rule_select(session, kind.target, now)
        low, high = (
            await session.execute(select(func.min(Customer.id), func.max(Customer.id)))
        ).one()
    if low is None:
        return report
    for first in range(low, high + 1, batch_customers):
        last = first + batch_customers - 1

        def in_batch(column: Any, first: int = first, last: int = last) -> ColumnElement[bool]:
            return column.between(first, last)

        targets = _targets(rule_select(kind.target, at, in_batch), campaign.id, dialect)
        async with database.session() as session:
            matched, no_phone, barred, present = (await session.execute(_counts(targets))).one()
            added = 0
            if not dry_run and matched - no_phone - barred - present > 0:
                added = rowcount(await session.execute(_insert(targets, campaign.id, dialect)))
                await session.commit()
        report = report.plus(
            SelectionReport(
                rule=report.rule,
                matched=int(matched),
                without_phone=int(no_phone),
                do_not_call=int(barred),
                already_in_campaign=int(present),
                added=added,
            )
        )
    return report
