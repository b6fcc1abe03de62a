"""Claim status and the engine's input rules, driven by a scripted caller against a real
customer file (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

from ivr_support import (
    APPROVED_RIALS,
    CLAIM_CODE,
    GOLD_PHONE,
    NATIONAL_ID,
    PIN,
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
    en,
    keyed,
    make_engine,
    menus,
    session_for,
)

from customer_file.views import ClaimStatus
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import Outbox
from interactions.records import InteractionRecords
from ivr.lockout import MemoryFailures, PinGuard
from ivr.services import welcome
from prompts.numbers import say_amount

LAST4 = NATIONAL_ID[-4:]


async def test_caller_hears_claim_stage_and_amount(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", LAST4, "~", "1")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    assert en("claim_stage_approved") in heard
    assert say_amount(APPROVED_RIALS, "en").text in heard  # one billion two hundred fifty million
    assert en("claim_next_step_collect_payment") in heard
    assert session.language == "en"
    assert session.outcome == "self_served"
    assert session.outcome_detail == "claim_status"
    assert keyed(session)["claim_secret"] == "****"  # never in clear
    assert keyed(session)["tracking_code"] == CLAIM_CODE
    assert menus(session)[:3] == ["welcome", "main", "claim_status"]
    messages = await Outbox(database).for_call(session.linkedid)
    assert [m.kind for m in messages] == ["sms"]
    assert say_amount(APPROVED_RIALS, "en").text in messages[0].body


async def test_the_record_of_the_call_holds_transcript_customer_and_masked_inputs(
    database: Database,
) -> None:
    ids = await build_customer_file(database)
    engine = make_engine(database)
    engine.facilities.greet_by_caller_id = True  # off by default: caller ID can be spoofed
    caller = ScriptedCaller.keys("~", "1", CLAIM_CODE + "#", PIN + "#", "~")
    session = session_for(GOLD_PHONE)

    await engine.run(caller, session, welcome=welcome.run)
    await InteractionRecords(database).save_call(session.part())

    row = await InteractionRecords(database).load(session.linkedid)
    assert row is not None
    assert row.customer_id == ids.gold_id
    assert row.language == "fa"  # the language on file, as the caller pressed nothing
    assert row.outcome == "self_served"
    texts = " ".join(item["text"] for item in row.transcript)
    assert "مریم احمدی" in texts  # greeted by name
    assert say_amount(APPROVED_RIALS, "fa").text in texts
    assert PIN not in str(row.inputs)
    assert row.duration_s is not None


async def test_keys_pressed_during_a_prompt_are_kept(database: Database) -> None:
    await build_customer_file(database)
    engine = make_engine(database)
    # The caller keys the menu choice and the whole code while the prompts still play.
    caller = ScriptedCaller.keys("^2", "^1", "^" + CLAIM_CODE[0], CLAIM_CODE[1:] + "#", LAST4, "~")
    session = session_for(STRANGER_PHONE)

    await engine.run(caller, session, welcome=welcome.run)

    assert keyed(session)["tracking_code"] == CLAIM_CODE
    assert en("claim_stage_approved") in caller.heard


async def test_star_goes_back_to_the_main_menu(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", "*", "5")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert menus(session) == ["welcome", "main", "claim_status", "main", "authenticity"]
    assert session.outcome == "abandoned_in_menu"
    assert session.outcome_detail == "authenticity"


async def test_an_unknown_claim_code_is_answered_like_a_wrong_secret_and_counted(
    database: Database,
) -> None:
    await build_customer_file(database)
    pins = PinGuard(MemoryFailures(), max_failures=3, window_s=900)
    engine = make_engine(database, pins=pins)
    unknown = ScriptedCaller.keys("2", "1", "99999999#", LAST4 + "#", "~")
    wrong = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", "~")

    await engine.run(unknown, session_for(STRANGER_PHONE, "call-unknown"), welcome=welcome.run)
    await engine.run(wrong, session_for("+989350000001", "call-wrong"), welcome=welcome.run)

    # "Not found" would tell a caller trying codes which ones exist.
    assert unknown.played == wrong.played
    assert en("identity_not_verified") in unknown.heard
    assert "could not find a claim" not in unknown.heard
    # The unknown code's try was counted against the phone: two more wrong secrets lock it.
    assert not await pins.failed(STRANGER_PHONE, "national_id:1")
    assert await pins.failed(STRANGER_PHONE, "national_id:2")


async def test_three_wrong_secrets_lock_the_claim_and_the_number(database: Database) -> None:
    await build_customer_file(database)
    pins = PinGuard(MemoryFailures(), max_failures=3, window_s=900)
    engine = make_engine(database, pins=pins)
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", "2222#", "3333#")
    session = session_for(STRANGER_PHONE)

    await engine.run(caller, session, welcome=welcome.run)

    assert caller.heard.count(en("identity_not_verified")) == 2
    assert "access is locked for now" in caller.heard
    assert en("claim_stage_approved") not in caller.heard
    assert await pins.locked(STRANGER_PHONE, f"claim:{CLAIM_CODE}")
    # Even the right digits from another phone are refused while the claim is locked.
    again = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", LAST4, "~")
    await engine.run(again, session_for("+989350000001", "test-call-2"), welcome=welcome.run)
    assert en("claim_stage_approved") not in again.heard
    assert "access is locked for now" in again.heard


async def test_silence_re_prompts_then_puts_the_caller_through_to_an_agent(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", "~", "~", "~")
    session = await call_ivr(database, caller, STRANGER_PHONE, offer_survey=False)

    assert caller.heard.count(en("no_input")) == 2
    assert en("too_many_attempts") in caller.heard
    assert session.outcome == "queued"
    assert session.queue == "support"
    assert caller.variables["TAMAS_NEXT"] == "queue"


async def test_invalid_entry_is_explained_before_asking_again(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", "12#", CLAIM_CODE + "#", LAST4, "~")
    await call_ivr(database, caller, STRANGER_PHONE)

    assert en("invalid_input") in caller.heard
    assert en("claim_stage_approved") in caller.heard


async def test_caller_hanging_up_mid_menu_leaves_a_complete_record(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", "7700", "H")
    session = await call_ivr(database, caller, STRANGER_PHONE)
    await InteractionRecords(database).save_call(session.part())

    row = await InteractionRecords(database).load(session.linkedid)
    assert row is not None
    assert row.outcome == "abandoned_in_menu"
    assert row.outcome_detail == "claim_status"
    assert row.ended_at is not None
    assert row.transcript


class SlowClaims(SqlCustomerFile):
    """Our real customer file, except that claims take longer than the IVR waits."""

    async def claim_by_tracking_code(self, tracking_code: str) -> ClaimStatus | None:
        await asyncio.sleep(1.0)
        return await super().claim_by_tracking_code(tracking_code)


async def test_a_slow_core_system_gets_an_apology_and_the_menu_again(database: Database) -> None:
    await build_customer_file(database)
    engine = make_engine(database)
    engine.facilities.customers = SlowClaims(database)
    engine.facilities.lookup_timeout_s = 0.1
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", LAST4, "~")
    session = session_for(STRANGER_PHONE)

    await engine.run(caller, session, welcome=welcome.run)

    assert "Sorry, this service is not available right now." in caller.heard
    assert menus(session)[-1] == "main"
    # The caller got nothing: the core system failed them (not "abandoned", not "self_served").
    assert session.outcome == "system_error"


async def test_a_queued_call_ends_answered_or_abandoned_and_later_sessions_continue_it(
    database: Database,
) -> None:
    queued = session_for(GOLD_PHONE, linkedid="call-answered")
    queued.enter("agent")
    queued.finish("queued", "claim_status", queue="priority")
    await InteractionRecords(database).save_call(queued.part())
    gave_up = session_for(STRANGER_PHONE, linkedid="call-gave-up")
    gave_up.finish("queued", "welcome", queue="support")
    await InteractionRecords(database).save_call(gave_up.part())

    # The queue's hang-up handler: the first caller was answered, the second hung up waiting.
    assert await InteractionRecords(database).settle_queue(queued.linkedid, "answered_by_agent")
    assert await InteractionRecords(database).settle_queue(gave_up.linkedid, "abandoned_in_queue")
    # Only a record still saying "queued" changes, and an unknown call changes nothing.
    assert not await InteractionRecords(database).settle_queue(
        queued.linkedid, "abandoned_in_queue"
    )
    assert not await InteractionRecords(database).settle_queue("no-such-call", "abandoned_in_queue")

    answered = await InteractionRecords(database).load(queued.linkedid)
    abandoned = await InteractionRecords(database).load(gave_up.linkedid)
    assert answered is not None and abandoned is not None
    assert (answered.outcome, answered.queue) == ("answered_by_agent", "priority")
    assert (abandoned.outcome, abandoned.queue) == ("abandoned_in_queue", "support")
    assert answered.duration_s is not None and answered.duration_s >= 0

    # The survey after the agent is a second AGI session of the same call: one row still.
    survey = session_for(GOLD_PHONE, linkedid=queued.linkedid)
    survey.enter("survey")
    await InteractionRecords(database).save_call(survey.part())
    row = await InteractionRecords(database).load(queued.linkedid)
    assert row is not None and row.outcome == "answered_by_agent"
    assert [step["menu"] for step in row.menu_path] == ["agent", "survey"]
