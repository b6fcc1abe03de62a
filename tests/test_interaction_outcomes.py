"""Outcomes are honest: a call ends `self_served` only when the caller heard what they came
for. Supervisors' self-service rate and campaign figures are computed from these codes, so a
caller who keyed an unknown code, was locked out, or met a failing core system must not count
as served. Driven by a scripted caller against a real customer file (SQLite and PostgreSQL),
and written through the interaction records' one owner."""

from __future__ import annotations

from ivr_support import (
    CLAIM_CODE,
    NATIONAL_ID,
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
    make_engine,
    session_for,
)

from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from ivr.services import welcome

LAST4 = NATIONAL_ID[-4:]
UNKNOWN_CODE = "99999999"


async def test_a_caller_with_an_unknown_claim_code_did_not_self_serve(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", UNKNOWN_CODE + "#", LAST4, "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)
    await InteractionRecords(database).save_call(session.part())

    # Unknown codes may be answered like a wrong secret (so codes cannot be enumerated):
    # either way the caller heard nothing about a claim.
    assert session.outcome in (Outcome.NOT_FOUND, Outcome.NOT_VERIFIED)
    row = await InteractionRecords(database).load(session.linkedid)
    assert row is not None and row.outcome == session.outcome


async def test_a_caller_locked_out_by_wrong_secrets_did_not_self_serve(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", "2222#", "3333#", "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert session.outcome == Outcome.LOCKED_OUT
    assert session.outcome_detail == "claim"


async def test_a_caller_who_left_after_a_wrong_secret_was_not_verified(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert session.outcome == Outcome.NOT_VERIFIED


async def test_a_wrong_secret_then_the_right_one_is_self_served(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", LAST4, "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert (session.outcome, session.outcome_detail) == (Outcome.SELF_SERVED, "claim_status")


async def test_a_caller_served_once_stays_served_after_a_later_miss(database: Database) -> None:
    await build_customer_file(database)
    engine = make_engine(database)
    caller = ScriptedCaller.keys(
        "2", "1", CLAIM_CODE + "#", LAST4, "~", "1", UNKNOWN_CODE + "#", LAST4, "~"
    )
    session = session_for(STRANGER_PHONE)

    await engine.run(caller, session, welcome=welcome.run)

    assert session.outcome == Outcome.SELF_SERVED


def test_only_self_served_and_answered_count_as_served() -> None:
    served = {outcome for outcome in Outcome if outcome.served}
    assert served == {Outcome.SELF_SERVED, Outcome.ANSWERED_BY_AGENT}
    assert not Outcome.QUEUED.settled
