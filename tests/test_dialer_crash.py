"""A `tamas campaign worker` killed with SIGKILL in the middle of a campaign, then started again:
the calls its predecessor placed are followed to their end (or settled from what they wrote),
no target is lost and nobody is called twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_dialer_calls import CATALOGUE, number

from agi_scripts.fastagi import build_server
from dialer import control, kinds
from dialer.attempts import Attempts
from dialer.call_route import CampaignCallRoute
from dialer.campaigns import Campaign, Campaigns
from dialer.imports import TargetRow
from dialer.tables import AttemptRow
from dialer.tables import TargetRow as StoredTarget
from integrations.database import Database
from interactions.records import InteractionRecords
from ivr.speech import PromptVoice
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

TAMAS = str(Path(sys.executable).with_name("tamas"))


def always_open_kinds(path: Path) -> Path:
    """The shipped kinds with a window open at every hour of every day (the worker is another
    process: it reads its kinds from a file)."""
    text = kinds.DEFAULT_PATH.read_text(encoding="utf-8")
    text = re.sub(
        r"^  window: \{.*\}$",
        '  window: {from: "00:00", to: "23:59", days: [saturday, sunday, monday, tuesday, '
        "wednesday, thursday, friday], thursday_afternoon: true, holidays: call}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    kinds.parse(text, path)  # still a valid file
    path.write_text(text, encoding="utf-8")
    return path


@asynccontextmanager
async def route_server(settings: Settings, database: Database) -> AsyncIterator[str]:
    route = CampaignCallRoute(settings, database, voice=PromptVoice(), catalogue=CATALOGUE)
    server = build_server(settings, route.routes(), host="127.0.0.1", port=0)
    await server.start()
    try:
        yield f"agi://127.0.0.1:{server.port}"
    finally:
        await server.close()


def start_worker(
    database: Database, kinds_file: Path, agi: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TAMAS_DATABASE_URL": database.url,
        "TAMAS_DIALER_RING_TIMEOUT_S": "8",
        "TAMAS_DIALER_POLL_S": "0.3",
        "TAMAS_DIALER_MAX_CHANNELS": "4",
    }
    command = [TAMAS, "campaign", "--kinds", str(kinds_file), "worker", "--agi", agi]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


async def answered_in_flight(database: Database, campaign: Campaign) -> int:
    async with database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(AttemptRow)
            .where(
                AttemptRow.campaign_id == campaign.id,
                AttemptRow.ended_at.is_(None),
                AttemptRow.answered_at.is_not(None),
            )
        )
    return count or 0


async def unsettled(database: Database, campaign: Campaign) -> int:
    """Targets never settled (pending with no wait, or being called) and attempts in flight."""
    async with database.session() as session:
        targets = await session.scalar(
            select(func.count())
            .select_from(StoredTarget)
            .where(
                StoredTarget.campaign_id == campaign.id,
                StoredTarget.state.in_(("pending", "dialing")),
                StoredTarget.next_try_at.is_(None),
            )
        )
    in_flight = await Attempts(database, InteractionRecords(database)).in_flight(campaign.id)
    return (targets or 0) + len(in_flight)


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_a_worker_killed_mid_campaign_loses_no_target_and_calls_nobody_twice(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    settings = replace(asterisk_sandbox, database_url=database.url)
    kinds_file = always_open_kinds(tmp_path / "kinds.yaml")
    log = tmp_path / "worker.log"
    # People who listen to the message (and one who hears it twice): calls of several seconds.
    phones = [number("01", n) for n in range(5)] + [number("13", 5)]
    campaigns = Campaigns(database)
    campaign = await campaigns.create("crash", CATALOGUE["welcome"], datetime.now(UTC))
    await campaigns.add_targets(
        campaign.id, [TargetRow(line=n, phone=p, language="en") for n, p in enumerate(phones)]
    )
    await control.start(database, "crash", datetime.now(UTC))

    async with route_server(settings, database) as agi:
        first = start_worker(database, kinds_file, agi, log)
        try:
            async with asyncio.timeout(40):
                while await answered_in_flight(database, campaign) < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait()
        second = start_worker(database, kinds_file, agi, log)
        try:
            # Every target settled, and the campaign seen finished by the worker's next round.
            async with asyncio.timeout(90):
                while (  # noqa: ASYNC110
                    await unsettled(database, campaign)
                    or (await campaigns.named("crash")).state != "finished"
                ):
                    await asyncio.sleep(0.5)
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(20)

    async with database.session() as session:
        attempts = (
            await session.execute(
                select(AttemptRow.phone, AttemptRow.outcome, AttemptRow.answered_at).where(
                    AttemptRow.campaign_id == campaign.id
                )
            )
        ).all()
        targets = (
            await session.execute(
                select(StoredTarget.phone, StoredTarget.state).where(
                    StoredTarget.campaign_id == campaign.id
                )
            )
        ).all()
    worker_log = log.read_text(errors="replace")
    # Nobody was called twice: one attempt per person, each a person who heard the message.
    assert sorted(phone for phone, _, _ in attempts) == sorted(phones), worker_log
    assert {outcome for _, outcome, _ in attempts} == {"message_played"}, worker_log
    # No target lost: every one settled.
    assert {phone: state for phone, state in targets} == dict.fromkeys(phones, "done")
    assert (await campaigns.named("crash")).state == "finished"
