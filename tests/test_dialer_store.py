"""Campaign storage on SQLite and PostgreSQL: workers claim targets without ever sharing one,
every attempt is written before its Originate with its own ChannelId, settles into a retry or
done, into the do-not-call list when the person opts out, and into an outbound interaction
record; the status is computed from the stored outcomes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from dialer import kinds
from dialer.attempts import Attempts, PersonInCall, UnknownAttempt
from dialer.campaigns import Campaign, CampaignExists, Campaigns
from dialer.do_not_call import DoNotCallList
from dialer.imports import TargetRow
from dialer.retries import RetryPolicy
from dialer.status import campaign_status
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords

NOW = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
KINDS = kinds.load()
RETRIES = RetryPolicy(max_attempts=3, waits={Outcome.BUSY: timedelta(minutes=15)}, factor=2)


def phones(count: int, start: int = 0) -> list[TargetRow]:
    return [
        TargetRow(line=n + 2, phone=f"+98912{n + start:07d}", name=f"P{n}", language="fa")
        for n in range(count)
    ]


async def campaign_with(
    database: Database, count: int, name: str = "renewals", kind: str = "renewal_due"
) -> Campaign:
    campaigns = Campaigns(database)
    campaign = await campaigns.create(name, KINDS[kind], NOW)
    await campaigns.add_targets(campaign.id, phones(count))
    return campaign


def attempts_of(database: Database) -> Attempts:
    return Attempts(database, InteractionRecords(database))


async def test_two_workers_claiming_at_once_never_get_the_same_target(database: Database) -> None:
    campaign = await campaign_with(database, 60)
    # Each worker with its own engine and pool, as two processes would be.
    engines = [Database(database.url), Database(database.url)]
    claimed: dict[str, list[int]] = {"w1": [], "w2": []}

    async def work(worker: str, store: Campaigns) -> None:
        while batch := await store.claim(campaign.id, worker, NOW, limit=4):
            claimed[worker].extend(target.id for target in batch)
            await asyncio.sleep(0)

    try:
        await asyncio.gather(work("w1", Campaigns(engines[0])), work("w2", Campaigns(engines[1])))
    finally:
        for engine in engines:
            await engine.dispose()
    assert not set(claimed["w1"]) & set(claimed["w2"])
    assert len(claimed["w1"]) + len(claimed["w2"]) == 60
    assert (await Campaigns(database).target_counts(campaign.id)) == {"dialing": 60}


async def test_a_campaign_name_is_taken_once(database: Database) -> None:
    await campaign_with(database, 0)
    with pytest.raises(CampaignExists):
        await Campaigns(database).create("renewals", KINDS["welcome"], NOW)


async def test_importing_the_same_numbers_again_adds_only_the_new_ones(database: Database) -> None:
    campaign = await campaign_with(database, 3)
    assert await Campaigns(database).add_targets(campaign.id, phones(5)) == (2, 3)


async def test_an_attempt_is_written_in_flight_before_its_originate_with_its_own_channel_id(
    database: Database,
) -> None:
    campaign = await campaign_with(database, 2)
    campaigns, attempts = Campaigns(database), attempts_of(database)
    first, second = await campaigns.claim(campaign.id, "w1", NOW)
    a = await attempts.begin(campaign, first, "w1", NOW)
    b = await attempts.begin(campaign, second, "w1", NOW)
    assert a.channel_id != b.channel_id
    assert (await attempts.outcome_counts(campaign.id)) == {"in_flight": 2}
    assert (await attempts.history_of(first.phone)).in_flight


async def test_no_person_is_called_by_two_campaigns_at_once(database: Database) -> None:
    renewals = await campaign_with(database, 1)
    offers = await campaign_with(database, 1, name="offers", kind="marketing_offer")
    campaigns, attempts = Campaigns(database), attempts_of(database)
    [mine] = await campaigns.claim(renewals.id, "w1", NOW)
    [theirs] = await campaigns.claim(offers.id, "w2", NOW)
    assert mine.phone == theirs.phone
    await attempts.begin(renewals, mine, "w1", NOW)
    with pytest.raises(PersonInCall):
        await attempts.begin(offers, theirs, "w2", NOW)


async def test_a_busy_target_is_due_again_after_its_back_off_and_not_before(
    database: Database,
) -> None:
    campaign = await campaign_with(database, 1)
    campaigns, attempts = Campaigns(database), attempts_of(database)
    [target] = await campaigns.claim(campaign.id, "w1", NOW)
    attempt = await attempts.begin(campaign, target, "w1", NOW)
    ended = NOW + timedelta(seconds=20)
    due = await attempts.settle(campaign, attempt.channel_id, Outcome.BUSY, ended, RETRIES)
    assert due == ended + timedelta(minutes=15)
    assert await campaigns.claim(campaign.id, "w1", due - timedelta(seconds=1)) == []
    [again] = await campaigns.claim(campaign.id, "w1", due)
    assert (again.id, again.attempts) == (target.id, 1)
    with pytest.raises(UnknownAttempt):  # settled once only
        await attempts.settle(campaign, attempt.channel_id, Outcome.BUSY, ended, RETRIES)


async def test_an_opt_out_puts_the_number_on_the_do_not_call_list_of_every_campaign(
    database: Database,
) -> None:
    campaign = await campaign_with(database, 1)
    campaigns, attempts = Campaigns(database), attempts_of(database)
    [target] = await campaigns.claim(campaign.id, "w1", NOW)
    attempt = await attempts.begin(campaign, target, "w1", NOW)
    due = await attempts.settle(
        campaign, attempt.channel_id, Outcome.OPTED_OUT, NOW + timedelta(seconds=30), RETRIES
    )
    assert due is None
    assert await DoNotCallList(database).holds(target.phone)
    assert (await attempts.history_of(target.phone)).do_not_call
    assert (await campaigns.target_counts(campaign.id)) == {"done": 1}


async def test_every_attempt_is_an_outbound_interaction_naming_the_campaign(
    database: Database,
) -> None:
    campaign = await campaign_with(database, 1)
    campaigns, attempts = Campaigns(database), attempts_of(database)
    [target] = await campaigns.claim(campaign.id, "w1", NOW)
    attempt = await attempts.begin(campaign, target, "w1", NOW)
    ended = NOW + timedelta(seconds=45)
    await attempts.settle(
        campaign, attempt.channel_id, Outcome.TO_AGENT, ended, RETRIES, answered_at=NOW
    )
    record = await InteractionRecords(database).load(attempt.channel_id)
    assert record is not None
    assert (record.direction, record.called_number, record.outcome, record.outcome_detail) == (
        "outbound",
        target.phone,
        "to_agent",
        "renewals",
    )
    assert record.duration_s == 45


async def test_an_abandoned_call_is_remembered_for_the_72_hour_rule(database: Database) -> None:
    campaign = await campaign_with(database, 1, kind="marketing_offer")
    campaigns, attempts = Campaigns(database), attempts_of(database)
    [target] = await campaigns.claim(campaign.id, "w1", NOW)
    attempt = await attempts.begin(campaign, target, "w1", NOW)
    await attempts.settle(campaign, attempt.channel_id, Outcome.ABANDONED, NOW, RETRIES)
    history = await attempts.history_of(target.phone)
    assert (history.last_abandoned_at, history.last_call_ended_at, history.in_flight) == (
        NOW,
        NOW,
        False,
    )


async def test_the_status_is_computed_from_the_stored_outcomes(database: Database) -> None:
    campaign = await campaign_with(database, 5)
    campaigns, attempts = Campaigns(database), attempts_of(database)
    claimed = await campaigns.claim(campaign.id, "w1", NOW)
    outcomes = [Outcome.TO_AGENT, Outcome.ABANDONED, Outcome.BUSY, Outcome.MESSAGE_PLAYED]
    for target, outcome in zip(claimed, outcomes, strict=False):
        attempt = await attempts.begin(campaign, target, "w1", NOW)
        await attempts.settle(campaign, attempt.channel_id, outcome, NOW, RETRIES)
    await attempts.begin(campaign, claimed[4], "w1", NOW)  # its Originate is out
    status = await campaign_status(campaigns, attempts, "renewals", NOW + timedelta(hours=1))
    assert {key: status[key] for key in ("state", "targets", "pending", "attempts")} == {
        "state": "draft",
        "targets": 5,
        "pending": 2,  # the busy one due again, the one in flight
        "attempts": 5,
    }
    assert (status["answered"], status["to_agent"], status["abandoned"]) == (3, 1, 1)
    assert status["abandon_rate"] == round(1 / 3, 4)
    assert status["outcomes"] == {"abandoned": 1, "busy": 1, "message_played": 1, "to_agent": 1}
    assert status["window"]["seconds"] == 30 * 24 * 3600
    # A month later the abandoned call has left the rolling window.
    later = await campaign_status(campaigns, attempts, "renewals", NOW + timedelta(days=31))
    assert later["abandon_rate"] is None and later["abandoned"] == 1


async def test_a_target_put_back_is_due_from_its_moment_and_a_do_not_call_one_is_skipped(
    database: Database,
) -> None:
    campaign = await campaign_with(database, 2)
    campaigns = Campaigns(database)
    later, listed = await campaigns.claim(campaign.id, "w1", NOW)
    await campaigns.release(later.id, NOW + timedelta(hours=2))
    await campaigns.release(listed.id, None)
    assert await campaigns.claim(campaign.id, "w1", NOW) == []
    [again] = await campaigns.claim(campaign.id, "w1", NOW + timedelta(hours=2))
    assert (again.id, again.attempts) == (later.id, 0)
    assert await campaigns.target_counts(campaign.id) == {"dialing": 1, "skipped": 1}
