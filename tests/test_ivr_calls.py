"""Every menu end to end: real calls through the Asterisk sandbox (`run_call`, what `tamas
call` does), real DTMF, our FastAGI server with the IVR's routes, the demo customer file
(SHOWCASE records); each test checks the call's interaction record and its transcript.

Keys are spaced with W (1 s) after each # because Asterisk drops DTMF that arrives while no
AGI command is listening (res_agi reads and discards frames between commands), which is the
moment the IVR looks something up.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from ivr_support import Line, en, open_line
from sqlalchemy import select

from agi_scripts.channel import Route
from cases.caller_requests import CallerRequestRow
from cases.tables import CaseRow
from integrations import migrations
from integrations.database import Database
from integrations.demo_data.portfolio import Plan
from integrations.demo_data.showcase import SHOWCASE
from integrations.demo_data.writer import load
from integrations.messaging.outbox import Outbox
from ivr import definitions
from ivr.hours import OpeningHours
from ivr.routes import IvrRoutes
from ivr.services import SERVICES
from prompts.catalogue import default_catalogue
from prompts.numbers import say_amount, say_digits, say_number
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

ALWAYS_OPEN = OpeningHours(week={day: (time(0, 0), time(23, 59, 59)) for day in range(7)})
STRANGER = "09350000000"  # on no file
VIP_LAST4 = SHOWCASE.vip_national_id[-4:]


def fa(key: str) -> str:
    return default_catalogue().text(key, "fa")


@pytest.fixture(scope="session")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo customer file (showcase customers), built once and copied for each test."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"

    async def build() -> None:
        url = f"sqlite+aiosqlite:///{path}"
        await migrations.upgrade(url)
        database = Database(url)
        try:
            await load(database, Plan(5, 1, date.today()), workers=0)
        finally:
            await database.dispose()

    asyncio.run(build())
    return path


@pytest.fixture
async def line(asterisk_sandbox: Settings, demo_file: Path, tmp_path: Path) -> AsyncIterator[Line]:
    async with _line(asterisk_sandbox, demo_file, tmp_path) as opened:
        yield opened


@pytest.fixture
async def greeting_line(
    asterisk_sandbox: Settings, demo_file: Path, tmp_path: Path
) -> AsyncIterator[Line]:
    """A line whose IVR greets a caller by the name on file for their number (a setting, off
    by default: caller ID can be spoofed)."""
    async with _line(asterisk_sandbox, demo_file, tmp_path, ivr_greet_by_caller_id=True) as opened:
        yield opened


@asynccontextmanager
async def _line(
    asterisk_sandbox: Settings,
    demo_file: Path,
    tmp_path: Path,
    book: definitions.MenuBook | None = None,
    **changes: Any,
) -> AsyncIterator[Line]:
    """A line into the IVR's routes (of `book`) on a copy of the demo file, settings changed."""
    copy = tmp_path / "ivr.sqlite3"
    shutil.copy(demo_file, copy)
    settings = replace(asterisk_sandbox, database_url=f"sqlite+aiosqlite:///{copy}", **changes)

    def routes(database: Database) -> Mapping[str, Route]:
        return IvrRoutes(settings, database, hours=ALWAYS_OPEN, book=book).routes()

    async with open_line(settings, routes, "test-ivr") as opened:
        yield opened


def transcript(record: dict[str, Any]) -> str:
    return "\n".join(item["text"] for item in record["transcript"])


def inputs(record: dict[str, Any]) -> dict[str, str]:
    return {item["field"]: item["value"] for item in record["inputs"]}


async def test_claim_status_from_the_main_menu_in_english(line: Line) -> None:
    # 2: English; 1: claim status; the paid claim's code; the last four national-ID digits.
    dtmf = f"2W1W{SHOWCASE.claim_paid}#WW{VIP_LAST4}#"
    record = await line.call(STRANGER, "200", dtmf, hold_s=20)

    assert record["caller_number"] == "+989350000000"
    assert record["language"] == "en"
    assert inputs(record)["tracking_code"] == SHOWCASE.claim_paid
    assert inputs(record)["claim_secret"] == "****"
    said = transcript(record)
    assert en("claim_stage_paid") in said
    assert say_amount(72_000_000, "en").text in said
    assert record["customer_id"] == 2  # the claim's owner, once the digits matched
    assert record["outcome"] == "self_served"
    assert record["outcome_detail"] == "claim_status"


async def test_an_unknown_claim_code_on_the_claims_line_is_not_self_served(line: Line) -> None:
    record = await line.call(STRANGER, "201", "99999999#WW1234#", hold_s=15)

    assert inputs(record)["tracking_code"] == "99999999"
    assert record["outcome"] in ("not_found", "not_verified")
    assert fa("claim_stage_paid") not in transcript(record)


async def test_three_wrong_secrets_on_the_claims_line_end_locked_out(line: Line) -> None:
    dtmf = f"{SHOWCASE.claim_paid}#WW1111#WW2222#WW3333#"
    record = await line.call(STRANGER, "201", dtmf, hold_s=15)

    assert record["outcome"] == "locked_out"
    assert record["outcome_detail"] == "claim"
    assert fa("claim_stage_paid") not in transcript(record)


async def test_nearest_branches_on_their_direct_line(line: Line) -> None:
    record = await line.call(STRANGER, "202", f"{SHOWCASE.postal_code_near_branches}WW1", hold_s=25)

    said = transcript(record)
    assert fa("branch_nearest") in said
    assert said.index("شعبه ونک تهران") < said.index("نمایندگی میرداماد تهران")
    assert say_digits("02147191842", "fa").text in said
    assert record["outcome"] == "self_served"
    looked = {item["kind"] for item in record["looked_up"]}
    assert {"postal_code", "branch"} <= looked


async def test_shareholder_hears_holding_dividend_and_gets_the_invitation_by_fax(
    line: Line,
) -> None:
    dtmf = f"{SHOWCASE.shareholder_number}#WW{SHOWCASE.shareholder_pin}#"
    record = await line.call(STRANGER, "203", dtmf + "W" * 30 + "2", hold_s=8)

    said = transcript(record)
    assert say_number(250_000, "fa").text in said
    assert say_amount(600, "fa").text in said  # dividend per share, fiscal 1404
    assert fa("document_bank_account_number") in said
    assert "سالن همایش" in said
    assert inputs(record)["pin"] == "****"
    messages = await Outbox(line.database).for_call(record["linkedid"])
    assert [m.kind for m in messages] == ["fax"]


async def test_debts_after_national_id_and_pin(line: Line) -> None:
    dtmf = f"1W{SHOWCASE.gold_national_id}#WW{SHOWCASE.gold_pin}#"
    record = await line.call(SHOWCASE.gold_caller, "204", dtmf, hold_s=30)

    said = transcript(record)
    assert fa("debt_balance") in said
    assert say_amount(345_000_000, "fa").text in said
    assert fa("cheques_bounced") in said
    assert inputs(record)["national_id"] == "****"
    assert record["customer_id"] == 1


async def test_policy_authenticity_on_its_direct_line(line: Line) -> None:
    record = await line.call(STRANGER, "205", f"{SHOWCASE.policy_number}#", hold_s=20)

    said = transcript(record)
    assert fa("policy_genuine") in said
    assert fa("policy_line_motor_hull") in said
    assert "ع*** ر***" in said
    assert record["outcome"] == "self_served"


async def _request_case(database: Database, linkedid: str) -> tuple[CaseRow, str]:
    """The case the call's request opened, and the request's kind (a complaint's category)."""
    async with database.session() as db:
        found = (
            await db.execute(
                select(CaseRow, CallerRequestRow.kind)
                .join(CallerRequestRow, CallerRequestRow.case_id == CaseRow.id)
                .where(CallerRequestRow.linkedid == linkedid)
            )
        ).first()
    assert found is not None
    return found[0], found[1]


async def test_renewal_request_leaves_a_callback_task_and_says_its_number(line: Line) -> None:
    record = await line.call(SHOWCASE.gold_caller, "206", f"{SHOWCASE.policy_number}#", hold_s=20)

    case, kind = await _request_case(line.database, record["linkedid"])
    assert (case.type, kind) == ("renewal_callback", "renewal")
    assert say_digits(case.tracking_number, "fa").text in transcript(record)


async def test_complaint_with_a_voice_message_gets_a_tracking_number(line: Line) -> None:
    # 1: a new complaint; 2: about our service; speak (3 s of the caller's line), then #.
    record = await line.call(STRANGER, "207", "1W2" + "W" * 14 + "#", hold_s=15)

    complaint, category = await _request_case(line.database, record["linkedid"])
    assert (complaint.type, complaint.state, category) == ("complaint", "received", "service")
    assert say_digits(complaint.tracking_number, "fa").text in transcript(record)


async def test_medical_and_payment_centres_are_sent_by_sms(line: Line) -> None:
    record = await line.call(STRANGER, "208", "1", hold_s=15)

    messages = await Outbox(line.database).for_call(record["linkedid"])
    assert [(m.kind, m.to) for m in messages] == [("sms", "+989350000000")]
    assert fa("sms_sent") in transcript(record)


async def test_callback_request_on_its_line(line: Line) -> None:
    record = await line.call(SHOWCASE.russian_caller, "209", "", hold_s=15)

    assert record["language"] == "ru"
    assert default_catalogue().text("callback_registered", "ru") in transcript(record)
    assert record["outcome"] == "self_served"


async def test_vip_caller_greeted_by_name_queues_with_priority_then_takes_the_survey(
    greeting_line: Line,
) -> None:
    line = greeting_line
    # 1: Persian; 0: an agent; 1: yes to the survey; the agent answers and hangs up after
    # a few seconds; then 4 (satisfaction) and 9# (recommendation).
    dtmf = "1W0W1" + "W" * 24 + "4WW9#"
    record = await line.call(SHOWCASE.vip_caller, "200", dtmf)

    assert "سارا احمدی" in transcript(record)
    assert record["queue"] == "priority"
    # The queue's hang-up handler (dialplans/ivr.conf) says an agent answered.
    assert record["outcome"] == "answered_by_agent"
    assert (record["survey_score"], record["survey_nps"]) == (4, 9)
    assert [step["menu"] for step in record["menu_path"]][-1] == "survey"


async def test_caller_giving_up_in_the_queue_is_recorded_as_abandoned_there(line: Line) -> None:
    agents = ("101", "102")  # the support queue's members ring and never answer
    for agent in agents:
        await line.ami.send_action(
            {"Action": "Setvar", "Variable": f"AGENT_{agent}_MODE", "Value": "noanswer"}
        )
    try:
        # 2: English; 0: an agent; no answer to the survey offer; hang up while it rings.
        record = await line.call(STRANGER, "200", "2W0", hold_s=12)
    finally:
        for agent in agents:
            await line.ami.send_action(
                {"Action": "Setvar", "Variable": f"AGENT_{agent}_MODE", "Value": "answer"}
            )

    assert record["queue"] == "support"
    assert record["outcome"] == "abandoned_in_queue"
    assert record["duration_s"] >= 10  # the time in the queue counts


async def test_caller_hanging_up_in_the_menu_leaves_an_abandoned_record(line: Line) -> None:
    record = await line.call(STRANGER, "200", "2W1W14", hold_s=1)

    assert record["outcome"] == "abandoned_in_menu"
    assert record["outcome_detail"] == "claim_status"
    assert record["ended_at"] is not None


async def test_a_caller_the_queue_cannot_serve_is_offered_a_callback(
    asterisk_sandbox: Settings, demo_file: Path, tmp_path: Path
) -> None:
    # A queue no agent serves (Asterisk has no such queue): Queue() gives up at once.
    menus = definitions.load(services=SERVICES)
    book = replace(menus, queues=replace(menus.queues, default="tamas-test-nobody"))
    async with _line(asterisk_sandbox, demo_file, tmp_path, book) as line:
        # 2: English; 0: an agent; nothing for the survey; then 1: call me back.
        record = await line.call(STRANGER, "200", "2W0" + "W" * 12 + "1")

    assert en("agents_busy") in transcript(record)
    assert record["outcome"] == "callback_requested"
    assert record["queue"] == "tamas-test-nobody"
