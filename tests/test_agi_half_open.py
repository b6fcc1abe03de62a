"""A FastAGI session whose Asterisk goes silent (a half-open connection: its host gone without
closing the socket) ends after the answer timeout, as a hang-up, so the route's record is
saved; it does not hang for ever."""

from __future__ import annotations

import asyncio

import pytest

from agi_scripts import channel as agi_channel
from agi_scripts.channel import AgiCommands, CallerHungUp
from agi_scripts.fastagi import build_server
from tamas.settings import Settings


async def test_a_silent_asterisk_ends_the_route_as_a_hang_up_after_the_answer_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(agi_channel, "ANSWER_TIMEOUT_S", 0.5)
    ended: list[str] = []

    async def menu(channel: AgiCommands) -> None:
        try:
            await channel.stream_file("tamas/fa/prompt/main_menu", "0123456789")
        except CallerHungUp as error:
            ended.append(str(error))
        finally:
            ended.append("record saved")

    server = build_server(Settings(), {"menu": menu}, host="127.0.0.1", port=0)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: menu\nagi_channel: PJSIP/caller-1\n\n")
        assert (await reader.readline()).startswith(b"STREAM FILE")
        # ...and Asterisk never answers, nor closes: the connection is half-open.
        async with asyncio.timeout(5):
            while len(ended) < 2:  # noqa: ASYNC110 - the route runs in the server's task
                await asyncio.sleep(0.05)
        assert "no answer from Asterisk" in ended[0]
        assert ended[1] == "record saved"
        assert await asyncio.wait_for(reader.read(), 5) == b""  # the server let go of it
        writer.close()
    finally:
        await server.close()


async def test_a_session_asterisk_half_closes_is_closed_by_the_server_too() -> None:
    """Asterisk shuts its side (EOF) mid-command: the route ends as a hang-up and the server
    closes the socket, rather than keep it (and its descriptor) until garbage collection."""

    async def menu(channel: AgiCommands) -> None:
        await channel.wait_for_digit(5000)

    server = build_server(Settings(), {"menu": menu}, host="127.0.0.1", port=0)
    await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"agi_network_script: menu\n\n")
        writer.write_eof()
        assert (await reader.readline()).startswith(b"WAIT FOR DIGIT")
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    finally:
        await server.close()
