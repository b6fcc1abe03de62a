"""Trunk and campaign limits on SQLite and PostgreSQL: several workers, each with its own
connections, admitting calls at once never exceed a trunk's channels or calls per second, nor
a campaign's channels; a killed worker's slots are freed by the reconciler, never those of a
call that may still be up."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from dialer import kinds
from dialer.attempts import Attempts
from dialer.campaigns import Campaign, Campaigns
from dialer.imports import TargetRow
from dialer.retries import RetryPolicy
from dialer.trunks import TrunkGate, TrunkLimits
from dialer.worker import DialerWorker
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
KINDS = kinds.load()


async def campaign_named(database: Database, name: str, targets: int = 0) -> Campaign:
    campaigns = Campaigns(database)
    campaign = await campaigns.create(name, KINDS["renewal_due"], NOW)
    await campaigns.add_targets(
        campaign.id,
        [TargetRow(line=n + 2, phone=f"+98912{n:07d}", name=None) for n in range(targets)],
    )
    return campaign


def channel_ids(worker: int, count: int, start: int) -> list[str]:
    return [f"w{worker}-{start + n}" for n in range(count)]


async def test_workers_admitting_at_once_never_exceed_the_trunks_channels(
    database: Database,
) -> None:
    campaign = await campaign_named(database, "renewals")
    await TrunkGate(database).configure(
        "carrier", TrunkLimits(max_channels=7, calls_per_second=1000)
    )
    engines = [Database(database.url) for _ in range(4)]
    most_seen = 0

    async def work(worker: int, engine: Database) -> None:
        nonlocal most_seen
        gate, rng, live = TrunkGate(engine), random.Random(worker), list[str]()
        for round_ in range(25):
            wanted = channel_ids(worker, rng.randint(1, 4), start=round_ * 10)
            live += await gate.admit("carrier", campaign.id, wanted, 100, NOW)
            most_seen = max(most_seen, await gate.in_flight("carrier"))
            await asyncio.sleep(0)
            while live and rng.random() < 0.6:
                await gate.release(live.pop(rng.randrange(len(live))))
        for channel_id in live:
            await gate.release(channel_id)

    try:
        await asyncio.gather(*(work(n, engine) for n, engine in enumerate(engines)))
    finally:
        for engine in engines:
            await engine.dispose()
    assert most_seen == 7
    assert await TrunkGate(database).in_flight("carrier") == 0


async def test_a_campaign_never_holds_more_than_its_own_channels(database: Database) -> None:
    renewals = await campaign_named(database, "renewals")
    overdue = await campaign_named(database, "overdue")
    gate = TrunkGate(database, TrunkLimits(max_channels=10, calls_per_second=1000))
    assert len(await gate.admit("carrier", renewals.id, channel_ids(1, 6, 0), 4, NOW)) == 4
    assert await gate.admit("carrier", renewals.id, channel_ids(1, 2, 10), 4, NOW) == []
    # The trunk's other 6 channels are the other campaign's to take.
    assert len(await gate.admit("carrier", overdue.id, channel_ids(2, 9, 0), 9, NOW)) == 6
    assert await gate.admit("carrier", overdue.id, ["w2-20"], 9, NOW) == []  # the trunk's full
    await gate.release("w2-0")
    # A trunk channel is free, but the campaign holds its four.
    assert await gate.admit("carrier", renewals.id, ["w1-20"], 4, NOW) == []
    await gate.release("w1-0")
    assert await gate.admit("carrier", renewals.id, ["w1-21"], 4, NOW) == ["w1-21"]


async def test_calls_per_second_hold_across_workers(database: Database) -> None:
    campaign = await campaign_named(database, "renewals")
    await TrunkGate(database).configure(
        "carrier", TrunkLimits(max_channels=100, calls_per_second=3)
    )
    engines = [Database(database.url) for _ in range(3)]

    async def admit_all(at: datetime) -> int:
        admitted = await asyncio.gather(
            *(
                TrunkGate(engine).admit(
                    "carrier", campaign.id, channel_ids(n, 5, int(at.timestamp() * 1000)), 100, at
                )
                for n, engine in enumerate(engines)
            )
        )
        return sum(len(ids) for ids in admitted)

    try:
        assert await admit_all(NOW) == 3
        assert await admit_all(NOW + timedelta(milliseconds=500)) == 0
        assert await admit_all(NOW + timedelta(seconds=1)) == 3
    finally:
        for engine in engines:
            await engine.dispose()


async def test_under_one_call_a_second_a_trunk_spaces_its_calls(database: Database) -> None:
    campaign = await campaign_named(database, "renewals")
    gate = TrunkGate(database, TrunkLimits(max_channels=10, calls_per_second=0.5))
    assert await gate.admit("slow", campaign.id, ["a", "b"], 10, NOW) == ["a"]
    assert await gate.admit("slow", campaign.id, ["b"], 10, NOW + timedelta(seconds=1)) == []
    assert await gate.admit("slow", campaign.id, ["b"], 10, NOW + timedelta(seconds=2.1)) == ["b"]


async def test_a_killed_workers_slots_are_freed_but_not_those_of_calls_still_up(
    database: Database,
) -> None:
    campaign = await campaign_named(database, "renewals", targets=2)
    campaigns = Campaigns(database)
    attempts = Attempts(database, InteractionRecords(database))
    gate = TrunkGate(database, TrunkLimits(max_channels=10, calls_per_second=1000))
    up, ended = [
        await attempts.begin(campaign, target, "w1", NOW)
        for target in await campaigns.claim(campaign.id, "w1", NOW, limit=2)
    ]
    channels = [up.channel_id, ended.channel_id, "never-written"]
    assert await gate.admit("carrier", campaign.id, channels, 10, NOW) == channels
    await attempts.settle(campaign, ended.channel_id, Outcome.BUSY, NOW, RetryPolicy())
    # The worker is killed: nobody releases. Within the grace nothing is taken back...
    assert await gate.release_stale(NOW + timedelta(seconds=30)) == 0
    # ...after it, the slots of the ended call and of the one never placed are free again,
    # while the call still in flight keeps its slot.
    assert await gate.release_stale(NOW + timedelta(minutes=2)) == 2
    assert await gate.in_flight("carrier") == 1


async def test_a_worker_started_with_two_trunk_channels_never_has_more_than_two_in_flight(
    database: Database,
) -> None:
    campaign = await campaign_named(database, "renewals")
    # A trunk met before with the old defaults: the starting worker's settings replace them.
    await TrunkGate(database).configure("carrier", TrunkLimits())
    settings = Settings(
        dialer_trunk="carrier",
        dialer_trunk_max_channels=2,
        dialer_trunk_calls_per_second=1000,
        dialer_max_channels=10,  # the campaign's own cap is not what limits
    )
    worker = DialerWorker(settings, database, AmiClient.from_settings(settings), catalogue=KINDS)
    await worker.start()
    most_seen, live = 0, list[str]()
    for round_ in range(6):
        wanted = channel_ids(1, 5, start=round_ * 10)
        live += await worker.gate.admit(settings.dialer_trunk, campaign.id, wanted, 10, NOW)
        most_seen = max(most_seen, await worker.gate.in_flight("carrier"))
        await worker.gate.release(live.pop(0))
    assert most_seen == 2
    assert len(await worker.gate.admit("carrier", campaign.id, ["last", "more"], 10, NOW)) == 1
    # Another worker's gate, knowing nothing of the settings, holds the same limits.
    assert await TrunkGate(database).admit("carrier", campaign.id, ["other"], 10, NOW) == []
    await worker.close()
