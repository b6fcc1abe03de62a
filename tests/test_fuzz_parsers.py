"""Fuzz tests of every parser that reads bytes from outside: AMI (framing, messages, the call
tracker's events), AGI (answers, FastAGI headers), websocket frames from desktops, and bus
messages. Inputs are valid samples mutated at random with a fixed seed and a bounded count,
so a run is repeatable and quick; each parser must answer with its own error type, or skip the
input, and never raise anything else, hang, or grow without bound.

(Tamas has no CSV parser: demo data and imports are written, not read, as CSV.)
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import aiohttp
import pytest
from popup_support import RunningServer, logged_in

from agi_scripts.channel import AgiCommands, AgiError, CallerHungUp, parse_result
from agi_scripts.fastagi import build_server
from popup_server.calls import CallTracker, agent_lookup
from popup_server.websocket import MAX_JUNK_FRAMES, _answer
from tamas.asterisk.ami import _MAX_MESSAGE_BYTES, AmiClient, Message, _AmiProtocol, parse_message
from tamas.bus import MalformedMessage
from tamas.bus import Message as BusMessage
from tamas.settings import Settings

SEED = 20261130
CASES = 400

AMI_SAMPLES = [
    b"Event: Newchannel\r\nChannel: PJSIP/101-0000000a\r\n"
    b"CallerIDName: \xd9\x85\xd8\xb1\xdb\x8c\xd9\x85\r\n"
    b"Linkedid: 1700000000.1\r\nUniqueid: 1700000000.1\r\n\r\n",
    b"Response: Success\r\nActionID: tamas-1\r\nMessage: Authentication accepted\r\n\r\n",
    b"Event: AgentCalled\r\nQueue: support\r\nDestChannel: Local/101@tamas-agents-0000000c;1\r\n"
    b"Interface: Local/101@tamas-agents/n\r\nLinkedid: 17.2\r\nChanVariable: A=1\r\n"
    b"ChanVariable: B=2\r\n\r\n",
    b"Response: Follows\r\nOutput: line one\r\nOutput: line two\r\n\r\n",
]
AGI_SAMPLES = [
    "200 result=1 (value with (parens)) endpos=1234",
    "200 result=-1",
    "200 result=49 endpos=8000",
    "510 Invalid or unknown command",
    "520-Invalid command syntax.  Proper usage follows:",
    "511 Command Not Permitted on a dead channel or intercept routine",
    "HANGUP",
]
AGI_HEADERS = (
    b"agi_network: yes\nagi_network_script: fuzz\nagi_channel: PJSIP/caller-00000001\n"
    b"agi_uniqueid: 1700000000.9\nagi_callerid: 09121234567\nagi_arg_1: x\n\n"
)
NOISE = [b"\r\n", b"\r\n\r\n", b": ", b":", b"\n", b"\x00", b"\xff\xfe", "€".encode(), b" ", b"="]


def mutate(rng: random.Random, sample: bytes) -> bytes:
    """A few random edits of `sample`: cuts, inserted noise or random bytes, repeats."""
    data = bytearray(sample)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        at = rng.randint(0, len(data))
        if choice < 0.25 and data:
            end = min(len(data), at + rng.randint(1, 20))
            del data[at:end]
        elif choice < 0.5:
            data[at:at] = rng.choice(NOISE)
        elif choice < 0.7:
            data[at:at] = rng.randbytes(rng.randint(1, 30))
        elif choice < 0.85 and data:
            start = rng.randint(0, len(data) - 1)
            data[at:at] = data[start : start + rng.randint(1, 40)] * rng.randint(1, 3)
        elif data:
            data[rng.randint(0, len(data) - 1)] = rng.randint(0, 255)
    return bytes(data)


def cuts(rng: random.Random, data: bytes) -> list[bytes]:
    """`data` as TCP would deliver it: in chunks cut anywhere."""
    points = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 6))))
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    # Parsers log each input they skip; hundreds of warnings would only slow the run.
    caplog.set_level(logging.CRITICAL)


# --- AMI ------------------------------------------------------------------------------------


def test_ami_messages_parse_or_are_skipped_whatever_the_bytes() -> None:
    rng = random.Random(SEED)
    for _ in range(CASES):
        message = parse_message(mutate(rng, rng.choice(AMI_SAMPLES)).split(b"\r\n\r\n")[0])
        assert message is None or "Event" in message or "Response" in message


async def test_ami_framing_survives_any_stream_and_stays_bounded() -> None:
    rng = random.Random(SEED + 1)
    client = AmiClient("127.0.0.1", 1, "tamas", "secret")
    dispatched: list[Message] = []
    client._dispatch = dispatched.append  # type: ignore[method-assign,assignment]
    for _ in range(CASES // 4):
        protocol = _AmiProtocol(client)
        stream = b"Asterisk Call Manager/11.0.0\r\n" + b"".join(
            mutate(rng, rng.choice(AMI_SAMPLES)) if rng.random() < 0.6 else rng.choice(AMI_SAMPLES)
            for _ in range(rng.randint(1, 8))
        )
        for chunk in cuts(rng, stream):
            protocol.data_received(chunk)
            assert len(protocol.buffer) <= _MAX_MESSAGE_BYTES + len(chunk)
        # A well-formed message after any junk is still read whole.
        protocol.data_received(b"\r\n\r\n" + AMI_SAMPLES[1])
        assert dispatched and dispatched[-1]["ActionID"] == "tamas-1"
    assert all("Event" in m or "Response" in m for m in dispatched)


def test_the_call_tracker_takes_any_event_without_raising() -> None:
    rng = random.Random(SEED + 2)
    tracker = CallTracker(agent_lookup({"Local/101@tamas-agents": "101", "PJSIP/102": "102"}))
    names = ["AgentCalled", "DialBegin", "AgentConnect", "BridgeEnter", "AgentRingNoAnswer",
             "DialEnd", "BlindTransfer", "AttendedTransfer", "Hangup", "Newchannel",
             ""]  # fmt: skip
    values: list[Any] = ["", "17.1", "17.2", "Local/101@tamas-agents-0000000c;1", "PJSIP/102-1",
                         "ANSWER", None, 5, ["a", "b"], {"x": 1}, "\x00", "۱۲۳"]  # fmt: skip
    fields = ["Linkedid", "Uniqueid", "Channel", "DestChannel", "Interface", "DialStatus",
              "TransfererChannel", "TransfererLinkedid", "Queue", "CallerIDNum",
              "linkedid"]  # fmt: skip
    for n in range(CASES * 2):
        event: dict[Any, Any] = {"Event": rng.choice(names)}
        for _ in range(rng.randint(0, 8)):
            event[rng.choice(fields)] = rng.choice(values)
        if rng.random() < 0.05:
            event[rng.randint(0, 9)] = "a key that is not text"
        changes = tracker.feed(event, at=float(n))
        assert isinstance(changes, list)
    tracker.sweep(now=float(CASES * 2) + 7 * 3600)
    assert tracker.calls == {}


# --- AGI ------------------------------------------------------------------------------------


def test_agi_answers_parse_or_raise_agi_error() -> None:
    rng = random.Random(SEED + 3)
    for _ in range(CASES):
        line = mutate(rng, rng.choice(AGI_SAMPLES).encode()).decode("utf-8", errors="replace")
        try:
            result = parse_result(line)
        except AgiError:
            continue
        assert 0 <= result.code <= 999


async def test_the_fastagi_server_survives_random_headers_and_answers() -> None:
    """Random header blocks, then random answers to the route's commands: every session ends
    (routes see only CallerHungUp or AgiError), and a proper session still works after."""
    rng = random.Random(SEED + 4)
    outcomes: list[str] = []

    async def fuzz(channel: AgiCommands) -> None:
        try:
            await channel.get_variable("CHANNEL(linkedid)")
            await channel.stream_file("tamas/fa/prompt/main_menu", "0123456789")
            outcomes.append("done")
        except (CallerHungUp, AgiError) as error:
            outcomes.append(type(error).__name__)

    server = build_server(Settings(), {"fuzz": fuzz}, host="127.0.0.1", port=0)
    server.header_timeout_s = 1.0
    await server.start()
    try:
        for _ in range(CASES // 8):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            headers = AGI_HEADERS if rng.random() < 0.5 else mutate(rng, AGI_HEADERS)
            writer.write(headers)
            for _answer_n in range(2):
                writer.write(mutate(rng, rng.choice(AGI_SAMPLES).encode()) + b"\n")
            writer.write_eof()
            async with asyncio.timeout(5):
                await reader.read()  # the server closes every session
            writer.close()

        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(AGI_HEADERS)
        assert (await reader.readline()).startswith(b"GET VARIABLE")
        writer.write(b"200 result=1 (17.5)\n")
        assert (await reader.readline()).startswith(b"STREAM FILE")
        writer.write(b"200 result=0 endpos=100\n")
        async with asyncio.timeout(5):
            await reader.read()
        writer.close()
    finally:
        await server.close()
    assert outcomes[-1] == "done"
    assert set(outcomes) <= {"done", "CallerHungUp", "AgiError"}


# --- websocket frames and bus messages ---------------------------------------------------------


def test_desktop_frames_get_a_pong_or_are_junk() -> None:
    rng = random.Random(SEED + 5)
    ping = json.dumps({"type": "ping"}).encode()
    for _ in range(CASES):
        text = mutate(rng, ping).decode("utf-8", errors="replace")
        reply = _answer(text)
        assert reply is None or json.loads(reply)["type"] == "pong"


def test_bus_messages_parse_or_are_malformed() -> None:
    rng = random.Random(SEED + 6)
    sample = BusMessage("call.popup", {"agent": "101", "name": "مریم"}, _audience()).to_json()
    for _ in range(CASES):
        raw = mutate(rng, sample.encode())
        try:
            message = BusMessage.from_json(raw)
        except MalformedMessage:
            continue
        assert isinstance(message.name, str)


def _audience() -> Any:
    from tamas.bus import Audience

    return Audience.agent("101")


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_random_frames_on_a_desktop_socket_get_errors_then_a_close(
    server: RunningServer,
) -> None:
    rng = random.Random(SEED + 7)
    session = await logged_in(server, "101")
    async with session:
        for _ in range(CASES // 40):
            ws = await session.ws_connect("/ws")
            assert (await ws.receive_json())["type"] == "hello"
            replies: list[str] = []
            for _ in range(MAX_JUNK_FRAMES + 5):
                frame = mutate(rng, b'{"type":"ping"}')
                if rng.random() < 0.5:
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame.decode("utf-8", errors="replace"))
                message = await ws.receive(timeout=5)
                if message.type is not aiohttp.WSMsgType.TEXT:
                    break
                replies.append(json.loads(message.data)["type"])
            assert set(replies) <= {"pong", "error"}
            await ws.close()
        # The server still serves a proper desktop after all that.
        ws = await session.ws_connect("/ws")
        assert (await ws.receive_json())["type"] == "hello"
        await ws.send_str(json.dumps({"type": "ping"}))
        assert (await ws.receive_json())["type"] == "pong"
        await ws.close()
