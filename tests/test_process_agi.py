"""Process AGI (pyst2 under our AgiChannel interface): the script speaking to a fake Asterisk
over pipes, and the real one run by the sandbox's own python3."""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

import pytest

from tamas.asterisk.ami import AmiClient, Message
from tamas.settings import Settings

SCRIPT = Path(__file__).resolve().parents[1] / "agi_scripts" / "process_agi.py"
HEADERS = (
    "agi_request: /opt/tamas/agi_scripts/process_agi.py\n"
    "agi_channel: Local/s@tamas-caller-00000001;1\n"
    "agi_uniqueid: 1700000000.1\n"
    "agi_arg_1: keys\n"
    "\n"
)


async def _run_script(answers: list[str]) -> tuple[list[str], int]:
    """Play Asterisk: send the headers, answer each command in turn, collect the commands."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCRIPT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(HEADERS.encode())
    commands = []
    for answer in answers:
        line = await asyncio.wait_for(process.stdout.readline(), 10)
        if not line:
            break
        commands.append(line.decode().strip())
        process.stdin.write(answer.encode())
        await process.stdin.drain()
    process.stdin.close()
    return commands, await asyncio.wait_for(process.wait(), 10)


async def test_keys_route_reads_keys_and_hands_them_to_the_dialplan() -> None:
    commands, status = await _run_script(["200 result=0\n", "200 result=314\n", "200 result=1\n"])
    assert commands == ["ANSWER", "GET DATA beep 3000 20", 'SET VARIABLE TAMAS_KEYS "314"']
    assert status == 0


async def test_inline_hangup_line_is_not_taken_for_an_answer() -> None:
    # Asterisk writes HANGUP, then the -1 answer of the read in flight; the route must stop
    # there instead of reading "-1" as the answer of a later command.
    commands, status = await _run_script(["200 result=0\n", "HANGUP\n200 result=-1\n"])
    assert commands == ["ANSWER", "GET DATA beep 3000 20"]
    assert status == 0


@pytest.mark.asterisk
async def test_process_agi_runs_inside_the_sandbox_with_real_dtmf(
    asterisk_sandbox: Settings,
) -> None:
    ami = AmiClient.from_settings(asterisk_sandbox, name="test-process-agi")
    await ami.connect()
    try:
        channel_id = f"process-agi-{uuid.uuid4().hex}"
        event: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def on_user_event(message: Message) -> None:
            if message.get("Linkedid") == channel_id and not event.done():
                event.set_result(message)

        ami.on_event("UserEvent", on_user_event)
        result = await ami.originate(
            "Local/s@tamas-caller",
            context="tamas-inbound",
            exten="190",
            variables={"TAMAS_DTMF": "314#"},
            channel_id=channel_id,
        )
        assert result.answered
        keys = await asyncio.wait_for(event, 20)
    finally:
        await ami.close()
    assert keys["UserEvent"] == "TamasKeys"
    assert keys["Keys"] == "314"
    assert keys["Status"] == "SUCCESS"
