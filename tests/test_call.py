"""Real calls through the sandbox into the skeleton route: `tamas call` end to end.

Each test runs its own FastAGI server on a free port with a temporary SQLite database; the
call's TAMAS_AGI channel variable points the dialplan at it, so these tests never collide with
a `tamas agi` already serving the settings' port.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from ivr_support import Line, open_line

from agi_scripts.channel import Route
from integrations import migrations
from integrations.database import Database
from interactions.records import InteractionRecords
from ivr.skeleton import skeleton_route
from tamas.asterisk.test_call import TestCallError
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk


@pytest.fixture
async def line(asterisk_sandbox: Settings, tmp_path: Path) -> AsyncIterator[Line]:
    settings = replace(
        asterisk_sandbox, database_url=f"sqlite+aiosqlite:///{tmp_path / 'calls.sqlite3'}"
    )
    await migrations.upgrade(settings.effective_database_url)

    def routes(database: Database) -> dict[str, Route]:
        return {"skeleton": skeleton_route(InteractionRecords(database), "IR")}

    async with open_line(settings, routes, "test-call") as opened:
        yield opened


async def test_call_into_the_skeleton_records_the_keys_under_asterisks_linkedid(
    line: Line,
) -> None:
    call = await line.place(
        "09121234567",
        "100",
        "1w123456#w2",
        timeout_s=40,
    )
    record = call.record
    assert record is not None
    # Every Hangup Asterisk reported for the call carried the record's linkedid.
    assert call.linkedids_reported == {record["linkedid"]}
    assert len(call.hangups) >= 2
    assert record["caller_number"] == "+989121234567"
    assert record["called_number"] == "100"
    # `w` pauses 0.5 s, shorter than the skeleton's 3 s read timeout: the first read ends at #.
    assert [entry["value"] for entry in record["inputs"]] == ["1123456", "2"]
    assert record["outcome"] == "self_served"
    assert record["ended_at"] is not None and record["duration_s"] > 0


async def test_caller_hanging_up_mid_read_leaves_a_complete_record(line: Line) -> None:
    call = await line.place(
        "+79161234567",
        "100",
        "42#W9",
        hold_s=0,  # hang up right after the last key, while the skeleton waits for more
        timeout_s=30,
    )
    record = call.record
    assert record is not None
    assert record["linkedid"] == call.linkedid
    assert record["caller_number"] == "+79161234567"
    assert record["inputs"][0]["value"] == "42"
    assert record["outcome"] == "abandoned_in_menu"
    assert record["outcome_detail"] == "hung up during read 2"
    assert record["ended_at"] is not None and record["duration_s"] is not None


async def test_a_call_still_up_at_the_timeout_is_hung_up_with_a_clear_error(line: Line) -> None:
    with pytest.raises(TestCallError, match="still up after 2 s") as error:
        await line.place(
            "09121234567",
            "100",
            "",
            timeout_s=2,
        )
    channels = await line.ami.send_action({"Action": "CoreShowChannels"})
    linkedid = str(error.value).split()[2]  # "the call <linkedid> was still up ..."
    assert linkedid.startswith("tamas-call-")
    assert not [e for e in channels.events if e.get("Linkedid") == linkedid]


async def test_tamas_call_without_a_fastagi_server_says_what_to_check(line: Line) -> None:
    # Extension 100 with no AGI server behind it: the call ends, but nothing writes a record.
    status, out, err = await _tamas(
        ["call", "--from", "09121234567", "--to", "100", "--timeout", "20"],
        TAMAS_DATABASE_URL=line.settings.effective_database_url,
        TAMAS_FASTAGI_PORT="1",
    )
    assert status == 1, out
    assert "no interaction record" in err


async def test_tamas_call_rejects_keys_it_cannot_send() -> None:
    status, _out, err = await _tamas(["call", "--from", "0912", "--to", "100", "--dtmf", "12x"])
    assert status == 1
    assert "use only 0-9 * # A-D" in err


async def test_tamas_call_prints_the_record_as_json(line: Line) -> None:
    status, out, err = await _tamas(
        ["call", "--from", "09121234567", "--to", "100", "--dtmf", "7#"],
        TAMAS_DATABASE_URL=line.settings.effective_database_url,
        TAMAS_FASTAGI_PORT=str(line.server.port),
    )
    assert status == 0, err
    record = json.loads(out)
    assert record["inputs"][0]["value"] == "7"
    assert record["linkedid"].startswith("tamas-call-")


async def _tamas(argv: list[str], **env: str) -> tuple[int, str, str]:
    """Run the real `tamas` command, as an operator would."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("tamas")),
        *argv,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()
