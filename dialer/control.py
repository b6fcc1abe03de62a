"""`tamas campaign start|pause|resume|stop|worker`: a campaign's state changes and the dialer
worker that places its calls. The web console calls the same functions (`change_state`)."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime

from dialer.campaigns import TRANSITIONS, Campaign, Campaigns
from integrations import migrations
from integrations.database import Database
from tamas.errors import CommandError
from tamas.settings import Settings

STATE_ACTIONS: tuple[str, ...] = tuple(TRANSITIONS)
ACTIONS: tuple[str, ...] = (*STATE_ACTIONS, "worker")

log = logging.getLogger(__name__)


async def change_state(database: Database, name: str, action: str, now: datetime) -> Campaign:
    """start (draft → running), pause (running → paused), resume (paused → running) or stop
    (draft, running or paused → stopped) the campaign `name`; a CommandError saying why when
    the action does not apply to its state. Workers see the new state at their next round."""
    campaign = await Campaigns(database).change_state(name, action)
    log.info("campaign %s: %s at %s, now %s", name, action, now.isoformat(), campaign.state)
    return campaign


async def start(database: Database, name: str, now: datetime) -> Campaign:
    return await change_state(database, name, "start", now)


async def pause(database: Database, name: str, now: datetime) -> Campaign:
    return await change_state(database, name, "pause", now)


async def resume(database: Database, name: str, now: datetime) -> Campaign:
    return await change_state(database, name, "resume", now)


async def stop(database: Database, name: str, now: datetime) -> Campaign:
    return await change_state(database, name, "stop", now)


def configure(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds this module's actions to `tamas campaign`."""
    helps = {
        "start": "start a campaign in draft: workers begin calling its targets",
        "pause": "pause a running campaign (calls in progress end normally)",
        "resume": "resume a paused campaign",
        "stop": "stop a campaign for good (calls in progress end normally)",
    }
    for action in STATE_ACTIONS:
        sub.add_parser(action, help=helps[action]).add_argument("name")
    worker = sub.add_parser("worker", help="place the calls of running campaigns until stopped")
    worker.add_argument("--campaign", help="only this campaign (default: every running one)")
    worker.add_argument(
        "--once", action="store_true", help="one round: dial, wait for those calls to end, exit"
    )
    worker.add_argument(
        "--agi", help="the FastAGI server the calls use, agi://host:port (default: the dialplan's)"
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "worker":
        from dialer import worker  # the AMI client and the call's modules: not for the rest

        return await worker.run(args, settings)
    if args.action not in STATE_ACTIONS:
        raise CommandError(f"no action {args.action!r}")
    database = Database(settings.effective_database_url)
    try:
        await migrations.require_current(database)
        campaign = await change_state(database, args.name, args.action, datetime.now(UTC))
    finally:
        await database.dispose()
    print(f"{campaign.name}: {campaign.state}")
    return 0
