"""The bus: typed events reach subscribers in one process (in-process bus) and across
processes (real Redis); a dead Redis gives a clear error, never a crash."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as redis

from tamas.bus import (
    Audience,
    BusError,
    Event,
    InProcessBus,
    MalformedMessage,
    Message,
    RedisBus,
    make_bus,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


class QueueWaiting(Event):
    name = "test.queue_waiting"

    def __init__(self, queue: str, callers: int) -> None:
        self.queue, self.callers = queue, callers

    def payload(self) -> dict[str, Any]:
        return {"queue": self.queue, "callers": self.callers, "label": "صف پشتیبانی"}

    def audience(self) -> Audience:
        return Audience.role("supervisor")


def collector() -> tuple[list[Message], Any]:
    received: list[Message] = []

    async def handler(message: Message) -> None:
        received.append(message)

    return received, handler


@asynccontextmanager
async def subscribed(
    url: str = REDIS_URL, **options: Any
) -> AsyncIterator[tuple[RedisBus, list[Message], str]]:
    """A started RedisBus on a channel of its own, collecting what it delivers; closed after."""
    channel = f"tamas:test:{uuid.uuid4().hex}"
    bus = RedisBus(url, channel, **options)
    received, handler = collector()
    bus.subscribe(handler)
    await bus.start()
    try:
        yield bus, received, channel
    finally:
        await bus.close()


async def wait_for(condition: Any, timeout_s: float = 5.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 - polling a plain list filled by handlers
            await asyncio.sleep(0.01)


def test_audience_admits_named_agents_and_roles_only() -> None:
    audience = Audience(agents=frozenset({"101"}), roles=frozenset({"supervisor"}))
    assert audience.admits("101")
    assert audience.admits("555", roles=["supervisor"])
    assert not audience.admits("102")
    assert not audience.admits("102", roles=["agent"])


def test_message_survives_json_with_persian_text() -> None:
    message = QueueWaiting("support", 3).to_message()
    again = Message.from_json(message.to_json())
    assert again == message
    assert "صف پشتیبانی" in message.to_json()  # not \u-escaped: half the bytes on the wire


@pytest.mark.parametrize(
    "junk", [b"", b"not json", b"[]", b'{"name": "x"}', b'{"name":1,"payload":2}']
)
def test_junk_on_the_bus_is_a_malformed_message(junk: bytes) -> None:
    with pytest.raises(MalformedMessage):
        Message.from_json(junk)


async def test_in_process_bus_delivers_to_every_subscriber() -> None:
    bus = InProcessBus()
    first, first_handler = collector()
    second, second_handler = collector()
    bus.subscribe(first_handler)
    unsubscribe = bus.subscribe(second_handler)
    await bus.publish(QueueWaiting("support", 1))
    unsubscribe()
    await bus.publish(QueueWaiting("support", 2))
    assert [m.payload["callers"] for m in first] == [1, 2]
    assert [m.payload["callers"] for m in second] == [1]


async def test_a_failing_subscriber_does_not_starve_the_others() -> None:
    bus = InProcessBus()
    received, handler = collector()

    async def broken(_message: Message) -> None:
        raise RuntimeError("boom")

    bus.subscribe(broken)
    bus.subscribe(handler)
    await bus.publish(QueueWaiting("support", 1))
    assert len(received) == 1


def test_settings_without_redis_give_the_in_process_bus() -> None:
    assert isinstance(make_bus(""), InProcessBus)
    assert isinstance(make_bus(REDIS_URL), RedisBus)


async def test_redis_bus_carries_events_between_two_buses() -> None:
    channel = f"tamas:test:{uuid.uuid4().hex}"
    publisher, listener = RedisBus(REDIS_URL, channel), RedisBus(REDIS_URL, channel)
    received, handler = collector()
    listener.subscribe(handler)
    await publisher.start()
    await listener.start()
    try:
        await publisher.publish(QueueWaiting("support", 7))
        await wait_for(lambda: len(received) == 1)
        assert received[0].payload == {"queue": "support", "callers": 7, "label": "صف پشتیبانی"}
        assert received[0].audience == Audience.role("supervisor")
    finally:
        await publisher.close()
        await listener.close()


async def test_redis_bus_skips_junk_published_by_someone_else() -> None:
    async with subscribed() as (bus, received, channel):
        raw = redis.from_url(REDIS_URL)
        try:
            await raw.publish(channel, b"\xff\xfe junk")
            await bus.publish(QueueWaiting("support", 1))
            await wait_for(lambda: len(received) == 1)
        finally:
            await raw.aclose()


async def test_redis_bus_resubscribes_after_its_connection_is_killed() -> None:
    async with subscribed(retry_max_s=0.5) as (_bus, received, channel):
        raw = redis.from_url(REDIS_URL)
        try:
            killed = await raw.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
            assert killed >= 1

            async def delivered_again() -> None:
                while not received:
                    await raw.publish(channel, QueueWaiting("support", 9).to_message().to_json())
                    await asyncio.sleep(0.1)

            await asyncio.wait_for(delivered_again(), timeout=10)
            assert received[0].payload["callers"] == 9
        finally:
            await raw.aclose()


async def test_dead_redis_gives_a_clear_error_and_no_crash() -> None:
    bus = RedisBus("redis://127.0.0.1:1/0", retry_max_s=0.2)
    await bus.start()  # does not raise: the listener keeps retrying in the background
    try:
        with pytest.raises(BusError, match="redis-server running"):
            await bus.publish(QueueWaiting("support", 1))
        assert not bus.connected
    finally:
        await bus.close()


async def test_the_publishing_process_gets_each_message_once_with_redis_up() -> None:
    async with subscribed() as (bus, received, _channel):
        await bus.publish(QueueWaiting("support", 3))
        assert len(received) == 1  # before publish returned: no round trip through Redis
        await asyncio.sleep(0.5)  # the copy coming back from Redis is not delivered again
        assert len(received) == 1


async def test_with_redis_down_desktops_on_the_publishing_process_still_get_the_popup() -> None:
    async with subscribed("redis://127.0.0.1:1/0", retry_max_s=0.2) as (bus, received, _channel):
        with pytest.raises(BusError, match="redis-server running"):
            await bus.publish(QueueWaiting("support", 1))
        assert [m.payload["callers"] for m in received] == [1]
        assert bus.backlog == 1


class RedisServer:
    """A redis-server of the test's own, which the test can stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        async with asyncio.timeout(10):
            while True:
                try:
                    _reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                except OSError:
                    await asyncio.sleep(0.05)
                    continue
                writer.close()
                return

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_other_processes_catch_up_when_redis_comes_back() -> None:
    server = RedisServer(_free_port())
    await server.start()
    publisher = RedisBus(server.url, retry_max_s=0.2, catch_up_delay_s=1.0)
    other = RedisBus(server.url, retry_max_s=0.2)
    here, here_handler = collector()
    there, there_handler = collector()
    publisher.subscribe(here_handler)
    other.subscribe(there_handler)
    await publisher.start()
    await other.start()
    try:
        await server.stop()
        await wait_for(lambda: not publisher.connected and not other.connected)
        for callers in (1, 2):
            with pytest.raises(BusError):
                await publisher.publish(QueueWaiting("support", callers))
        assert [m.payload["callers"] for m in here] == [1, 2]
        assert there == []

        await server.start()
        await wait_for(lambda: len(there) == 2, timeout_s=10)
        assert [m.payload["callers"] for m in there] == [1, 2]  # in order
        assert [m.payload["callers"] for m in here] == [1, 2]  # not twice
        assert publisher.backlog == 0
    finally:
        await publisher.close()
        await other.close()
        await server.stop()
