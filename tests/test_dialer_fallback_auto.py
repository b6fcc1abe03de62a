"""The fallback SMS goes by itself: the dialer worker that finishes a campaign whose kind opts
in (`sms_fallback:`) sends it to each target the calls never reached, once; a kind without
one sends nothing. The worker speaks to a small local server playing Asterisk's AMI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from test_ami import SECRET, FakeAsterisk
from test_dialer_exports import ANSWERED, KINDS, NOW, PENDING, UNREACHED, campaign_called, sms_to

from dialer import control
from dialer.attempts import Attempts
from dialer.campaigns import Campaigns
from dialer.kinds import CampaignKind
from dialer.worker import DialerWorker
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings


@pytest.fixture
async def ami() -> AsyncIterator[AmiClient]:
    asterisk = FakeAsterisk()  # its queue has no agent logged in: nobody is dialled
    await asterisk.start()
    client = AmiClient("127.0.0.1", asterisk.port, "tamas", SECRET)
    await client.connect()
    yield client
    await client.close()
    await asterisk.stop()


async def settle_the_last_one(database: Database, name: str) -> None:
    """The campaign's one target still to call hears the message: nothing is left."""
    campaigns = Campaigns(database)
    campaign = await campaigns.named(name)
    [target] = [t for t in await campaigns.targets(campaign.id) if t.phone == PENDING]
    attempts = Attempts(database, InteractionRecords(database))
    at = NOW + timedelta(hours=3)
    attempt = await attempts.begin(campaign, target, "worker-1", at)
    await attempts.settle(
        campaign, attempt.channel_id, Outcome.MESSAGE_PLAYED, at, KINDS[campaign.kind].retries, at
    )


async def finish_with_worker(
    database: Database, ami: AmiClient, catalogue: dict[str, CampaignKind]
) -> None:
    later = NOW + timedelta(hours=4)
    worker = DialerWorker(
        Settings(), database, ami, name="w", catalogue=catalogue, clock=lambda: later
    )
    try:
        for _ in range(3):  # the first round finishes it; the others find it finished
            assert await worker.round() == 0
    finally:
        await worker.close()


async def test_the_worker_finishing_a_campaign_texts_each_unreached_target_once(
    database: Database, ami: AmiClient
) -> None:
    campaign = await campaign_called(database)
    await settle_the_last_one(database, campaign.name)
    await control.start(database, campaign.name, NOW)
    await finish_with_worker(database, ami, KINDS)
    await finish_with_worker(database, ami, KINDS)  # another worker: nothing again
    assert (await Campaigns(database).named(campaign.name)).state == "finished"
    [message] = await sms_to(database, UNREACHED)
    assert message.subject == "campaign_renewal_due"
    # Reached people get none.
    assert await sms_to(database, ANSWERED) == []
    assert await sms_to(database, PENDING) == []


async def test_a_kind_without_fallback_text_sends_nothing_when_finished(
    database: Database, ami: AmiClient
) -> None:
    silent = {**KINDS, "renewal_due": replace(KINDS["renewal_due"], sms_fallback=None)}
    campaign = await campaign_called(database)
    await settle_the_last_one(database, campaign.name)
    await control.start(database, campaign.name, NOW)
    await finish_with_worker(database, ami, silent)
    assert (await Campaigns(database).named(campaign.name)).state == "finished"
    assert await sms_to(database, UNREACHED) == []
