"""The menus over process AGI (ivr/process.py, one process per call, pyst2): the test plays
Asterisk's side of the AGI protocol on the script's stdin and stdout, then reads the record."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bench.agi_protocol_client import AsteriskSide, CallerScript
from integrations import migrations
from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.showcase import SHOWCASE
from integrations.demo_data.writer import load
from interactions.records import InteractionRecords
from prompts.catalogue import default_catalogue

SCRIPT = Path(__file__).resolve().parents[1] / "ivr" / "process.py"


async def test_policy_authenticity_over_process_agi(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'box.sqlite3'}"
    await migrations.upgrade(url)
    database = Database(url)
    await load(database, Plan(5, 1), workers=0)
    env = {**os.environ, "TAMAS_DATABASE_URL": url, "TAMAS_DATA_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    headers = {
        "agi_request": str(SCRIPT),
        "agi_channel": "Local/205@tamas-inbound-00000001;1",
        "agi_uniqueid": "1700000000.1",
        "agi_callerid": "09350000000",
        "agi_extension": "205",
        "agi_arg_1": "ivr",
        "agi_arg_2": "authenticity",
    }
    process.stdin.write("".join(f"{k}: {v}\n" for k, v in headers.items()).encode() + b"\n")
    # Asterisk's side as the benchmarks play it: the caller keys the policy number and #.
    asterisk = AsteriskSide(
        CallerScript("ivr", keys=SHOWCASE.policy_number + "#"), "process-call-1"
    )
    commands = []
    async with asyncio.timeout(60):
        while line := await process.stdout.readline():
            command = line.decode().strip()
            commands.append(command)
            process.stdin.write((asterisk.answer(command) + "\n").encode())
            await process.stdin.drain()
        assert await process.wait() == 0

    row = await InteractionRecords(database).load("process-call-1")
    await database.dispose()
    assert row is not None
    assert row.caller_number == "+989350000000"
    assert (row.outcome, row.outcome_detail) == ("self_served", "authenticity")
    said = " ".join(item["text"] for item in row.transcript)
    assert default_catalogue().text("policy_genuine", "fa") in said
    assert "STREAM FILE tamas/fa/prompt/policy_genuine" in " ".join(commands)
