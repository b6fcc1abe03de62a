"""`tamas cases ...`: open a case, list a team's or a person's cases, show one with its timeline
and tasks, run the SLA scan (print what is due or breached; with --escalate fire the escalation
steps and publish their alerts), print reports, sync complaints with the central complaint
system, and give partners their keys and tokens. docs/cases.md has more."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from cases import partners, reports, types
from cases.central import CentralComplaints, CentralSync
from cases.escalation import DueCase, SlaScan
from cases.notices import CaseNotices, NotifyBy
from cases.registry import from_settings
from cases.store import CaseChannel, CaseError, CaseRequest, CaseStore, CaseView
from cases.tasks import CaseTasks
from cases.types import CaseFieldError, parse_date
from customer_file.identifiers import InvalidIdentifier
from dialer.exports import FORMATS, as_csv, as_xlsx
from integrations import migrations
from integrations.database import Database
from integrations.messaging.outbox import Outbox, OutboxLimits
from ivr.hours import TEHRAN
from tamas.bus import make_bus
from tamas.documents import DefinitionError
from tamas.errors import CommandError
from tamas.settings import Settings


def _field(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: give a field as name=value")
    return name.strip(), value


def _day(text: str) -> datetime:
    """Midnight in Tehran of a day given as Jalali (1404-07-01) or ISO (2025-09-23)."""
    try:
        day = parse_date("date", text)
    except CaseFieldError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return datetime.combine(day, time(0), TEHRAN)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--types", type=Path, default=types.DEFAULT_PATH, help="case types file")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="open a case")
    create.add_argument("type", help="a type of cases/types.yaml")
    create.add_argument("--field", type=_field, action="append", default=[], help="name=value")
    create.add_argument("--summary", default="")
    create.add_argument("--channel", choices=[c.value for c in CaseChannel], default="desktop")
    create.add_argument("--by", default="cli", help="who opens it (agent:101)")
    for name in (
        "phone",
        "national-id",
        "company-id",
        "line",
        "region",
        "tier",
        "partner",
        "email",
    ):
        create.add_argument(f"--{name}")
    create.add_argument("--language", choices=("fa", "en", "ru"), default="fa")
    create.add_argument(
        "--notify-by",
        choices=[n.value for n in NotifyBy],
        default="sms",
        help="tell the customer by",
    )
    listing = sub.add_parser("list", help="open cases, most urgent deadline first")
    listing.add_argument("--team")
    listing.add_argument("--owner")
    listing.add_argument("--partner")
    listing.add_argument("--all", action="store_true", help="resolved and closed cases too")
    listing.add_argument("--limit", type=int, default=50)
    show = sub.add_parser("show", help="a case with its timeline and tasks")
    show.add_argument("tracking_number")
    scan = sub.add_parser("scan", help="cases whose deadline is near or passed")
    scan.add_argument(
        "--escalate", action="store_true", help="fire the escalation steps and publish alerts"
    )
    scan.add_argument(
        "--every", type=float, metavar="SECONDS", help="with --escalate: run until stopped"
    )
    sub.add_parser("types", help="check the types file and print its types")
    sub.add_parser("recompute", help="open cases' deadlines again, after the calendar changed")
    sub.add_parser("central-sync", help="export complaints to the central complaint system")
    report = sub.add_parser("report", help="a report for a period (docs/cases.md)")
    report.add_argument("name", choices=reports.REPORTS)
    report.add_argument("--from", dest="start", type=_day, required=True, help="1404-07-01")
    report.add_argument("--to", dest="end", type=_day, required=True, help="first day after")
    report.add_argument("--gregorian", action="store_true", help="months as Gregorian")
    report.add_argument("--format", choices=FORMATS, help="write CSV or XLSX to --output")
    report.add_argument("--output", type=Path)
    token = sub.add_parser("partner-token", help="issue a partner's API token")
    token.add_argument("partner")
    token.add_argument("--key", required=True, help="the key id in the partners file")
    token.add_argument("--days", type=int, default=90, help="valid for (default 90 days)")
    sub.add_parser("partner-key", help="print a new random key for the partners file")
    for each in (create, listing, show, scan):
        each.add_argument("--json", action="store_true", help="print JSON")


def _line(case: CaseView | DueCase) -> str:
    due = _tehran(case.next_due_at) if case.next_due_at else "-"
    breached = f" BREACHED:{','.join(case.breached)}" if case.breached else ""
    return (
        f"{case.tracking_number}  {case.type:26} {case.state:16} {case.priority:7} "
        f"{case.team:14} {case.owner or '-':6} due {due} ({case.next_due_clock or '-'}){breached}"
    )


def _tehran(moment: datetime) -> str:
    """A moment as the contact centre's clock shows it (the command prints for its staff)."""
    return moment.astimezone(TEHRAN).strftime("%Y-%m-%d %H:%M")


def _hours(span: timedelta | None) -> str:
    return "-" if span is None else f"{span.total_seconds() / 3600:g}h"


def _print(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


async def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        case_types = types.load(args.types)
    except DefinitionError as error:
        raise CommandError(str(error)) from None
    if args.action == "partner-key":
        print(partners.new_key())
        return 0
    if args.action == "partner-token":
        registry = partners.load(settings.cases_partners_path)
        if args.partner not in registry.by_id:
            raise CommandError(
                f"no partner {args.partner!r} in the partners file "
                f"({settings.cases_partners_path or 'cases_partners_path is not set'})"
            )
        try:
            print(registry.issue(args.partner, args.key, datetime.now(UTC) + timedelta(args.days)))
        except KeyError as error:
            raise CommandError(str(error.args[0])) from None
        return 0
    if args.action == "types":
        for name, case_type in case_types.types.items():
            sla = case_type.sla
            print(
                f"{name:26} team {case_type.team:14} workflow {case_type.workflow.name:9} "
                f"SLA {sla.name} ({_hours(sla.first_response)} / {_hours(sla.resolution)} "
                "business hours)"
            )
        return 0
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        civil = from_settings(settings.cases_registry_url, settings.cases_registry_token)
        notices = CaseNotices(Outbox(database, OutboxLimits.from_settings(settings)))
        store = CaseStore(database, case_types, registry=civil, notices=notices)
        return await _act(args, settings, store)
    except (CaseError, CaseFieldError, InvalidIdentifier) as error:
        raise CommandError(str(error)) from None
    finally:
        await database.dispose()


async def _act(args: argparse.Namespace, settings: Settings, store: CaseStore) -> int:
    if args.action == "create":
        case = await store.open_case(
            CaseRequest(
                args.type,
                CaseChannel(args.channel),
                args.by,
                args.summary,
                dict(args.field),
                phone=args.phone,
                national_id=args.national_id,
                company_id=args.company_id,
                line=args.line,
                region=args.region,
                tier=args.tier,
                partner=args.partner,
                language=args.language,
                notify_by=NotifyBy(args.notify_by),
                email=args.email,
            )
        )
        _print(case.as_dict()) if args.json else print(f"opened {_line(case)}")
    elif args.action == "list":
        cases = await store.find(
            team=args.team,
            owner=args.owner,
            partner=args.partner,
            open_only=not args.all,
            limit=args.limit,
        )
        if args.json:
            _print([case.as_dict() for case in cases])
        else:
            for case in cases:
                print(_line(case))
    elif args.action == "show":
        case = await store.get(args.tracking_number)
        timeline = await store.timeline(case.tracking_number)
        tasks = await CaseTasks(store.database).for_case(case.tracking_number)
        if args.json:
            _print(
                {
                    "case": case.as_dict(),
                    "timeline": [entry.__dict__ for entry in timeline],
                    "tasks": [task.__dict__ for task in tasks],
                }
            )
        else:
            print(_line(case))
            print(f"  {case.summary}  fields: {json.dumps(case.fields, ensure_ascii=False)}")
            for entry in timeline:
                extra = json.dumps(entry.data, ensure_ascii=False) if entry.data else ""
                print(f"  {_tehran(entry.at)} {entry.kind:12} "
                      f"{entry.actor:18} {entry.note} {extra}")  # fmt: skip
            for task in tasks:
                done = "done" if task.done_at else "open"
                print(f"  task {task.id} [{done}] {_tehran(task.control_at)} {task.title}")
    elif args.action == "scan":
        return await _scan(args, settings, store)
    elif args.action == "recompute":
        print(f"deadlines recomputed for {await store.recompute_open()} open cases")
    elif args.action == "central-sync":
        if not settings.cases_central_url:
            raise CommandError("cases_central_url is not set: complaints are not exported")
        central = CentralComplaints(settings.cases_central_url, settings.cases_central_token)
        synced = await CentralSync(store, central).run()
        print(f"exported {synced.exported}, updated {synced.updated}, "
              f"regulator notes {synced.regulator_notes}")  # fmt: skip
        for refusal in synced.refused:
            print(f"refused: {refusal}")
        if synced.outage:
            print(f"stopped: {synced.outage} (the next run carries on)")
            return 1
    elif args.action == "report":
        found = await reports.report(
            store.database, args.name, args.start, args.end, jalali=not args.gregorian
        )
        if args.format:
            output = args.output or Path(f"cases-{args.name}.{args.format}")
            writer = as_csv if args.format == "csv" else partial(as_xlsx, title=args.name)
            output.write_bytes(writer(found.header, found.rows))
            print(f"wrote {output} ({len(found.rows)} rows)")
        else:
            print("\t".join(found.header))
            for row in found.rows:
                print("\t".join("" if value is None else str(value) for value in row))
    return 0


async def _scan(args: argparse.Namespace, settings: Settings, store: CaseStore) -> int:
    now = datetime.now(UTC)
    if not args.escalate:
        cases = await SlaScan(store).due(now)
        if args.json:
            _print([case._asdict() | {"breached": list(case.breached)} for case in cases])
        else:
            for case in cases:
                print(_line(case))
            overdue = len([case for case in cases if case.next_due_at <= now])
            print(f"{len(cases)} due soon or passed ({overdue} passed)")
        return 0
    bus = make_bus(settings.redis_url)
    await bus.start()
    try:
        while True:
            try:
                fired = await SlaScan(store, bus).run(datetime.now(UTC))
            except DBAPIError as error:
                if not args.every:
                    raise
                # A database restart must not end the scanner: the next round tries again.
                print(f"scan failed: {type(error.orig).__name__}; again in {args.every} s")
                fired = []
            if args.json:
                _print([fire.__dict__ for fire in fired])
            else:
                for fire in fired:
                    print(f"{fire.tracking_number}  {fire.action.value} -> {fire.to or '-'}")
                print(f"{len(fired)} escalation steps fired", flush=True)
            if not args.every:
                return 0
            await asyncio.sleep(args.every)
    finally:
        await bus.close()
