"""The supervisors' tables. Each is written by `supervisors/events.py` alone (`EventStore`):
the queue events, one row per queue call derived from them, the calls' sums per quarter hour
and queue that the reports read, and where each ingestion source stopped reading. Beside
them, the tables Asterisk itself writes its CEL and CDR into on PostgreSQL, read only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime

QUEUE_LOG = "queue_log"
# Calls are summed per quarter hour (epoch seconds // 900): every time zone's offset is a
# whole number of quarters, so local hours, days, weeks and months are unions of them.
QUARTER_S = 900


class QueueEventRow(Base):
    __tablename__ = "supervisor_queue_events"
    __table_args__ = (
        Index("ix_supervisor_queue_events_callid", "callid"),
        Index("ix_supervisor_queue_events_at", "at"),
        Index("ix_supervisor_queue_events_event_at", "event", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    callid: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    agent: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(32))
    # The fields after EVENT, joined by "|" as queue_log writes them.
    data: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16), default=QUEUE_LOG)


class QueueCallRow(Base):
    """One caller's stay in one queue, as `metrics.queue_calls` derives it from the events:
    rewritten whenever an event of the call arrives, summed by the reports' SQL."""

    __tablename__ = "supervisor_queue_calls"
    __table_args__ = (
        UniqueConstraint(
            "callid", "queue", "entered_at", name="uq_supervisor_queue_calls_callid_queue_entered"
        ),
        Index("ix_supervisor_queue_calls_quarter_queue", "quarter", "queue"),
        Index("ix_supervisor_queue_calls_entered_at", "entered_at"),
        Index("ix_supervisor_queue_calls_outcome_entered_at", "outcome", "entered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    callid: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    quarter: Mapped[int] = mapped_column(Integer)
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    # metrics.CallEnd
    outcome: Mapped[str] = mapped_column(String(16))
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    wait_s: Mapped[float] = mapped_column(Float, default=0.0)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    agent: Mapped[str] = mapped_column(String(128), default="")
    transfer: Mapped[str | None] = mapped_column(String(16))


class QueueQuarterRow(Base):
    """`metrics.QueueTotals` of the calls that entered one queue in one quarter hour, kept up
    to date with every call rewritten, so a year's report sums thousands of rows, not
    millions. The columns that depend on thresholds were counted with the thresholds named in
    `thresholds` (`metrics.Thresholds.key`); "" when they were mixed: reports then sum the
    calls themselves until `tamas report rebuild`."""

    __tablename__ = "supervisor_queue_quarters"

    queue: Mapped[str] = mapped_column(String(64), primary_key=True)
    quarter: Mapped[int] = mapped_column(Integer, primary_key=True)
    thresholds: Mapped[str] = mapped_column(String(255))
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int] = mapped_column(Integer)
    answered_within_sl: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    short_abandoned: Mapped[int] = mapped_column(Integer)
    exit_timeout: Mapped[int] = mapped_column(Integer)
    exit_key: Mapped[int] = mapped_column(Integer)
    exit_empty: Mapped[int] = mapped_column(Integer)
    lost: Mapped[int] = mapped_column(Integer)
    waiting: Mapped[int] = mapped_column(Integer)
    transfers_blind: Mapped[int] = mapped_column(Integer)
    transfers_attended: Mapped[int] = mapped_column(Integer)
    wait_answered_s: Mapped[float] = mapped_column(Float)
    wait_abandoned_s: Mapped[float] = mapped_column(Float)
    talk_s: Mapped[float] = mapped_column(Float)
    # Never lowered when a call is rewritten (a maximum cannot be taken back): rebuild
    # recomputes it.
    longest_wait_s: Mapped[float] = mapped_column(Float)


class IngestPosition(Base):
    """Where one source was read up to: a file's identity and byte offset (queue_log), or the
    last id of a table (CEL). Written in the same transaction as the events it covers."""

    __tablename__ = "supervisor_ingest_positions"

    source: Mapped[str] = mapped_column(String(255), primary_key=True)
    # The file's inode, and a hash of its first line: a new file under the same name (a
    # rotation, or Asterisk truncating it) has another of either.
    inode: Mapped[int] = mapped_column(BigInteger, default=0)
    head: Mapped[str] = mapped_column(String(64), default="")
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last line read and how many identical lines ended the part read: the next
    # identical line gets the next repeat number, even across a restart.
    last_line: Mapped[str] = mapped_column(Text, default="")
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AsteriskCelRow(Base):
    """Asterisk's own channel event log, written by its cel_pgsql module when the database is
    PostgreSQL (tamas/asterisk/config.py): never by Tamas. The ingester reads the transfers
    from it (by id, in order) that queue_log cannot see."""

    __tablename__ = "asterisk_cel"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    eventtype: Mapped[str] = mapped_column(String(30))
    eventtime: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    userdeftype: Mapped[str | None] = mapped_column(String(255))
    cid_name: Mapped[str | None] = mapped_column(String(80))
    cid_num: Mapped[str | None] = mapped_column(String(80))
    cid_ani: Mapped[str | None] = mapped_column(String(80))
    cid_rdnis: Mapped[str | None] = mapped_column(String(80))
    cid_dnid: Mapped[str | None] = mapped_column(String(80))
    exten: Mapped[str | None] = mapped_column(String(80))
    context: Mapped[str | None] = mapped_column(String(80))
    channame: Mapped[str | None] = mapped_column(String(80))
    appname: Mapped[str | None] = mapped_column(String(80))
    appdata: Mapped[str | None] = mapped_column(String(512))
    amaflags: Mapped[int | None] = mapped_column(Integer)
    accountcode: Mapped[str | None] = mapped_column(String(32))
    peeraccount: Mapped[str | None] = mapped_column(String(32))
    uniqueid: Mapped[str | None] = mapped_column(String(150))
    linkedid: Mapped[str | None] = mapped_column(String(150), index=True)
    userfield: Mapped[str | None] = mapped_column(String(255))
    peer: Mapped[str | None] = mapped_column(String(80))
    extra: Mapped[str | None] = mapped_column(Text)


class AsteriskCdrRow(Base):
    """Asterisk's call detail records, written by its cdr_pgsql module (never by Tamas)."""

    __tablename__ = "asterisk_cdr"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    calldate: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    clid: Mapped[str | None] = mapped_column(String(80))
    src: Mapped[str | None] = mapped_column(String(80))
    dst: Mapped[str | None] = mapped_column(String(80))
    dcontext: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(80))
    dstchannel: Mapped[str | None] = mapped_column(String(80))
    lastapp: Mapped[str | None] = mapped_column(String(80))
    lastdata: Mapped[str | None] = mapped_column(String(512))
    duration: Mapped[int | None] = mapped_column(Integer)
    billsec: Mapped[int | None] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String(45))
    amaflags: Mapped[int | None] = mapped_column(Integer)
    accountcode: Mapped[str | None] = mapped_column(String(32))
    uniqueid: Mapped[str | None] = mapped_column(String(150))
    linkedid: Mapped[str | None] = mapped_column(String(150), index=True)
    userfield: Mapped[str | None] = mapped_column(String(255))
    peeraccount: Mapped[str | None] = mapped_column(String(32))
    sequence: Mapped[int | None] = mapped_column(Integer)
