"""The queue report over millions of queue_log rows on PostgreSQL, beside the naive query.

Fills its own database (`tamas_bench_queue_report`) once with a year of queue calls for 20
queues: the raw events as the ingester stores them (`supervisor_queue_events`, about 2.7 per
call), the per-call rows it derives (`supervisor_queue_calls`) and their quarter-hour sums
(`supervisor_queue_quarters`, counted by `tamas report rebuild`'s code). Then times, in the
same run, the report `tamas report queues --by day` makes for the year against a naive query
that computes the same figures straight from the raw rows, and checks both give the same
totals. Goal: under 5 s for 10,000,000 rows (`--rows 10000000`); the default is 500,000 rows
(under a minute, filling included).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, datetime

import asyncpg
from sqlalchemy import func, select

from integrations import migrations
from integrations.database import Database
from supervisors import reports
from supervisors.events import EventStore, QueueEventRow
from supervisors.metrics import Thresholds

GOAL_S = 5.0
QUEUES = 20
START = datetime(2025, 12, 1, tzinfo=UTC)
SPAN_S = 365 * 24 * 3600
# Rows per call: ENTERQUEUE, its end (CONNECT, ABANDON or EXITWITHTIMEOUT) and, for the 70%
# answered, COMPLETECALLER.
ROWS_PER_CALL = 2.7
THRESHOLDS = Thresholds(service_level_s=20, short_abandon_s=5)

# n: the call's number; its queue, moment, wait and end follow from n alone.
_CALLS = """
WITH c AS (
  SELECT n,
         'q' || (n % {queues}) AS queue,
         to_timestamp({start} + (n::bigint * {span}) / {calls}) AS at,
         (n * 7919) % 61 AS wait,
         CASE WHEN n % 10 < 7 THEN 'answered' WHEN n % 10 < 9 THEN 'abandoned' ELSE 'timeout' END
           AS outcome,
         30 + (n * 31) % 600 AS talk
  FROM generate_series(0::bigint, {calls} - 1) AS n
)
"""
FILL_CALLS = (
    _CALLS
    + """
INSERT INTO supervisor_queue_calls
  (callid, queue, entered_at, quarter, caller_number, outcome, ended_at, completed_at, wait_s,
   talk_s, agent, transfer)
SELECT 'b' || n, queue, at, floor(extract(epoch FROM at) / 900)::int,
       '0912' || lpad((n % 10000000)::text, 7, '0'), outcome,
       at + make_interval(secs => wait),
       CASE WHEN outcome = 'answered' THEN at + make_interval(secs => wait + talk) END,
       wait, CASE WHEN outcome = 'answered' THEN talk ELSE 0 END,
       CASE WHEN outcome = 'answered' THEN 'Agent ' || (100 + n % 50) ELSE '' END,
       CASE WHEN outcome = 'answered' AND n % 50 = 0 THEN 'blind' END
FROM c
"""
)
FILL_EVENTS = (
    _CALLS
    + """
INSERT INTO supervisor_queue_events (key, at, callid, queue, agent, event, data, source)
SELECT md5(n || e.event), at + make_interval(secs => e.offset_s), 'b' || n, queue, e.agent,
       e.event, e.data, 'queue_log'
FROM c CROSS JOIN LATERAL (VALUES
  ('ENTERQUEUE', 0, 'NONE', '|0912' || lpad((n % 10000000)::text, 7, '0') || '|1'),
  (CASE outcome WHEN 'answered' THEN 'CONNECT' WHEN 'abandoned' THEN 'ABANDON'
                ELSE 'EXITWITHTIMEOUT' END,
   wait,
   CASE WHEN outcome = 'answered' THEN 'Agent ' || (100 + n % 50) ELSE 'NONE' END,
   CASE WHEN outcome = 'answered' THEN wait || '|x|1' ELSE '1|1|' || wait END),
  (CASE WHEN outcome = 'answered' THEN 'COMPLETECALLER' END, wait + talk,
   'Agent ' || (100 + n % 50), wait || '|' || talk || '|1')
) AS e(event, offset_s, agent, data)
WHERE e.event IS NOT NULL
"""
)
# What a report written straight over the raw rows looks like: each figure a filter over
# every event of the period, waits parsed out of the data field row by row.
NAIVE = """
SELECT queue, date_trunc('day', timezone('Asia/Tehran', at)) AS day,
       count(*) FILTER (WHERE event = 'ENTERQUEUE') AS offered,
       count(*) FILTER (WHERE event = 'CONNECT') AS answered,
       count(*) FILTER (WHERE event = 'CONNECT' AND split_part(data, '|', 1)::int <= $3)
         AS answered_within_sl,
       count(*) FILTER (WHERE event = 'ABANDON' AND split_part(data, '|', 3)::int >= $4)
         AS abandoned,
       count(*) FILTER (WHERE event = 'ABANDON' AND split_part(data, '|', 3)::int < $4)
         AS short_abandoned,
       count(*) FILTER (WHERE event = 'EXITWITHTIMEOUT') AS exit_timeout,
       avg(split_part(data, '|', 1)::int) FILTER (WHERE event = 'CONNECT') AS asa_s,
       sum(split_part(data, '|', 2)::int) FILTER (WHERE event = 'COMPLETECALLER') AS talk_s
FROM supervisor_queue_events
WHERE at >= $1 AND at < $2
GROUP BY 1, 2
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rows", type=int, default=500_000, help="queue_log rows (10000000)")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="tamas_bench_queue_report")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (best kept)")


async def _ensure_database(server: str, name: str, drop: bool) -> str:
    admin = await asyncpg.connect(f"{server}/postgres")
    try:
        if drop:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{server}/{name}"


async def _stored_rows(url: str) -> int:
    database = Database("postgresql+asyncpg://" + url.split("://", 1)[1])
    try:
        async with database.autocommit() as connection:
            return int(
                await connection.scalar(select(func.count()).select_from(QueueEventRow)) or 0
            )
    finally:
        await database.dispose()


async def _count_quarters(url: str) -> None:
    """The quarter-hour sums the ingester keeps, counted from the filled calls at once."""
    database = Database(url)
    try:
        started = time.perf_counter()
        counted = await EventStore(database, THRESHOLDS).rebuild_quarters()
        print(f"{counted:,} quarter-hour rows counted in {time.perf_counter() - started:.0f} s")
    finally:
        await database.dispose()


async def _fill(url: str, rows: int) -> None:
    calls = int(rows / ROWS_PER_CALL)
    values = {"queues": QUEUES, "start": int(START.timestamp()), "span": SPAN_S, "calls": calls}
    print(f"filling {calls:,} calls (about {rows:,} queue_log rows) ...", flush=True)
    started = time.perf_counter()
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(FILL_CALLS.format(**values))
        await connection.execute(FILL_EVENTS.format(**values))
        await connection.execute("VACUUM ANALYZE supervisor_queue_calls")
        await connection.execute("VACUUM ANALYZE supervisor_queue_events")
    finally:
        await connection.close()
    print(f"filled in {time.perf_counter() - started:.0f} s", flush=True)


async def run(args: argparse.Namespace) -> int:
    url = await _ensure_database(args.server, args.database, drop=False)
    sqlalchemy_url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    await migrations.upgrade(sqlalchemy_url)
    stored = await _stored_rows(url)
    if abs(stored - args.rows) > args.rows * 0.02:
        url = await _ensure_database(args.server, args.database, drop=True)
        await migrations.upgrade(sqlalchemy_url)
        await _fill(url, args.rows)
        stored = await _stored_rows(url)
        await _count_quarters(sqlalchemy_url)
    calendar = reports.Calendar.for_language("Asia/Tehran", "en")
    # Whole local days, as `tamas report queues --from --to` asks.
    start, end = reports.interval("2025-12-01", "2026-12-01", calendar.zone)
    database = Database(sqlalchemy_url)
    naive_connection = await asyncpg.connect(url)
    try:
        ours_s, naive_s = [], []
        rows: list[reports.QueueRow] = []
        naive: list[asyncpg.Record] = []
        for _ in range(args.runs):
            started = time.perf_counter()
            rows = await reports.queue_report(
                database, start, end, reports.Period.DAY, calendar, THRESHOLDS
            )
            ours_s.append(time.perf_counter() - started)
            started = time.perf_counter()
            naive = await naive_connection.fetch(
                NAIVE, start, end, THRESHOLDS.service_level_s, THRESHOLDS.short_abandon_s
            )
            naive_s.append(time.perf_counter() - started)
    finally:
        await naive_connection.close()
        await database.dispose()
    ours_total = {
        name: sum(getattr(row.figures, name) for row in rows if row.figures.queue != "*")
        for name in ("offered", "answered", "answered_within_sl", "abandoned", "short_abandoned")
    }
    naive_total = {name: sum(int(record[name]) for record in naive) for name in ours_total}
    best, naive_best = min(ours_s), min(naive_s)
    print(f"queue_log rows: {stored:,}; queues: {QUEUES}; one year by day ({len(rows):,} rows)")
    print(f"report (tamas report queues --by day): {best:.2f} s (best of {args.runs})")
    print(f"naive query over the raw rows:          {naive_best:.2f} s")
    print(
        f"ratio naive/report: {naive_best / best:.1f}x; goal under {GOAL_S:.0f} s: "
        f"{'met' if best < GOAL_S else 'NOT met'}"
    )
    if ours_total != naive_total:
        print(f"MISMATCH: report totals {ours_total} != naive totals {naive_total}")
        return 1
    print(f"same totals both ways: {ours_total}")
    return 0 if best < GOAL_S else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench queue_report", description=__doc__)
    configure(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
