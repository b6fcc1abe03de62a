"""The outbox: one row per message to send. Writing the request is the IVR's whole job; a
gateway adapter picks `pending` rows, sends them and marks them `sent` or `failed`. Keeping the
request in the database means a gateway outage loses nothing and the agent can see it.

`Outbox.put` is the one way in, so it is where messages are capped (per call, per recipient
in 24 hours, per kind in 24 hours) and destinations checked (destinations.py). The cap holds
across processes and concurrent calls: ONE statement counts the rows that count against each
cap and writes the row, `pending` or `refused` by the first cap it would pass; writers of one
kind take turns (PostgreSQL: a transaction-scoped advisory lock per kind, taken just before;
SQLite: its one write lock, taken by the INSERT before it reads), so no two counts miss each
other and no sender ever sees a row that is not settled. A refused row stays, with why: the
security team sees what was asked for."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Insert,
    Integer,
    Select,
    String,
    Text,
    and_,
    bindparam,
    case,
    func,
    insert,
    literal_column,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime
from integrations.messaging.destinations import Destinations
from integrations.prepared_reads import PreparedRead, reading, writing

if TYPE_CHECKING:
    from tamas.settings import Settings

KINDS = ("sms", "fax", "email")
# pending -> sending (claimed by one sender) -> sent | failed | pending (may be retried) |
# uncertain (the provider may have it: a timeout, an answer without its id) -> checking
# (claimed to ask the provider) -> sent | pending (the provider never got it) | uncertain.
STATUSES = ("pending", "sending", "sent", "failed", "uncertain", "checking")
# Or refused (past a cap, or to a destination not allowed): never sent, kept as evidence.
REFUSED = "refused"
# What a delivery report says of a sent message: still on its way (enroute), or final.
FINAL_DELIVERY = ("delivered", "undelivered", "expired", "rejected")
DELIVERY_STATUSES = ("enroute", *FINAL_DELIVERY)
DAY = timedelta(hours=24)
# The rows the caps count.
_COUNTED = text(f"status <> '{REFUSED}'")


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    # The caps count a recipient's and a kind's messages of the last 24 hours, refused ones
    # aside: those are not in the indexes, so an abuser's thousands of refused requests cost
    # the next request nothing (migration 0012).
    __table_args__ = (
        Index(
            "ix_outbound_messages_to_created_at",
            "to",
            "created_at",
            postgresql_where=_COUNTED,
            sqlite_where=_COUNTED,
        ),
        Index(
            "ix_outbound_messages_kind_created_at",
            "kind",
            "created_at",
            postgresql_where=_COUNTED,
            sqlite_where=_COUNTED,
        ),
        # Delivery reports name the provider's id: matched through this (migration 0019).
        Index("ix_outbound_messages_provider_provider_id", "provider", "provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    # E.164 number for SMS and fax, an address for email.
    to: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(64))  # what it is: claim_status, branches...
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="fa")
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Which sender holds the row (sending or checking) since when; the provider's id once sent.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(128))
    # Why the outbox refused it: per_call, per_recipient, per_kind, or a destination refusal
    # (international, premium, non_geographic, not_a_number).
    refusal: Mapped[str | None] = mapped_column(String(32))
    # Which provider profile took it (the provider's ids are unique only within one), in how
    # many parts (an SMS split in 67-character parts is billed per part), and the delivery
    # report matched to it: delivered, undelivered, expired, rejected; the provider's error code.
    provider: Mapped[str | None] = mapped_column(String(32))
    parts: Mapped[int | None] = mapped_column(Integer)
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    delivery_error: Mapped[str | None] = mapped_column(String(32))


class MessageRefused(Exception):
    """The outbox did not accept the message (it is kept as `refused`, with `reason`)."""

    def __init__(self, reason: str, message_id: int) -> None:
        super().__init__(f"message {message_id} refused: {reason}")
        self.reason = reason
        self.message_id = message_id


@dataclass(frozen=True)
class OutboxLimits:
    """The caps, and where messages may go (settings `outbox_*` and `outbound_*`)."""

    per_call: int = 3
    per_recipient_per_day: int = 5
    per_kind_per_day: Mapping[str, int] = field(
        default_factory=lambda: {"sms": 5000, "fax": 500, "email": 5000}
    )
    destinations: Destinations = field(default_factory=Destinations)

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboxLimits:
        return cls(
            per_call=settings.outbox_per_call,
            per_recipient_per_day=settings.outbox_per_recipient_per_day,
            per_kind_per_day={
                "sms": settings.outbox_sms_per_day,
                "fax": settings.outbox_fax_per_day,
                "email": settings.outbox_email_per_day,
            },
            destinations=Destinations(
                region=settings.default_region,
                regions=settings.outbound_regions,
                allow_premium=settings.outbound_allow_premium,
            ),
        )


# What the caller gives of a message (the outbox adds its status, refusal and moment).
_ROW = ("kind", "to", "subject", "body", "language", "linkedid", "customer_id")


def _counted(condition: ColumnElement[bool], cap: str) -> ColumnElement[int]:
    """How many rows, not refused, meet `condition`, counted up to the cap and no further:
    each count reads its own (partial) index."""
    held = (
        select(literal_column("1").label("held"))  # nothing from the table: index only
        # The very text of the indexes' condition (no parameter), so the planner uses them.
        .where(_COUNTED, condition)
        .limit(bindparam(cap, type_=Integer))
        .subquery()
    )
    return select(func.count()).select_from(held).scalar_subquery()


def _put_statement() -> Insert:
    """The row, written `pending` or `refused` by the first cap it would pass, in ONE statement:
    the counts of the last 24 hours (refused rows aside) are taken by the INSERT itself."""
    m = OutboundMessage
    recent = m.created_at > bindparam("day_ago", type_=UtcDateTime)
    linkedid = bindparam("linkedid", type_=String)
    same_call = m.linkedid == linkedid
    same_recipient = and_(m.to == bindparam("to", type_=String), recent)
    same_kind = and_(m.kind == bindparam("kind", type_=String), recent)
    per_call = bindparam("per_call", type_=Integer)
    per_recipient = bindparam("per_recipient", type_=Integer)
    per_kind = bindparam("per_kind", type_=Integer)
    refusal = case(
        (and_(linkedid.is_not(None), _counted(same_call, "per_call") >= per_call), "per_call"),
        (_counted(same_recipient, "per_recipient") >= per_recipient, "per_recipient"),
        (_counted(same_kind, "per_kind") >= per_kind, "per_kind"),
        else_=null(),
    ).label("refusal")
    decided = select(refusal).subquery()
    given = _ROW
    columns = m.__table__.c
    row = select(
        *(bindparam(name, type_=columns[name].type) for name in given),
        case((decided.c.refusal.is_(None), "pending"), else_=REFUSED),
        decided.c.refusal,
        bindparam("created_at", type_=UtcDateTime),
    )
    return (
        insert(m)
        .from_select([*given, "status", "refusal", "created_at"], row)
        .returning(m.id, m.refusal)
    )


# A row refused for its destination, and a row the caps decide on: statements prepared on the
# driver (integrations/prepared_reads.py), as callers ask for SMS mid-call on the event loop
# every other call shares.
_INSERT = PreparedRead(
    insert(OutboundMessage)
    .values(
        {
            name: bindparam(name, type_=OutboundMessage.__table__.c[name].type)
            for name in (*_ROW, "status", "refusal", "created_at")
        }
    )
    .returning(OutboundMessage.id)
)
_PUT = PreparedRead(_put_statement())
_LOCK = PreparedRead(select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger))))


def _lock_key(kind: str) -> int:
    """The advisory lock writers of one kind take turns on: a fixed 63-bit number per kind."""
    return 0x7A4D0000 + KINDS.index(kind)


class Outbox:
    def __init__(self, database: Database, limits: OutboxLimits | None = None) -> None:
        self.database = database
        self.limits = limits or OutboxLimits()
        # Writers of one kind also take turns within the process, before taking a connection:
        # waiting on the advisory lock would hold one from the pool every caller's lookup
        # shares. Measured (bench agi_server_load, 500 calls each asking an SMS): the waiting
        # transactions drained the pool and caller lookups took over 3 s; with this, 9 ms p99.
        self._turns: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[str, asyncio.Lock]
        ] = weakref.WeakKeyDictionary()

    def _turn(self, kind: str) -> asyncio.Lock:
        """This process's lock for writers of `kind`, on the running event loop."""
        turns = self._turns.setdefault(asyncio.get_running_loop(), {})
        return turns.setdefault(kind, asyncio.Lock())

    async def put(
        self,
        kind: str,
        *,
        to: str,
        subject: str,
        body: str,
        language: str = "fa",
        linkedid: str | None = None,
        customer_id: int | None = None,
    ) -> int:
        """Queue a message; its row id. Raises MessageRefused (after keeping the row as
        `refused`) past a cap or for a destination not allowed."""
        if kind not in KINDS:
            raise ValueError(f"message kind {kind!r} is not one of {', '.join(KINDS)}")
        now = datetime.now(UTC)
        refusal = self.limits.destinations.refusal(kind, to.strip())
        row = {
            "kind": kind,
            "to": to,
            "subject": subject,
            "body": body,
            "language": language,
            "linkedid": linkedid,
            "customer_id": customer_id,
            "status": "pending" if refusal is None else REFUSED,
            "refusal": refusal,
            "created_at": now,
        }
        if refusal is not None:
            # Refused for where it goes: kept as evidence, counted against nothing.
            async with reading(self.database) as writer:
                message_id = int((await writer.one(_INSERT, row)).id)
            raise MessageRefused(refusal, message_id)
        caps = {
            "day_ago": now - DAY,
            "per_call": self.limits.per_call,
            "per_recipient": self.limits.per_recipient_per_day,
            "per_kind": self.limits.per_kind_per_day.get(kind, 0),
        }
        async with self._turn(kind), writing(self.database) as writer:
            if self.database.engine.dialect.name == "postgresql":
                # Counted and written under the kind's lock, so no two writers (in any
                # process) count without each other. SQLite's INSERT takes its one write lock
                # before it reads.
                await writer.first(_LOCK, {"key": _lock_key(kind)})
            written = await writer.one(_PUT, {**row, **caps})
        if written.refusal is not None:
            raise MessageRefused(written.refusal, int(written.id))
        return int(written.id)

    async def put_many(
        self,
        kind: str,
        messages: Sequence[Mapping[str, Any]],
        now: datetime | None = None,
    ) -> list[tuple[int, str | None]]:
        """Queue many messages of one kind at once (the daily run's notices): the same caps
        and destination checks as `put`, decided for the whole batch under the kind's turn
        (one count of the kind, one of the batch's recipients) and written by one INSERT.
        Each message gives `to`, `subject`, `body` and optionally `language`, `linkedid`,
        `customer_id`. Returns (row id, refusal or None) in the order given; refused rows
        are kept, as `put` keeps them. No per-call cap: a batch belongs to no call."""
        if kind not in KINDS:
            raise ValueError(f"message kind {kind!r} is not one of {', '.join(KINDS)}")
        if not messages:
            return []
        now = now or datetime.now(UTC)
        day_ago = now - DAY
        m = OutboundMessage
        per_recipient = self.limits.per_recipient_per_day
        per_kind = self.limits.per_kind_per_day.get(kind, 0)
        async with self._turn(kind), self.database.engine.begin() as connection:
            if self.database.engine.dialect.name == "postgresql":
                # The same turn `put` takes: no other writer of the kind counts meanwhile.
                await connection.execute(select(func.pg_advisory_xact_lock(_lock_key(kind))))
            recent = and_(_COUNTED, m.created_at > day_ago)
            kind_held: Select[Any] = (
                select(literal_column("1")).where(recent, m.kind == kind).limit(per_kind)
            )
            kind_used = int(
                await connection.scalar(select(func.count()).select_from(kind_held.subquery())) or 0
            )
            recipients = sorted({str(message["to"]) for message in messages})
            used: dict[str, int] = {}
            for start in range(0, len(recipients), 1000):
                counted = await connection.execute(
                    select(m.to, func.count())
                    .where(recent, m.to.in_(recipients[start : start + 1000]))
                    .group_by(m.to)
                )
                used.update({to: int(count) for to, count in counted})
            rows = []
            for message in messages:
                to = str(message["to"])
                refusal = self.limits.destinations.refusal(kind, to.strip())
                if refusal is None and used.get(to, 0) >= per_recipient:
                    refusal = "per_recipient"
                if refusal is None and kind_used >= per_kind:
                    refusal = "per_kind"
                if refusal is None:
                    used[to] = used.get(to, 0) + 1
                    kind_used += 1
                rows.append(
                    {
                        "kind": kind,
                        "to": to,
                        "subject": message["subject"],
                        "body": message["body"],
                        "language": message.get("language", "fa"),
                        "linkedid": message.get("linkedid"),
                        "customer_id": message.get("customer_id"),
                        "status": "pending" if refusal is None else REFUSED,
                        "refusal": refusal,
                        "created_at": now,
                    }
                )
            written = await connection.execute(
                insert(m).returning(m.id, m.refusal, sort_by_parameter_order=True), rows
            )
            return [(int(row.id), row.refusal) for row in written]

    async def for_call(self, linkedid: str) -> list[OutboundMessage]:
        async with self.database.session() as session:
            rows = await session.scalars(
                select(OutboundMessage)
                .where(OutboundMessage.linkedid == linkedid)
                .order_by(OutboundMessage.id)
            )
            return list(rows)

    async def record_delivery(
        self,
        provider: str,
        provider_id: str,
        status: str,
        at: datetime | None = None,
        error: str | None = None,
        reference: str | None = None,
    ) -> int | None:
        """A delivery report matched to the message the provider took under `provider_id`
        (or, when the report names it, our `reference`: the outbox row id, for a message
        sent in parts that each have their own id); the outbox row id, or None when no
        message of ours matches. A final status (delivered, undelivered, expired, rejected)
        is never overwritten by a later passing one (reports can arrive out of order)."""
        if status not in DELIVERY_STATUSES:
            raise ValueError(f"delivery status {status!r} is not one of {DELIVERY_STATUSES}")
        m = OutboundMessage
        if reference is not None and reference.isdigit():
            matched = and_(m.provider == provider, m.id == int(reference))
        else:
            matched = and_(m.provider == provider, m.provider_id == provider_id)
        if status not in FINAL_DELIVERY:
            matched = and_(
                matched,
                or_(m.delivery_status.is_(None), m.delivery_status.not_in(FINAL_DELIVERY)),
            )
        statement = (
            update(m)
            .where(matched)
            .values(
                delivery_status=status,
                delivered_at=at or datetime.now(UTC),
                delivery_error=(error or None) and str(error)[:32],
            )
            .returning(m.id)
        )
        async with self.database.autocommit() as connection:
            row = (await connection.execute(statement)).first()
        return None if row is None else int(row.id)

    async def awaiting_delivery(
        self, provider: str, sent_after: datetime, limit: int = 100
    ) -> list[tuple[int, str]]:
        """(row id, provider id) of messages `provider` took after `sent_after` whose final
        delivery report has not come: what a profile that is asked (not told) polls."""
        m = OutboundMessage
        statement = (
            select(m.id, m.provider_id)
            .where(
                m.provider == provider,
                m.status == "sent",
                m.provider_id.is_not(None),
                m.sent_at > sent_after,
                or_(m.delivery_status.is_(None), m.delivery_status.not_in(FINAL_DELIVERY)),
            )
            .order_by(m.id)
            .limit(limit)
        )
        async with self.database.autocommit() as connection:
            rows = await connection.execute(statement)
            return [(int(row.id), str(row.provider_id)) for row in rows]
