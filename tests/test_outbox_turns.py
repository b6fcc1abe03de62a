"""Messages of one kind written at once wait their turn without holding the connections every
caller's lookup shares (integrations/messaging/outbox.py)."""

from __future__ import annotations

import asyncio

from integrations.database import Database
from integrations.messaging.outbox import MessageRefused, Outbox, OutboxLimits

MOBILE = "+989121234567"


async def test_messages_waiting_their_turn_hold_no_pooled_connection(database: Database) -> None:
    outbox = Outbox(database, OutboxLimits(per_call=100, per_recipient_per_day=100))
    most_held = 0
    done = asyncio.Event()

    async def watch() -> None:
        nonlocal most_held
        while not done.is_set():
            most_held = max(most_held, database.engine.pool.checkedout())  # type: ignore[attr-defined]
            await asyncio.sleep(0)

    async def ask(n: int) -> None:
        try:
            await outbox.put("sms", to=MOBILE, subject="x", body=str(n), linkedid="c1")
        except MessageRefused:
            pass

    watcher = asyncio.ensure_future(watch())
    await asyncio.gather(*(ask(n) for n in range(20)))
    done.set()
    await watcher

    assert most_held == 1
