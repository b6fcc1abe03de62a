"""`tamas campaign create|import|select|preview|status|export|sms-fallback`: make a campaign
from a kind, import its targets from CSV or XLSX with the validation report or select them
from the customer file by the kind's rule, look at who would be called and when, print its
figures (as JSON with --json), export its results, and send the SMS fallback.
docs/campaigns.md describes each command."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer import control, exports, fallback, imports, kinds, selection
from dialer.attempts import Attempts
from dialer.campaigns import Campaigns
from dialer.status import campaign_status
from dialer.tables import THIRTY_DAYS_S
from integrations import migrations
from integrations.database import Database
from integrations.messaging.outbox import Outbox, OutboxLimits
from interactions.records import InteractionRecords
from tamas.errors import CommandError
from tamas.settings import Settings

DURATION = re.compile(r"^(\d+)([dh])$")


def _duration_s(text: str) -> int:
    match = DURATION.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r}: give days or hours, like 30d or 24h")
    count, unit = int(match[1]), match[2]
    return count * (86400 if unit == "d" else 3600)


def _share(text: str) -> float:
    value = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a share like 0.03 or 3%")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kinds", type=Path, default=kinds.DEFAULT_PATH, help="kinds file")
    sub = parser.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="create a campaign (in draft) from a kind")
    create.add_argument("name")
    create.add_argument("--kind", required=True, help="a kind of dialer/kinds.yaml")
    create.add_argument(
        "--abandon-target", type=_share, default=0.03, help="abandoned/answered (default 3%%)"
    )
    create.add_argument(
        "--abandon-window",
        type=_duration_s,
        default=THIRTY_DAYS_S,
        help="rolling window of the abandon rate: 30d (US rules, default) or 24h (Ofcom)",
    )
    load = sub.add_parser("import", help="import targets from a CSV or XLSX file")
    load.add_argument("name")
    load.add_argument("file", type=Path)
    load.add_argument("--dry-run", action="store_true", help="report only, store nothing")
    load.add_argument("--json", action="store_true", help="the report as JSON")
    pick = sub.add_parser("select", help="add the targets the kind's rule picks from the file")
    pick.add_argument("name")
    pick.add_argument("--dry-run", action="store_true", help="count only, store nothing")
    pick.add_argument("--json", action="store_true", help="the counts as JSON")
    export = sub.add_parser("export", help="every target with its attempts' outcomes")
    export.add_argument("name")
    export.add_argument("--format", choices=exports.FORMATS, default="csv")
    export.add_argument("--output", type=Path, help="file to write (default NAME.csv|xlsx)")
    fallback_sms = sub.add_parser(
        "sms-fallback", help="queue the kind's SMS, once, to each target the calls never reached"
    )
    fallback_sms.add_argument("name")
    fallback_sms.add_argument("--json", action="store_true", help="the counts as JSON")
    preview = sub.add_parser("preview", help="the first targets, and when each may be called")
    preview.add_argument("name")
    preview.add_argument("--limit", type=int, default=10)
    status = sub.add_parser("status", help="the campaign's figures, from its stored attempts")
    status.add_argument("name")
    status.add_argument("--json", action="store_true", help="one JSON object")
    control.configure(sub)


def _kinds(path: Path) -> dict[str, kinds.CampaignKind]:
    try:
        return kinds.load(path)
    except kinds.KindError as error:
        raise CommandError(str(error)) from None


def _kind_of(catalogue: dict[str, kinds.CampaignKind], name: str, kind: str) -> kinds.CampaignKind:
    if kind not in catalogue:
        raise CommandError(f"campaign {name!r} has kind {kind!r}, no longer in the kinds file")
    return catalogue[kind]


def _selection_text(report: selection.SelectionReport) -> str:
    added = f"would add {report.new}" if report.dry_run else f"added {report.added}"
    return (
        f"{report.rule}: {report.matched} customers matched; {added}; left out: "
        f"{report.do_not_call} on the do-not-call "
        f"list, {report.without_phone} without a number, {report.already_in_campaign} already "
        "in the campaign"
    )


def _print_report(report: imports.ImportReport, as_json: bool, added: int, known: int) -> None:
    if as_json:
        print(json.dumps({**report.as_dict(), "added": added, "already_in_campaign": known}))
        return
    print(
        f"{report.rows} rows: {len(report.targets)} targets, {len(report.merged)} merged "
        f"duplicates, {len(report.problems)} refused; {added} added, {known} already in the "
        "campaign"
    )
    for merged in report.merged:
        kept_aside = "".join(f"; its {k} {v!r} differs" for k, v in merged.differs.items())
        print(f"  line {merged.line}: same number as line {merged.into_line}, merged{kept_aside}")
    for problem in report.problems:
        print(f"  line {problem.line}: {problem.reason}")


async def _preview(
    campaigns: Campaigns, kind: kinds.CampaignKind, name: str, limit: int, now: datetime
) -> None:
    campaign = await campaigns.named(name)
    print(f"{campaign.name}: {kind.name}, {kind.mode}, says {', '.join(kind.messages)}")
    for target in await campaigns.targets(campaign.id, limit):
        zone = ZoneInfo(target.time_zone) if target.time_zone else None
        opening = kind.window.next_opening(target.phone, now, zone)
        when = "now" if opening == now else opening.isoformat() if opening else "never (window)"
        print(f"  {target.phone}  {target.name or '-'}  {target.language or '-'}  call: {when}")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action in control.ACTIONS:
        return await control.run(args, settings)
    catalogue = _kinds(args.kinds)
    now = datetime.now(UTC)
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        campaigns = Campaigns(database)
        if args.action == "create":
            if args.kind not in catalogue:
                raise CommandError(f"no kind {args.kind!r} (kinds: {', '.join(sorted(catalogue))})")
            campaign = await campaigns.create(
                args.name, catalogue[args.kind], now, args.abandon_target, args.abandon_window
            )
            print(f"created {campaign.name} ({campaign.kind}, {campaign.mode}), in draft")
        elif args.action == "import":
            campaign = await campaigns.named(args.name)
            try:
                report = imports.read(args.file.read_bytes(), args.file.name)
            except OSError as error:
                raise CommandError(f"cannot read {args.file}: {error}") from None
            except imports.UnreadableFile as error:
                raise CommandError(f"{args.file}: {error}") from None
            added = known = 0
            if not args.dry_run:
                added, known = await campaigns.add_targets(campaign.id, report.targets)
            _print_report(report, args.json, added, known)
        elif args.action == "select":
            campaign = await campaigns.named(args.name)
            kind = _kind_of(catalogue, campaign.name, campaign.kind)
            picked = await selection.select_targets(
                database, campaign, kind, now, dry_run=args.dry_run
            )
            print(json.dumps(picked.as_dict()) if args.json else _selection_text(picked))
        elif args.action == "export":
            campaign = await campaigns.named(args.name)
            output = args.output or Path(f"{campaign.name}.{args.format}")
            data = await exports.export_campaign(database, campaign, args.format)
            try:
                output.write_bytes(data)
            except OSError as error:
                raise CommandError(f"cannot write {output}: {error}") from None
            print(f"wrote {output} ({len(data):,} bytes)")
        elif args.action == "sms-fallback":
            campaign = await campaigns.named(args.name)
            kind = _kind_of(catalogue, campaign.name, campaign.kind)
            outbox = Outbox(database, OutboxLimits.from_settings(settings))
            sent = await fallback.send_fallbacks(database, outbox, campaign, kind, now)
            print(
                json.dumps(sent.as_dict())
                if args.json
                else f"{sent.queued} SMS queued, {sent.refused} refused by the outbox, "
                f"{sent.already} sent before"
            )
        elif args.action == "preview":
            campaign = await campaigns.named(args.name)
            if campaign.kind not in catalogue:
                raise CommandError(f"campaign {args.name!r} has kind {campaign.kind!r}, gone")
            await _preview(campaigns, catalogue[campaign.kind], args.name, args.limit, now)
        elif args.action == "status":
            attempts = Attempts(database, InteractionRecords(database))
            status = await campaign_status(campaigns, attempts, args.name, now)
            print(json.dumps(status) if args.json else _status_text(status))
    finally:
        await database.dispose()
    return 0


def _status_text(status: dict[str, Any]) -> str:
    rate = status["abandon_rate"]
    shown = "-" if rate is None else f"{rate:.1%}"
    seconds = status["window"]["seconds"]
    window = f"{seconds // 86400} days" if seconds >= 86400 else f"{seconds // 3600} h"
    lines = [
        f"{status['name']} ({status['kind']}, {status['mode']}): {status['state']}",
        f"  targets {status['targets']}, pending {status['pending']}, attempts "
        f"{status['attempts']} ({status['in_flight']} in flight)",
        f"  answered {status['answered']}, to agent {status['to_agent']}, abandoned "
        f"{status['abandoned']}, opted out {status['opted_out']}",
        f"  abandon rate {shown} over the last {window} (target {status['abandon_target']:.1%})",
    ]
    lines += [f"  {outcome}: {count}" for outcome, count in status["outcomes"].items()]
    return "\n".join(lines)
