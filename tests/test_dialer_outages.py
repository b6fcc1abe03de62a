"""Our failures are not the person's: an Originate Asterisk refuses while it shuts down is
Tamas's own `failed`, its target due again at once and not charged an attempt, while a refusal
with Asterisk up stays the person's `dial_failed`; and a worker that cannot reach Asterisk
claims nobody. Against a small local server playing Asterisk's side of AMI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from test_ami import SECRET, FakeAsterisk
from test_dialer_calls import CATALOGUE

from dialer import control
from dialer.campaigns import Campaigns
from dialer.imports import TargetRow
from dialer.tables import AttemptRow
from dialer.tables import TargetRow as StoredTarget
from dialer.worker import DialerWorker
from integrations.database import Database
from interactions.outcomes import Outcome
from tamas.asterisk.ami import AmiClient
from tamas.settings import Settings


class RefusingAsterisk(FakeAsterisk):
    """Refuses every Originate; `shutting_down` first says it is stopping, as Asterisk does."""

    def __init__(self) -> None:
        super().__init__()
        self.shutting_down = False
        self.originates = 0

    async def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        if action.get("Action", "").lower() != "originate":
            await super()._answer(action, writer)
            return
        self.originates += 1
        if self.shutting_down:
            writer.write(b"Event: Shutdown\r\nShutdown: Cleanly\r\nRestart: True\r\n\r\n")
        writer.write(
            b"Response: Error\r\nMessage: Originate failed\r\n"
            + f"ActionID: {action.get('ActionID', '')}\r\n\r\n".encode()
        )


@pytest.fixture
async def asterisk() -> AsyncIterator[RefusingAsterisk]:
    server = RefusingAsterisk()
    await server.start()
    yield server
    await server.stop()


async def worker_for(database: Database, ami: AmiClient) -> tuple[DialerWorker, int]:
    campaigns = Campaigns(database)
    now = datetime.now(UTC)
    await campaigns.create("welcome", CATALOGUE["welcome"], now)
    campaign = await control.start(database, "welcome", now)
    await campaigns.add_targets(
        campaign.id, [TargetRow(line=2, phone="+989120000001", language="en")]
    )
    return DialerWorker(Settings(), database, ami, name="w", catalogue=CATALOGUE), campaign.id


async def target_and_attempts(database: Database) -> tuple[StoredTarget, list[str | None]]:
    async with database.session() as session:
        target = await session.scalar(select(StoredTarget))
        outcomes = list(await session.scalars(select(AttemptRow.outcome)))
    assert target is not None
    return target, outcomes


async def test_a_worker_that_cannot_reach_asterisk_claims_nobody(database: Database) -> None:
    worker, _ = await worker_for(database, AmiClient("127.0.0.1", 9, "nobody", "none"))
    try:
        assert await worker.round() == 0
    finally:
        await worker.close()
    target, outcomes = await target_and_attempts(database)
    assert (target.state, target.claimed_by, target.next_try_at, outcomes) == (
        "pending",
        None,
        None,
        [],
    )


async def test_an_originate_refused_while_asterisk_shuts_down_is_our_failure_due_at_once(
    database: Database, asterisk: RefusingAsterisk
) -> None:
    asterisk.shutting_down = True
    ami = AmiClient("127.0.0.1", asterisk.port, "tamas", SECRET)
    await ami.connect()
    worker, _ = await worker_for(database, ami)
    try:
        before = datetime.now(UTC)
        assert await worker.round() == 0
        await worker.drain()
        target, outcomes = await target_and_attempts(database)
        assert outcomes == ["failed"]
        # Due again at once, and not one of its attempts.
        assert (target.state, target.attempts, target.last_outcome) == ("pending", 0, "failed")
        assert target.next_try_at is not None and target.next_try_at <= datetime.now(UTC)
        assert target.next_try_at >= before
        # Asterisk said it is stopping: nobody is claimed until it is back.
        assert await worker.round() == 0
        assert asterisk.originates == 1
    finally:
        await worker.close()
        await ami.close()


async def test_an_originate_refused_with_asterisk_up_is_the_persons_dial_failed(
    database: Database, asterisk: RefusingAsterisk
) -> None:
    ami = AmiClient("127.0.0.1", asterisk.port, "tamas", SECRET)
    await ami.connect()
    worker, _ = await worker_for(database, ami)
    try:
        assert await worker.round() == 0
        await worker.drain()
    finally:
        await worker.close()
        await ami.close()
    target, outcomes = await target_and_attempts(database)
    assert outcomes == ["dial_failed"]
    assert (target.state, target.attempts) == ("pending", 1)
    # Tried again after the kind's wait for a failed dial, as before.
    wait = CATALOGUE["welcome"].retries.waits[Outcome.DIAL_FAILED]
    assert target.next_try_at is not None
    assert target.next_try_at > datetime.now(UTC) + wait / 2
