"""The menus end to end: real calls through the Asterisk sandbox (`place_call`, as `tamas call`
does), real DTMF, our FastAGI server with the IVR's routes, a real database; each test checks
the call's interaction record and transcript."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from ivr_support import (
    APPROVED_RIALS,
    CLAIM_CODE,
    GOLD_PHONE,
    NATIONAL_ID,
    STRANGER_PHONE,
    build_customer_file,
)

from agi_scripts.fastagi import AgiServer, build_server, ensure_schema
from integrations.database import Database
from ivr.hours import OpeningHours
from ivr.routes import IvrRoutes
from prompts.numbers import say_amount
from tamas.asterisk.ami import AmiClient
from tamas.asterisk.test_call import run_call
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

ALWAYS_OPEN = OpeningHours(week={day: (time(0, 0), time(23, 59, 59)) for day in range(7)})


@dataclass
class Line:
    settings: Settings
    server: AgiServer
    database: Database
    ami: AmiClient

    async def call(self, caller: str, extension: str, dtmf: str, **options: Any) -> dict[str, Any]:
        options.setdefault("timeout_s", 90)
        call = await run_call(
            self.settings,
            caller,
            extension,
            dtmf,
            variables={"TAMAS_AGI": f"agi://127.0.0.1:{self.server.port}"},
            ami=self.ami,
            database=self.database,
            **options,
        )
        assert call.record is not None
        return call.record


@pytest.fixture
async def line(asterisk_sandbox: Settings, tmp_path: Path) -> AsyncIterator[Line]:
    settings = replace(
        asterisk_sandbox, database_url=f"sqlite+aiosqlite:///{tmp_path / 'ivr.sqlite3'}"
    )
    database = Database(settings.effective_database_url)
    await ensure_schema(database)
    await build_customer_file(database)
    routes = IvrRoutes(settings, database, hours=ALWAYS_OPEN).routes()
    server = build_server(settings, routes, host="127.0.0.1", port=0)
    await server.start()
    ami = AmiClient.from_settings(settings, name="test-ivr")
    await ami.connect()
    try:
        yield Line(settings, server, database, ami)
    finally:
        await ami.close()
        await server.close()
        await database.dispose()


def transcript(record: dict[str, Any]) -> str:
    return "\n".join(item["text"] for item in record["transcript"])


def inputs(record: dict[str, Any]) -> dict[str, str]:
    return {item["field"]: item["value"] for item in record["inputs"]}


async def test_claim_status_by_phone_in_english(line: Line) -> None:
    # 2: English; 1: claim status; the code; the last four digits of the national ID.
    record = await line.call(
        "09350000000", "200", f"2W1W{CLAIM_CODE}#WW{NATIONAL_ID[-4:]}#", hold_s=20
    )
    assert record["caller_number"] == STRANGER_PHONE
    assert record["language"] == "en"
    assert inputs(record)["tracking_code"] == CLAIM_CODE
    assert inputs(record)["claim_secret"] == "****"
    said = transcript(record)
    assert "Your claim has been approved." in said
    assert say_amount(APPROVED_RIALS, "en").text in said
    assert record["outcome"] == "self_served"
    assert record["outcome_detail"] == "claim_status"


async def test_known_caller_is_greeted_by_name_and_put_through_to_the_priority_queue(
    line: Line,
) -> None:
    # The gold customer's phone; 1: Persian; 0: an agent; no survey.
    record = await line.call(GOLD_PHONE, "200", "1W0")
    assert record["customer_id"] is not None
    assert "مریم احمدی" in transcript(record)
    assert record["outcome"] == "queued"
    assert record["queue"] == "priority"
    assert record["outcome_detail"] == "main"


async def test_caller_hanging_up_in_the_menu_leaves_an_abandoned_record(line: Line) -> None:
    record = await line.call("09350000000", "200", "2W1W77", hold_s=1)
    assert record["outcome"] == "abandoned_in_menu"
    assert record["outcome_detail"] == "claim_status"
    assert record["ended_at"] is not None
