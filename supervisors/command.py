"""`tamas report ingest|queues|agents|ivr|abandoned`: read Asterisk's queue_log into the event
store (once, or following it), and print the reports of docs/metrics.md as text or JSON, or
write them as CSV or XLSX. The figures are those the wallboard and the report page show."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from integrations import migrations
from integrations.database import Database
from supervisors import metrics, reports
from supervisors.events import EventStore
from supervisors.ingest import CelIngester, QueueLogIngester, default_queue_log, follow_cel
from tamas.errors import CommandError
from tamas.settings import Settings

REPORTS = reports.KINDS


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    ingest = sub.add_parser("ingest", help="read Asterisk's queue_log into the event store")
    ingest.add_argument(
        "--queue-log", type=Path, help="default: report_queue_log, or the sandbox's"
    )
    ingest.add_argument(
        "--follow", action="store_true", help="keep reading new lines until stopped"
    )
    ingest.add_argument("--poll", type=float, default=0.5, help="seconds between looks (--follow)")
    sub.add_parser(
        "rebuild", help="count the quarter-hour sums again (after the thresholds changed)"
    )
    for name in REPORTS:
        report = sub.add_parser(name, help=f"the {name} report over a period")
        report.add_argument(
            "--from", dest="start", required=True, help="first day, YYYY-MM-DD (Jalali: 1405-09-01)"
        )
        report.add_argument("--to", dest="end", required=True, help="last day, kept (YYYY-MM-DD)")
        report.add_argument("--json", action="store_true", help="print JSON")
        report.add_argument("--csv", type=Path, help="write the rows to this CSV file")
        report.add_argument("--xlsx", type=Path, help="write the rows to this XLSX file")
        report.add_argument(
            "--language", choices=("fa", "en", "ru"), help="fa: Jalali weeks and months"
        )
        if name in {"queues", "agents", "lines"}:
            report.add_argument(
                "--by", choices=[period.value for period in reports.Period], default="all"
            )
        if name == "abandoned":
            report.add_argument("--short", action="store_true", help="list short abandons too")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        thresholds = metrics.thresholds_from(settings)
        zone = ZoneInfo(settings.report_time_zone)
    except (ValueError, KeyError) as error:
        raise CommandError(str(error)) from None
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        store = EventStore(database, thresholds)
        if args.action == "ingest":
            return await _ingest(args, settings, store)
        if args.action == "rebuild":
            print(f"{await store.rebuild_quarters()} quarter-hour rows counted again")
            return 0
        calendar = reports.Calendar.for_language(
            settings.report_time_zone, args.language or settings.default_language
        )
        try:
            start, end = reports.interval(args.start, args.end, zone)
        except reports.BadRequest as error:
            raise CommandError(str(error)) from None
        request = reports.ReportRequest(
            kind=args.action,
            start=start,
            end=end,
            period=reports.Period(getattr(args, "by", "all")),
            calendar=calendar,
            thresholds=thresholds,
            include_short=getattr(args, "short", False),
        )
        if args.action == "ivr" and args.json and not (args.csv or args.xlsx):
            ivr = await reports.ivr_report(database, start, end)
            print(json.dumps(ivr.as_dict(), ensure_ascii=False, indent=2))
            return 0
        rows = await reports.report_rows(database, request)
        _output(args, rows)
    finally:
        await database.dispose()
    return 0


def _output(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    if args.csv:
        args.csv.write_text(reports.to_csv(rows), encoding="utf-8")
        print(f"wrote {len(rows)} rows to {args.csv}")
    if args.xlsx:
        args.xlsx.write_bytes(reports.to_xlsx(rows, args.action))
        print(f"wrote {len(rows)} rows to {args.xlsx}")
    if args.csv or args.xlsx:
        return
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    try:
        _print_text(rows)
    except BrokenPipeError:
        # Piped into `head`: the reader has what it wanted.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _print_text(rows: list[dict[str, Any]]) -> None:
    if not rows:
        print("nothing in this period")
        return
    columns, values = reports.table(rows)
    shown = [[_text(value) for value in row] for row in values]
    widths = [max(len(name), *(len(row[i]) for row in shown)) for i, name in enumerate(columns)]
    print("  ".join(name.ljust(width) for name, width in zip(columns, widths, strict=True)))
    for row in shown:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


async def _ingest(args: argparse.Namespace, settings: Settings, store: EventStore) -> int:
    path = args.queue_log or (
        Path(settings.report_queue_log)
        if settings.report_queue_log
        else default_queue_log(settings.sandbox_dir)
    )
    queue_log = QueueLogIngester(store, path)
    cel = CelIngester(store)
    if not args.follow:
        added = await queue_log.ingest()
        print(f"{path}: {added} new events ({queue_log.bad_lines} unreadable lines skipped)")
        print(f"CEL: {await cel.ingest()} new transfers behind Local channels")
        return 0
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    print(f"following {path} and Asterisk's CEL (Ctrl-C to stop)", file=sys.stderr)
    await asyncio.gather(queue_log.follow(stop, args.poll), follow_cel(cel, stop, args.poll))
    return 0
