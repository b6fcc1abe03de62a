"""The FastAGI server and AgiChannel, driven by a small client that plays Asterisk's side of
the AGI protocol (headers, answers, inline HANGUP lines). Real calls: tests/test_call.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest

from agi_scripts.channel import AgiChannel, AgiError, CallerHungUp, parse_result, quote
from agi_scripts.fastagi import AgiServer, build_server
from tamas.settings import Settings


class FakeAsterisk:
    """Asterisk's side of one AGI session: sends headers, then answers each command with the
    next scripted line(s)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.commands: list[str] = []

    async def session(self, script: str, answers: list[str], args: tuple[str, ...] = ()) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        headers = [
            f"agi_network_script: {script}",
            "agi_channel: Local/s@tamas-caller-00000001;1",
            "agi_uniqueid: 1700000000.1",
            "agi_callerid: 09121234567",
            *(f"agi_arg_{i}: {value}" for i, value in enumerate(args, 1)),
        ]
        writer.write(("\n".join(headers) + "\n\n").encode())
        for answer in answers:
            line = await reader.readline()
            if not line:
                break
            self.commands.append(line.decode().strip())
            writer.write(answer.encode())
        # The route is done when it closes the connection.
        await asyncio.wait_for(reader.read(), 5)
        writer.close()


async def _closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(), 5) == b""
    except ConnectionResetError:  # closed with our bytes unread: a reset, also a close
        return True


async def _serve(
    settings: Settings, table: dict[str, Callable[[AgiChannel], Awaitable[None]]]
) -> AgiServer:
    server = build_server(settings, table, host="127.0.0.1", port=0)
    await server.start()
    return server


@pytest.fixture
async def settings() -> Settings:
    return Settings()


async def test_route_gets_its_arguments_and_variables(settings: Settings) -> None:
    seen: list[object] = []

    async def claims(channel: AgiChannel) -> None:
        seen.append(channel.args)
        seen.append(await channel.get_variable("CALLERID(name)"))
        seen.append(await channel.get_variable("UNSET"))
        seen.append(await channel.linkedid())

    server = await _serve(settings, {"claims": claims})
    try:
        fake = FakeAsterisk(server.port)
        await fake.session(
            "claims",
            ["200 result=1 (Ali (Reza))\n", "200 result=0\n", "200 result=1 (1700000000.0)\n"],
            args=("fa", "status"),
        )
    finally:
        await server.close()
    assert seen == [["fa", "status"], "Ali (Reza)", None, "1700000000.0"]
    assert fake.commands[0] == "GET VARIABLE CALLERID(name)"


async def test_connection_from_outside_the_allow_list_is_closed(settings: Settings) -> None:
    called: list[str] = []

    async def skeleton(channel: AgiChannel) -> None:
        called.append(channel.script)

    server = await _serve(replace(settings, fastagi_allow=("10.9.9.0/24",)), {"skeleton": skeleton})
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: skeleton\n\n")
        assert await _closed_by_server(reader)
        writer.close()
    finally:
        await server.close()
    assert called == []
    assert server.refused == 1


async def test_peer_closing_during_headers_ends_quietly(settings: Settings) -> None:
    called: list[str] = []

    async def skeleton(channel: AgiChannel) -> None:
        called.append(channel.script)

    server = await _serve(settings, {"skeleton": skeleton})
    try:
        for junk in (b"agi_network_script: skel", b"", b"GET / HTTP/1.0\r\n\r\n"):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(junk)
            await writer.drain()
            writer.write_eof()
            assert await _closed_by_server(reader)
            writer.close()
        await asyncio.sleep(0.05)
        assert not server.sessions
    finally:
        await server.close()
    assert called == []


async def test_unknown_route_and_url_parameters_are_refused(settings: Settings) -> None:
    server = await _serve(settings, {})
    try:
        fake = FakeAsterisk(server.port)
        await fake.session("claims?x=1", [])
    finally:
        await server.close()
    assert fake.commands == []


async def test_hangup_line_before_an_answer_is_consumed_and_ends_the_route(
    settings: Settings,
) -> None:
    events: list[object] = []

    async def menu(channel: AgiChannel) -> None:
        try:
            events.append(await channel.get_data("beep", 3000, 4))
            events.append(await channel.get_data("beep", 3000, 4))
        except CallerHungUp:
            events.append("hung up")
            events.append(await channel.get_variable("CHANNEL(linkedid)"))
            raise

    server = await _serve(settings, {"menu": menu})
    try:
        fake = FakeAsterisk(server.port)
        await fake.session(
            "menu",
            [
                "200 result=12 (timeout)\n",
                "HANGUP\n200 result=-1\n",  # the caller hung up during the second read
                "200 result=1 (1700000000.0)\n",  # variables still readable after hang-up
            ],
        )
    finally:
        await server.close()
    assert events == ["12", "hung up", "1700000000.0"]


async def test_dead_channel_answer_raises_caller_hung_up(settings: Settings) -> None:
    outcome: list[str] = []

    async def menu(channel: AgiChannel) -> None:
        try:
            await channel.stream_file("tamas/welcome", "123")
        except CallerHungUp:
            outcome.append("hung up")

    server = await _serve(settings, {"menu": menu})
    try:
        fake = FakeAsterisk(server.port)
        await fake.session("menu", ["511 Command Not Permitted on a dead channel\n"])
    finally:
        await server.close()
    assert outcome == ["hung up"]


async def test_missing_sound_file_is_an_error_not_a_hang_up(settings: Settings) -> None:
    outcome: list[str] = []

    async def menu(channel: AgiChannel) -> None:
        try:
            await channel.stream_file("tamas/missing", "")
        except AgiError as error:
            outcome.append(str(error))

    server = await _serve(settings, {"menu": menu})
    try:
        fake = FakeAsterisk(server.port)
        await fake.session("menu", ["200 result=-1 endpos=0\n", "200 result=6\n"])
    finally:
        await server.close()
    assert fake.commands == ['STREAM FILE tamas/missing ""', "CHANNEL STATUS"]
    assert outcome and "failed" in outcome[0]


async def test_asterisk_closing_mid_command_ends_the_route(settings: Settings) -> None:
    outcome: list[str] = []

    async def menu(channel: AgiChannel) -> None:
        try:
            await channel.wait_for_digit(5000)
        except CallerHungUp:
            outcome.append("hung up")

    server = await _serve(settings, {"menu": menu})
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: menu\n\n")
        await reader.readline()
        writer.close()
        await asyncio.sleep(0.1)
    finally:
        await server.close()
    assert outcome == ["hung up"]


def test_answers_are_parsed_with_their_data_and_extras() -> None:
    result = parse_result("200 result=0 (timeout) endpos=8000")
    assert (result.code, result.result, result.data) == (200, "0", "timeout")
    assert result.extra == {"endpos": "8000"}
    assert parse_result("200 result=1 (a (b) c)").data == "a (b) c"
    assert parse_result("510 Invalid or unknown command").code == 510


def test_arguments_are_quoted_for_asterisk() -> None:
    assert quote('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'
