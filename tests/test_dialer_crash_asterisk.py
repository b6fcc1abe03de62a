"""Asterisk restarted in the middle of a campaign, under a running `tamas campaign worker`: the
calls it cut and the Originates it refused while stopping are Tamas's own failures (`failed`),
not the people's: their targets are due again at once, uncounted, and reached once Asterisk is
back; no target is lost and nobody hears the message twice."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from test_dialer_calls import CATALOGUE, number
from test_dialer_crash import (
    always_open_kinds,
    answered_in_flight,
    route_server,
    start_worker,
    unsettled,
)

from dialer import control
from dialer.campaigns import Campaigns
from dialer.imports import TargetRow
from dialer.tables import AttemptRow
from dialer.tables import TargetRow as StoredTarget
from integrations.database import Database
from tamas.asterisk import sandbox
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk


# What the worker's AMI client logs each time it logs in (tamas/asterisk/ami.py).
LOGGED_IN = "AMI: logged in"


async def restart_asterisk(settings: Settings) -> None:
    """Stop the shared sandbox and start it again: whatever happens, it is left up."""
    try:
        await asyncio.to_thread(sandbox.down, settings)
    finally:
        await asyncio.to_thread(sandbox.up, settings)


async def not_done(database: Database, campaign_id: int) -> int:
    async with database.session() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(StoredTarget)
            .where(StoredTarget.campaign_id == campaign_id, StoredTarget.state != "done")
        )
    return count or 0


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_an_asterisk_restart_mid_campaign_loses_no_target_and_calls_nobody_twice(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    settings = replace(asterisk_sandbox, database_url=database.url)
    kinds_file = always_open_kinds(tmp_path / "kinds.yaml")
    log = tmp_path / "worker.log"
    # People who listen to the message: more than the worker's 4 channels.
    phones = [number("01", 700 + n) for n in range(6)]
    # Targets imported while Asterisk restarts: called once it is back.
    later = [number("01", 720 + n) for n in range(2)]
    campaigns = Campaigns(database)
    campaign = await campaigns.create("restart", CATALOGUE["welcome"], datetime.now(UTC))
    await campaigns.add_targets(
        campaign.id, [TargetRow(line=n, phone=p, language="en") for n, p in enumerate(phones)]
    )
    await control.start(database, "restart", datetime.now(UTC))

    async with route_server(settings, database) as agi:
        worker = start_worker(database, kinds_file, agi, log)
        try:
            async with asyncio.timeout(40):
                while await answered_in_flight(database, campaign) < 2:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            logins = log.read_text(errors="replace").count(LOGGED_IN)
            await restart_asterisk(asterisk_sandbox)
            # Once the worker is logged in again, new targets arrive: it calls them.
            async with asyncio.timeout(60):
                while log.read_text(errors="replace").count(LOGGED_IN) <= logins:  # noqa: ASYNC110
                    await asyncio.sleep(0.2)
            back_at = datetime.now(UTC)
            await campaigns.add_targets(
                campaign.id,
                [TargetRow(line=n, phone=p, language="en") for n, p in enumerate(later)],
            )
            async with asyncio.timeout(180):
                while await unsettled(database, campaign) or await not_done(  # noqa: ASYNC110
                    database, campaign.id
                ):
                    await asyncio.sleep(0.5)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)

    async with database.session() as session:
        attempts = (
            await session.execute(
                select(
                    AttemptRow.phone, AttemptRow.outcome, AttemptRow.created_at, AttemptRow.ended_at
                ).where(AttemptRow.campaign_id == campaign.id)
            )
        ).all()
        targets = {
            phone: (state, attempts_made)
            for phone, state, attempts_made in await session.execute(
                select(StoredTarget.phone, StoredTarget.state, StoredTarget.attempts).where(
                    StoredTarget.campaign_id == campaign.id
                )
            )
        }
    worker_log = log.read_text(errors="replace")
    # Everybody heard the message once, after Asterisk came back if their call was cut.
    reached = sorted(phone for phone, outcome, *_ in attempts if outcome != "failed")
    assert reached == sorted(phones + later), worker_log
    assert {outcome for phone, outcome, *_ in attempts} <= {"message_played", "failed"}
    assert all(ended_at for *_, ended_at in attempts), worker_log
    # The calls the restart cut (and the Originates it refused) are Tamas's failures, not the
    # people's: each person's next call came at once (not after the kind's wait for `failed`),
    # and the failed attempts are not counted against the target.
    cut = [(phone, ended_at) for phone, outcome, _, ended_at in attempts if outcome == "failed"]
    assert len({phone for phone, _ in cut}) >= 2, worker_log
    for phone, cut_at in cut:
        again = [
            created_at
            for other, outcome, created_at, _ in attempts
            if other == phone and outcome == "message_played"
        ]
        assert cut_at is not None and again, (phone, worker_log)
        assert cut_at <= again[0] < cut_at + timedelta(minutes=5), (phone, worker_log)
    # The worker went on after the restart: the people it called then heard the message.
    after = {
        phone: outcome
        for phone, outcome, created_at, _ in attempts
        if created_at >= back_at and phone in later
    }
    assert after == dict.fromkeys(later, "message_played"), worker_log
    # No target lost, none charged for our failure: each done after one counted attempt.
    for phone, (state, attempts_made) in targets.items():
        assert (state, attempts_made) == ("done", 1), (phone, worker_log)
