"""`tamas notices daily|poll|sync|resume`: the daily run of reminders, the poller of the core
database's events, carrying delivery reports onto the customers' records, and finishing
notices a dead process left half-done. docs/notices.md describes each."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from integrations import migrations
from integrations.core_events import CoreDatabaseUnavailable, CoreEventTable, CorePoller
from integrations.customer_file.adapters import open_customer_file
from integrations.customer_file.reminders import DueReminders
from integrations.database import Database
from integrations.messaging.outbox import Outbox, OutboxLimits
from messaging import notice_kinds
from messaging.core_webhook import insurer_names
from messaging.daily import Horizons, campaigns_by_kind, daily_run
from messaging.notifier import Notifier
from tamas.errors import CommandError
from tamas.settings import Settings

log = logging.getLogger(__name__)
TEHRAN = ZoneInfo("Asia/Tehran")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    daily = sub.add_parser("daily", help="send the day's reminders (due, overdue, ending...)")
    daily.add_argument("--date", type=date.fromisoformat, help="the day (default: today)")
    daily.add_argument("--json", action="store_true", help="the report as one JSON object")
    daily.add_argument(
        "--every-day-at",
        type=time.fromisoformat,
        metavar="HH:MM",
        help="stay running and do the run every day at this Tehran time",
    )
    poll = sub.add_parser("poll", help="read the core database's new events and send notices")
    poll.add_argument("--follow", action="store_true", help="keep polling")
    poll.add_argument("--every", type=float, default=5.0, help="seconds between polls")
    sub.add_parser("sync", help="carry the messages' delivery status onto the records")
    sub.add_parser("resume", help="finish notices a dead process left half-done")


def _horizons(settings: Settings) -> Horizons:
    return Horizons(
        installment_days_before=settings.notice_installment_days_before,
        overdue_days_after=settings.notice_overdue_days_after,
        cheque_days_before=settings.notice_cheque_days_before,
        policy_days_before=settings.notice_policy_days_before,
        meeting_days_before=settings.notice_meeting_days_before,
    )


def _notifier(settings: Settings, database: Database) -> Notifier:
    try:
        kinds = notice_kinds.load()
    except notice_kinds.NoticeError as error:
        raise CommandError(str(error)) from None
    return Notifier(
        database,
        open_customer_file(settings, database),
        Outbox(database, OutboxLimits.from_settings(settings)),
        kinds,
        insurer_names(settings),
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        notifier = _notifier(settings, database)
        if args.action == "daily":
            if args.every_day_at is None:
                day = args.date or datetime.now(TEHRAN).date()
                await _daily(notifier, database, day, settings, args.json)
            else:
                while True:
                    await asyncio.sleep(_seconds_until(args.every_day_at, datetime.now(TEHRAN)))
                    day = datetime.now(TEHRAN).date()
                    await _daily(notifier, database, day, settings, args.json)
        elif args.action == "poll":
            await _poll(notifier, settings, args.follow, args.every)
        elif args.action == "sync":
            changed = await notifier.sync_deliveries(expire_after_h=settings.notice_expire_after_h)
            print(f"{changed} records changed")
        elif args.action == "resume":
            print(f"{await notifier.resume()} notices settled")
    finally:
        await database.dispose()
    return 0


def _seconds_until(at: time, now: datetime) -> float:
    moment = now.replace(hour=at.hour, minute=at.minute, second=0, microsecond=0)
    if moment <= now:
        moment += timedelta(days=1)
    return (moment - now).total_seconds()


async def _daily(
    notifier: Notifier, database: Database, day: date, settings: Settings, as_json: bool
) -> None:
    try:
        campaigns = campaigns_by_kind(settings.notice_campaigns)
    except ValueError as error:
        raise CommandError(str(error)) from None
    report = await daily_run(
        notifier, DueReminders(database), day, _horizons(settings), campaigns=campaigns
    )
    if as_json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
        return
    found = ", ".join(f"{kind} {count}" for kind, count in sorted(report.found.items()))
    done = ", ".join(f"{status} {count}" for status, count in sorted(report.results.items()))
    print(f"{day}: found {found or 'nothing'}; {done or 'nothing sent'}")
    for problem in report.problems:
        print(f"  {problem}")


async def _poll(notifier: Notifier, settings: Settings, follow: bool, every_s: float) -> None:
    if not settings.core_events_database_url:
        raise CommandError("set core_events_database_url to the core database's URL")
    try:
        table = CoreEventTable(settings.core_events_database_url, settings.core_events_table)
    except ValueError as error:
        raise CommandError(str(error)) from None
    poller = CorePoller(table, notifier)
    try:
        while True:
            try:
                report = await poller.poll_once()
            except CoreDatabaseUnavailable as error:
                if not follow:
                    raise CommandError(f"the core database is unavailable: {error}") from None
                log.warning("notices: core database unavailable (%s); retrying", error)
            else:
                if report.read or not follow:
                    print(
                        f"read {report.read}: sent {report.sent}, duplicates "
                        f"{report.duplicates}, skipped {report.skipped}, bad {len(report.bad)} "
                        f"(position {report.position})",
                        flush=True,
                    )
                for problem in report.bad:
                    print(f"  {problem}")
                if report.read:
                    continue  # more may be waiting
            if not follow:
                return
            await asyncio.sleep(every_s)
    finally:
        await table.close()
