"""An operator's state changes of a campaign: start, pause, resume and stop, each only from
the states it applies to, with a message saying why when it does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dialer import control, kinds
from dialer.campaigns import Campaigns, UnknownCampaign, WrongState
from dialer.imports import TargetRow
from integrations.database import Database

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)


async def test_a_campaign_goes_from_draft_to_running_paused_running_and_stopped(
    database: Database,
) -> None:
    await Campaigns(database).create("renewals", kinds.load()["renewal_due"], NOW)
    states = [
        (await control.change_state(database, "renewals", action, NOW)).state
        for action in ("start", "pause", "resume", "stop")
    ]
    assert states == ["running", "paused", "running", "stopped"]
    assert (await Campaigns(database).named("renewals")).state == "stopped"


async def test_a_wrong_transition_is_refused_with_the_present_state(database: Database) -> None:
    await Campaigns(database).create("renewals", kinds.load()["renewal_due"], NOW)
    with pytest.raises(WrongState, match="cannot pause campaign 'renewals': it is draft"):
        await control.pause(database, "renewals", NOW)
    await control.stop(database, "renewals", NOW)
    with pytest.raises(WrongState, match="it is stopped"):
        await control.start(database, "renewals", NOW)
    with pytest.raises(UnknownCampaign):
        await control.resume(database, "nobody", NOW)
    with pytest.raises(ValueError, match="unknown campaign action"):
        await control.change_state(database, "renewals", "restart", NOW)


async def test_a_claim_takes_no_more_targets_than_its_limit(database: Database) -> None:
    # PostgreSQL ran `id IN (subquery ... LIMIT 2 FOR UPDATE SKIP LOCKED)` once per row it
    # scanned and handed out all four: a progressive campaign called more people than agents.
    campaigns = Campaigns(database)
    campaign = await campaigns.create("renewals", kinds.load()["renewal_due"], NOW)
    await campaigns.add_targets(
        campaign.id, [TargetRow(line=n, phone=f"+98912000{n:04d}") for n in range(4)]
    )
    assert len(await campaigns.claim(campaign.id, "w1", NOW, limit=2)) == 2
    assert len(await campaigns.claim(campaign.id, "w2", NOW, limit=3)) == 2
