"""A FastAGI server that is down (stopped, restarting) does not drop callers: on the real
Asterisk sandbox, a call to the menus with nothing listening on the FastAGI port goes to the
default queue instead of being hung up."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from integrations.database import Database
from tamas.asterisk.ami import AmiClient, Message
from tamas.asterisk.test_call import TestCallError, run_call
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

CALLER = "09127770001"


def _closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("extension", ["200", "201"])
async def test_with_the_fastagi_server_down_the_caller_goes_to_the_queue(
    asterisk_sandbox: Settings, database: Database, extension: str
) -> None:
    ami = AmiClient.from_settings(asterisk_sandbox, name="test-agi-down")
    await ami.connect()
    joined: list[Message] = []

    def on_join(event: Message) -> None:
        if str(event.get("CallerIDNum", "")).endswith(CALLER[1:]):
            joined.append(event)

    ami.on_event("QueueCallerJoin", on_join)
    try:
        # No record: the server that writes it is down. The call itself must still end well.
        with contextlib.suppress(TestCallError):
            await run_call(
                asterisk_sandbox,
                CALLER,
                extension,
                variables={
                    "TAMAS_AGI": f"agi://127.0.0.1:{_closed_port()}",
                    "QUEUE_TIMEOUT_S": "2",
                },
                ami=ami,
                database=database,
                timeout_s=30,
            )
        await asyncio.sleep(0.2)
    finally:
        await ami.close()
    assert joined, "the caller was hung up instead of being put in the queue"
    assert str(joined[0].get("Queue")) == "support"
