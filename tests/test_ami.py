"""The AMI client: against a small local server playing Asterisk's side of AMI (to cut UTF-8
letters across TCP chunks, send garbage, ignore pings, drop the connection), and against the
real Asterisk of the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from tamas.asterisk.ami import AmiAuthError, AmiClient, AmiError, Message, parse_message
from tamas.settings import Settings

PERSIAN_NAME = "علی رضایی محمدی شهرستانی"
SECRET = "s3cret-for-the-fake"


class FakeAsterisk:
    """Asterisk's side of AMI, enough of it: banner, Login, Ping, list actions, and raw bytes
    pushed to the client whenever a test wants."""

    def __init__(self) -> None:
        self.answer_pings = True
        self.logins = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        self.drop_clients()
        await self.server.wait_closed()

    def drop_clients(self) -> None:
        for writer in self.writers:
            writer.transport.abort()
        self.writers.clear()

    async def push(self, data: bytes, chunk_at: list[int] | None = None) -> None:
        """Send `data` to every client, cut at the given byte offsets into separate writes."""
        cuts = [0, *(chunk_at or []), len(data)]
        for writer in self.writers:
            for start, end in itertools.pairwise(cuts):
                writer.write(data[start:end])
                await writer.drain()
                await asyncio.sleep(0.02)  # separate TCP segments

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/11.0.0\r\n")
        self.writers.append(writer)
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                fields = dict(
                    line.split(": ", 1)
                    for line in raw.decode().strip().split("\r\n")
                    if ": " in line
                )
                await self._answer(fields, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "login":
            if action.get("Secret") == SECRET:
                self.logins += 1
                reply = "Response: Success\r\nMessage: Authentication accepted\r\n"
            else:
                reply = "Response: Error\r\nMessage: Authentication failed\r\n"
        elif name == "ping":
            if not self.answer_pings:
                return
            reply = "Response: Success\r\nPing: Pong\r\n"
        elif name == "queuestatus":
            reply = "Response: Success\r\nEventList: start\r\nMessage: Queue status will follow\r\n"
            writer.write(f"{reply}ActionID: {action_id}\r\n\r\n".encode())
            for queue in ("support", "priority"):
                writer.write(
                    f"Event: QueueParams\r\nQueue: {queue}\r\nServicelevelPerf: 50.0\r\n"
                    f"ActionID: {action_id}\r\n\r\n".encode()
                )
            reply = "Event: QueueStatusComplete\r\nEventList: Complete\r\nListItems: 2\r\n"
        elif name == "slow":
            return  # never answered
        else:
            reply = "Response: Success\r\n"
        writer.write(f"{reply}ActionID: {action_id}\r\n\r\n".encode())


@pytest.fixture
async def fake() -> AsyncIterator[FakeAsterisk]:
    server = FakeAsterisk()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def client(fake: FakeAsterisk) -> AsyncIterator[AmiClient]:
    ami = AmiClient("127.0.0.1", fake.port, "tamas", SECRET, backoff_s=(0.05, 0.2))
    await ami.connect()
    yield ami
    await ami.close()


async def _wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Poll state that callbacks and the fake server change (they know nothing of tests)."""
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def test_persian_name_cut_across_tcp_chunks_arrives_whole(
    fake: FakeAsterisk, client: AmiClient
) -> None:
    events: list[Message] = []
    client.on_event("Newchannel", events.append)
    message = f"Event: Newchannel\r\nCallerIDName: {PERSIAN_NAME}\r\nLinkedid: 1.1\r\n\r\n"
    data = message.encode()
    start = data.index(PERSIAN_NAME.encode())
    # Cut inside the second byte of several two-byte letters, and between two messages.
    cuts = [start + 1, start + 7, start + 20, len(data) - 3]
    await fake.push(data + data, chunk_at=[*cuts, len(data) + start + 3])
    await _wait_until(lambda: len(events) == 2)
    assert [event["CallerIDName"] for event in events] == [PERSIAN_NAME, PERSIAN_NAME]


async def test_garbage_lines_and_junk_bytes_are_skipped(
    fake: FakeAsterisk, client: AmiClient
) -> None:
    events: list[Message] = []
    client.on_event("*", events.append)
    await fake.push(
        b"}{ not AMI at all\r\n\r\n"
        b"\xff\xfe\x00garbage\r\nEvent: Hangup\r\nno colon here\r\nLinkedid: 7\r\n\r\n"
        b"Key Without Event: 1\r\n\r\n"
        b"\r\n\r\n"
        b"Event: QueueCallerJoin\r\nQueue: support\r\n\r\n"
    )
    await _wait_until(lambda: len(events) == 2)
    assert [event["Event"] for event in events] == ["Hangup", "QueueCallerJoin"]
    assert events[0]["Linkedid"] == "7"
    reply = await client.send_action({"Action": "Ping"})
    assert reply.success


def test_field_names_are_read_whatever_their_case() -> None:
    message = parse_message(b"Event: QueueParams\r\nServicelevelPerf: 87.5")
    assert message is not None
    assert message["ServiceLevelPerf"] == "87.5"
    assert message["servicelevelperf"] == "87.5"


async def test_list_action_returns_its_events_and_listeners_see_them_too(
    client: AmiClient,
) -> None:
    seen: list[str] = []
    client.on_event("QueueParams", lambda event: seen.append(event["Queue"]))
    reply = await client.send_action({"Action": "QueueStatus"})
    assert [event["Queue"] for event in reply.events] == ["support", "priority"]
    assert reply.complete is not None and reply.complete["ListItems"] == "2"
    assert seen == ["support", "priority"]


async def test_unanswered_action_times_out_and_is_not_kept(client: AmiClient) -> None:
    with pytest.raises(AmiError, match="no answer to Slow"):
        await client.send_action({"Action": "Slow"}, timeout_s=0.2)
    assert client._pending == {}


async def test_wrong_secret_is_refused_with_a_clear_error(fake: FakeAsterisk) -> None:
    ami = AmiClient("127.0.0.1", fake.port, "tamas", "wrong")
    with pytest.raises(AmiAuthError, match="refused AMI login"):
        await ami.connect()


async def test_half_open_connection_is_noticed_by_ping_and_reconnected(
    fake: FakeAsterisk,
) -> None:
    connects: list[int] = []
    ami = AmiClient(
        "127.0.0.1",
        fake.port,
        "tamas",
        SECRET,
        ping_interval_s=0.1,
        ping_timeout_s=0.2,
        backoff_s=(0.05, 0.2),
        on_connect=lambda c: connects.append(c.connections),
    )
    await ami.connect()
    try:
        fake.answer_pings = False  # the socket stays open but nobody answers
        await _wait_until(lambda: fake.logins >= 2)
        fake.answer_pings = True
        await ami.wait_connected(5)
        assert (await ami.send_action({"Action": "Ping"})).success
        assert connects[:2] == [1, 2]
    finally:
        await ami.close()


async def test_reconnects_after_asterisk_drops_the_connection_and_runs_on_connect(
    fake: FakeAsterisk,
) -> None:
    resynced = asyncio.Event()

    async def resync(ami: AmiClient) -> None:
        if ami.connections > 1:
            await ami.send_action({"Action": "QueueStatus"})
            resynced.set()

    ami = AmiClient("127.0.0.1", fake.port, "tamas", SECRET, backoff_s=(0.05, 0.2))
    ami.on_connect(resync)
    await ami.connect()
    try:
        pending = asyncio.create_task(ami.send_action({"Action": "Slow"}, timeout_s=5))
        await asyncio.sleep(0.05)
        fake.drop_clients()  # as when Asterisk restarts
        with pytest.raises(AmiError, match="lost"):
            await pending
        await asyncio.wait_for(resynced.wait(), 5)
        assert ami._pending == {}
    finally:
        await ami.close()


# ---------------------------------------------------------------- the real Asterisk


@pytest.fixture
async def real_client(asterisk_sandbox: Settings) -> AsyncIterator[AmiClient]:
    ami = AmiClient.from_settings(asterisk_sandbox, name="test-ami")
    await ami.connect()
    yield ami
    await ami.close()


@pytest.mark.asterisk
async def test_originate_on_real_asterisk_is_answered_and_its_events_carry_our_channel_id(
    real_client: AmiClient,
) -> None:
    channel_id = f"test-{uuid.uuid4().hex}"
    seen: list[Message] = []
    real_client.on_event("*", seen.append)
    hungup = asyncio.Event()
    real_client.on_event(
        "Hangup", lambda e: hungup.set() if e.get("Linkedid") == channel_id else None
    )
    result = await real_client.originate(
        "Local/s@tamas-caller",
        application="Wait",
        data="1",
        caller_id=f'"{PERSIAN_NAME}" <09121234567>',
        variables={"TAMAS_HOLD_S": "1"},
        channel_id=channel_id,
    )
    assert result.answered and result.reason == 4
    assert result.response is not None and result.response["Uniqueid"] == channel_id
    await asyncio.wait_for(hungup.wait(), 10)
    # The OriginateResponse carrying our ActionID reached event listeners too.
    assert any(
        e["Event"] == "OriginateResponse" and e["ActionID"] == result.action_id for e in seen
    )
    ours = [e for e in seen if e.get("Linkedid") == channel_id]
    assert {e["Event"] for e in ours} >= {"Newchannel", "Hangup"}
    assert PERSIAN_NAME in {e.get("CallerIDName") for e in ours}


@pytest.mark.asterisk
async def test_persian_names_survive_a_burst_of_real_calls(real_client: AmiClient) -> None:
    ours = f"burst-{uuid.uuid4().hex[:8]}-"
    names: list[str] = []

    def collect(event: Message) -> None:
        if str(event.get("Linkedid", "")).startswith(ours) and "CallerIDName" in event:
            if event["CallerIDName"] not in {"", "<unknown>"}:
                names.append(event["CallerIDName"])

    real_client.on_event("*", collect)
    calls = 40
    results = await asyncio.gather(
        *(
            real_client.originate(
                "Local/s@tamas-caller",
                application="Wait",
                data="1",
                caller_id=f'"{PERSIAN_NAME}" <0912123{index:04d}>',
                variables={"TAMAS_HOLD_S": "1"},
                # Fixed width: Asterisk refuses an id that is a prefix of a live channel's id.
                channel_id=f"{ours}{index:04d}",
            )
            for index in range(calls)
        )
    )
    assert all(result.answered for result in results)
    await asyncio.sleep(2.5)
    assert len(names) > calls * 5
    assert set(names) == {PERSIAN_NAME}


@pytest.mark.asterisk
async def test_cli_command_over_ami(real_client: AmiClient) -> None:
    output = await real_client.command("core show version")
    assert output.startswith("Asterisk 22")


async def test_closing_twice_is_harmless(client: AmiClient) -> None:
    await client.close()
    with contextlib.suppress(AmiError):
        await client.close()


async def test_a_peer_sending_no_banner_line_is_closed_not_buffered_for_ever() -> None:
    """Something that is not Asterisk on the AMI port (a misconfigured port, an attacker
    streaming bytes with no line end): the client gives up at once instead of growing."""
    sent = 0
    closed = asyncio.Event()

    async def flood(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal sent
        try:
            while sent < 64 * 1024 * 1024:
                writer.write(b"x" * 65536)
                await writer.drain()
                sent += 65536
        except ConnectionError:
            pass
        finally:
            closed.set()

    server = await asyncio.start_server(flood, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ami = AmiClient("127.0.0.1", port, "tamas", SECRET)
    try:
        with pytest.raises(AmiError):
            await ami.connect(timeout_s=5)
        await asyncio.wait_for(closed.wait(), 5)
        assert ami._protocol is not None and len(ami._protocol.buffer) <= 65536
        assert sent < 64 * 1024 * 1024
    finally:
        await ami.close()
        server.close()
        await server.wait_closed()
