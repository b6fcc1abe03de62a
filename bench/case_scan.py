"""The SLA scan over open cases on PostgreSQL: the cases due or breached, found from the stored,
indexed next deadline (`tamas cases scan`), beside the naive scan that loads every open case's
clock events and computes its deadlines in Python, in the same run. Goal: under 1 s with
1,000,000 open cases (`--full`; the default is 50,000 for a quick run). The data set is built
in its own database (`tamas_bench_cases`) and reused while its size matches.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from bench.customer_lookup import _ensure_database
from cases import types
from cases.calendar import BusinessCalendar, iranian_holidays
from cases.escalation import SlaScan
from cases.sla import ClockEvent, ClockEventKind, Sla, compute_clocks
from cases.store import CaseStore, _sla_data, _sla_of
from integrations import migrations
from integrations.database import Database
from ivr.hours import TEHRAN

FULL = 1_000_000
# The scan's moment: a Wednesday morning without holidays around it.
NOW = datetime(2025, 10, 15, 11, 0, tzinfo=TEHRAN)
# Cases opened every 10 minutes over the week before; 3% are callbacks (8 h to resolve),
# the rest claim files with an adjuster (80 h): a few percent are due, as in a real queue.
OPENINGS = [NOW - timedelta(minutes=10 * step) for step in range(1, 7 * 24 * 6)]
SHORT_SHARE = 0.03
CASE_COLUMNS = (
    "id", "tracking_number", "type", "state", "status", "priority", "channel", "team", "summary",
    "fields", "sla_name", "opened_at", "updated_at", "first_response_due_at",
    "resolution_due_at", "next_due_at", "next_due_clock", "escalation_step", "breached",
)  # fmt: skip
EVENT_COLUMNS = ("case_id", "at", "kind", "actor", "note", "data")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cases", type=int, default=50_000, help="open cases")
    parser.add_argument("--full", action="store_true", help=f"{FULL:,} open cases (the goal)")
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=20_000,
        help="cases the naive scan computes (its time is scaled up to all when fewer)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="fast scans timed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--server", default="postgresql://postgres@127.0.0.1:5432", help="PostgreSQL server"
    )
    parser.add_argument("--database", default="tamas_bench_cases")


def _log(sla: Sla, opened: datetime) -> list[ClockEvent]:
    return [
        ClockEvent(opened, ClockEventKind.OPENED),
        ClockEvent(opened, ClockEventKind.SLA_SET, sla),
        ClockEvent(opened + timedelta(minutes=5), ClockEventKind.RESPONDED),
    ]


async def _build(connection: asyncpg.Connection, count: int, seed: int) -> None:
    """COPY `count` open cases and their clock events, each row's deadlines computed once per
    distinct (opening, SLA): what CaseStore would have stored."""
    case_types = types.load()
    calendar = BusinessCalendar(holidays=iranian_holidays())
    slas = (case_types.slas["callback"], case_types.slas["adjuster"])
    computed = {
        (sla.name, opened): compute_clocks(_log(sla, opened), calendar, NOW)
        for sla in slas
        for opened in OPENINGS
    }
    rng = random.Random(seed)
    cases: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for case_id in range(1, count + 1):
        sla = slas[0] if rng.random() < SHORT_SHARE else slas[1]
        opened = rng.choice(OPENINGS)
        clocks = computed[(sla.name, opened)]
        due = clocks.next_due
        type_name = "callback" if sla is slas[0] else "claim_to_adjuster"
        cases.append(
            (case_id, f"3{case_id:08d}", type_name, "in_progress", "open", "normal", "ivr",
             "customer_care", "", "{}", sla.name, opened, opened, None,
             clocks.resolution.due, due[1] if due else None, due[0].value if due else None, 0,
             "")
        )  # fmt: skip
        for event in _log(sla, opened):
            data = _sla_data(event.sla) if event.sla else {}
            events.append((case_id, event.at, event.kind.value, "bench", "", json.dumps(data)))
        if len(cases) >= 50_000:
            await _copy(connection, cases, events)
    await _copy(connection, cases, events)
    await connection.execute("ANALYZE cases; ANALYZE case_events")


async def _copy(
    connection: asyncpg.Connection, cases: list[tuple[Any, ...]], events: list[tuple[Any, ...]]
) -> None:
    await connection.copy_records_to_table("cases", records=cases, columns=CASE_COLUMNS)
    await connection.copy_records_to_table("case_events", records=events, columns=EVENT_COLUMNS)
    cases.clear()
    events.clear()


async def _naive(connection: asyncpg.Connection, sample: int, horizon: datetime) -> set[int]:
    """Load every open case's clock events and compute its deadlines: what a case system
    without a stored next deadline does on each scan."""
    rows = await connection.fetch(
        "SELECT e.case_id, e.at, e.kind, e.data FROM case_events e JOIN cases c"
        " ON c.id = e.case_id WHERE c.status = 'open' AND c.id <= $1 ORDER BY e.case_id, e.id",
        sample,
    )
    logs: dict[int, list[ClockEvent]] = defaultdict(list)
    for row in rows:
        kind = ClockEventKind(row["kind"])
        sla = _sla_of(json.loads(row["data"])) if kind is ClockEventKind.SLA_SET else None
        logs[row["case_id"]].append(ClockEvent(row["at"], kind, sla))
    calendar = BusinessCalendar(holidays=iranian_holidays())
    due = set()
    for case_id, log in logs.items():
        next_due = compute_clocks(log, calendar, NOW).next_due
        if next_due is not None and next_due[1] <= horizon:
            due.add(case_id)
    return due


async def run(args: argparse.Namespace) -> int:
    count = FULL if args.full else args.cases
    url = await _ensure_database(args.server, args.database)
    dsn = f"{args.server}/{args.database}"
    connection = await asyncpg.connect(dsn)
    try:
        await migrations.upgrade(url)
        present = await connection.fetchval("SELECT count(*) FROM cases")
        if present != count:
            print(f"building {count:,} open cases (once; reused while the size matches)...")
            started = time.perf_counter()
            await connection.execute("TRUNCATE cases CASCADE")
            await _build(connection, count, args.seed)
            print(f"  built in {time.perf_counter() - started:.1f} s")
        database = Database(url)
        try:
            scan = SlaScan(CaseStore(database, types.load()), clock=lambda: NOW)
            horizon = NOW + scan.lookahead
            await scan.due(NOW, limit=count)  # warm the pool and the plan
            timings, found = [], []
            for _ in range(args.repeat):
                started = time.perf_counter()
                found = await scan.due(NOW, limit=count)
                timings.append(time.perf_counter() - started)
        finally:
            await database.dispose()
        sample = min(args.naive_sample, count)
        started = time.perf_counter()
        naive = await _naive(connection, sample, horizon)
        naive_s = (time.perf_counter() - started) * count / sample
    finally:
        await connection.close()
    fast_s = statistics.median(timings)
    fast_ids = {case.id for case in found}
    agrees = {i for i in fast_ids if i <= sample} == naive
    scaled = "" if sample == count else f" (measured on {sample:,}, scaled to {count:,})"
    print(f"open cases: {count:,}; due or breached at {NOW:%Y-%m-%d %H:%M} Tehran: {len(found):,}")
    print(f"  stored deadline, indexed (tamas cases scan): {fast_s * 1000:.0f} ms median")
    print(f"  naive, every log computed in Python:        {naive_s * 1000:.0f} ms{scaled}")
    print(f"  ratio naive/stored: {naive_s / fast_s:.1f}x; same cases found: {agrees}")
    goal = "met" if fast_s < 1.0 else "NOT met"
    print(f"  goal under 1 s with {count:,} open cases: {goal}")
    return 0 if agrees else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench case_scan", description=__doc__)
    configure(parser)
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
