"""Each service of the insurer's catalogue, driven by a scripted caller against a real
customer file (SQLite and PostgreSQL): what the caller hears and what is left behind."""

from __future__ import annotations

from ivr_support import (
    AUTHENTICITY_CODE,
    CLOSED_AT,
    GOLD_PHONE,
    NATIONAL_ID,
    PIN,
    POLICY_NUMBER,
    POSTAL_CODE,
    REGULAR_PHONE,
    SHAREHOLDER_NUMBER,
    SHAREHOLDER_PIN,
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
from sqlalchemy import select

from cases.caller_requests import CallerRequestRow
from cases.tables import CaseRow
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import Outbox
from ivr.engine import Call
from ivr.services import agent, survey, welcome
from prompts.numbers import say_amount, say_digits, say_number


async def test_nearest_branches_by_postal_code_with_address_and_phone(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "2", POSTAL_CODE, "1")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    assert en("branch_nearest") in heard
    assert heard.index("Azadi branch") < heard.index("Vanak branch")  # closest first
    assert "Address of Azadi branch" in heard
    assert say_digits("02166001234", "en").text in heard
    assert [m.subject for m in await Outbox(database).for_call(session.linkedid)] == ["branches"]
    assert session.outcome == "self_served"


async def test_a_hash_after_a_full_postal_code_is_not_taken_for_the_next_answer(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "2", POSTAL_CODE + "#", "1")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert keyed(session)["postal_code"] == POSTAL_CODE
    assert keyed(session)["sms"] == "1"
    assert [m.subject for m in await Outbox(database).for_call(session.linkedid)] == ["branches"]


async def test_a_postal_code_that_is_not_ten_valid_digits_is_asked_again(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "2", "123#", POSTAL_CODE)

    await call_ivr(database, caller, STRANGER_PHONE)

    assert en("invalid_input") in caller.heard
    assert "Azadi branch" in caller.heard


async def test_debts_after_national_id_and_pin(database: Database) -> None:
    ids = await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "4", "1", NATIONAL_ID + "#", PIN + "#", "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    # Balance: two unpaid installments (15M each) + one bounced cheque (8M).
    assert en("debt_balance") in heard
    assert say_amount(38_000_000, "en").text in heard
    assert en("cheques_bounced") in heard
    assert session.customer is not None and session.customer.customer_id == ids.gold_id
    assert keyed(session)["national_id"] == "****"
    assert keyed(session)["pin"] == "****"


async def test_debts_by_policy_number_refuse_a_wrong_pin(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "4", "2", POLICY_NUMBER + "#", "9999#", PIN + "#", "~")
    await call_ivr(database, caller, STRANGER_PHONE)

    assert en("pin_wrong") in caller.heard
    assert en("debt_balance") in caller.heard


async def test_policy_authenticity_says_line_masked_holder_and_dates(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "5", AUTHENTICITY_CODE + "#")

    await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    assert en("policy_genuine") in heard
    assert "motor hull insurance" in heard
    assert "Maryam Ahmadi" not in heard  # masked: anyone may ask
    assert en("policy_valid_from") in heard
    assert en("policy_status_active") in heard


async def test_an_unknown_policy_is_said_not_genuine(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "5", "123456789#")

    await call_ivr(database, caller, STRANGER_PHONE)

    assert "No policy matches this number." in caller.heard


async def test_shareholder_hears_shares_dividend_documents_and_meeting(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys(
        "2", "3", SHAREHOLDER_NUMBER + "#", SHAREHOLDER_PIN + "#", "2"
    )  # 2: the invitation by fax
    session = await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    assert en("shares_count") in heard
    assert say_number(12_000, "en").text in heard
    assert say_amount(5_400_000, "en").text in heard
    assert "your bank account number" in heard
    assert "Tehran, conference hall" in heard
    messages = await Outbox(database).for_call(session.linkedid)
    assert [(m.kind, m.body) for m in messages] == [("fax", "دعوت به مجمع عمومی")]


async def test_shareholder_with_wrong_pins_is_locked_out(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "3", SHAREHOLDER_NUMBER + "#", "1111#", "2222#", "3333#")

    await call_ivr(database, caller, STRANGER_PHONE)

    assert "access is locked for now" in caller.heard
    assert en("shares_count") not in caller.heard


async def _request_case(database: Database) -> tuple[CaseRow, CallerRequestRow]:
    """The one case a caller's request opened, and what the request added to it."""
    async with database.session() as db:
        [(case, request)] = (
            await db.execute(
                select(CaseRow, CallerRequestRow).join(
                    CallerRequestRow, CallerRequestRow.case_id == CaseRow.id
                )
            )
        ).all()
    return case, request


async def test_renewal_request_creates_a_callback_task_with_a_tracking_number(
    database: Database,
) -> None:
    ids = await build_customer_file(database)
    caller = ScriptedCaller.keys("~", "6", POLICY_NUMBER + "#")
    session = await call_ivr(database, caller, GOLD_PHONE)

    case, request = await _request_case(database)
    assert (case.type, case.channel, case.fields) == (
        "renewal_callback",
        "ivr",
        {"policy_number": POLICY_NUMBER},
    )
    assert request.kind == "renewal"
    assert case.customer_id == ids.gold_id
    assert case.priority == "high"  # a gold customer's request (cases/types.yaml routing)
    assert request.linkedid == session.linkedid
    assert say_digits(case.tracking_number, "fa").text in caller.heard


async def test_complaint_is_recorded_and_its_status_can_be_heard_later(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "7", "1", "2", "#")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    complaint, request = await _request_case(database)
    assert (complaint.type, complaint.state, request.kind) == ("complaint", "received", "service")
    assert request.recording_path is not None
    assert request.recording_path.endswith(f"complaint-{session.linkedid}.wav")
    assert en("complaint_registered") in caller.heard

    later = ScriptedCaller.keys("2", "7", "2", complaint.tracking_number + "#")
    await call_ivr(database, later, STRANGER_PHONE, linkedid="call-2")
    assert en("complaint_status_received") in later.heard

    # The complaint handler asks the customer for a document (ISO 10002 waiting state).
    cases = SqlCustomerFile(database).own_records.requests.store
    await cases.move(complaint.tracking_number, "waiting_customer", "agent:1001")
    asked = ScriptedCaller.keys("2", "7", "2", complaint.tracking_number + "#")
    await call_ivr(database, asked, STRANGER_PHONE, linkedid="call-3")
    assert en("complaint_status_waiting_customer") in asked.heard
    # A mistyped number (its check digit fails) is not somebody else's complaint.
    wrong = complaint.tracking_number[:-1] + str((int(complaint.tracking_number[-1]) + 5) % 10)
    mistyped = ScriptedCaller.keys("2", "7", "2", wrong + "#")
    await call_ivr(database, mistyped, STRANGER_PHONE, linkedid="call-4")
    assert en("complaint_not_found") in mistyped.heard


async def test_a_gold_customers_complaint_goes_to_their_complaint_handler_urgently(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("~", "7", "1", "3", "#")
    await call_ivr(database, caller, GOLD_PHONE)

    complaint, request = await _request_case(database)
    assert (request.kind, complaint.fields["category"]) == ("agent_conduct", "staff")
    assert (complaint.owner, complaint.priority, complaint.sla_name) == (
        "205",
        "high",
        "complaint_urgent",
    )
    assert complaint.language == "fa"


async def test_a_caller_who_hangs_up_to_end_the_message_still_files_the_complaint(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "7", "1", "1", "H")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    complaint, request = await _request_case(database)
    assert complaint.type == "complaint" and request.kind == "claim"
    assert request.recording_path is not None
    assert session.outcome == "abandoned_in_menu"  # hung up before hearing the number


async def test_centres_are_sent_by_email_to_the_address_on_file(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "8", "2")
    session = await call_ivr(database, caller, GOLD_PHONE)

    messages = await Outbox(database).for_call(session.linkedid)
    assert [(m.kind, m.to) for m in messages] == [("email", "maryam@example.com")]
    assert "Milad Hospital" in messages[0].body
    assert "Central payment centre" in messages[0].body
    assert en("email_sent") in caller.heard


async def test_centres_by_email_for_an_unknown_caller_explain_there_is_no_address(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "8", "2")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert en("no_email_on_file") in caller.heard
    assert await Outbox(database).for_call(session.linkedid) == []


async def test_callers_are_greeted_in_the_language_on_their_file(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("~")
    session = session_for(REGULAR_PHONE)
    engine = make_engine(database)
    engine.facilities.greet_by_caller_id = True  # by name too: off by default

    await engine.run(caller, session, welcome=welcome.run)

    assert session.language == "ru"
    assert "Ivan Petrov" in caller.heard
    assert "Добро пожаловать" in caller.heard


async def test_a_menu_choice_keyed_during_the_language_prompt_is_kept(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("^5", AUTHENTICITY_CODE + "#")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert session.language == "fa"
    assert menus(session)[:3] == ["welcome", "main", "authenticity"]


async def test_agent_hand_off_carries_what_the_caller_did(database: Database) -> None:
    ids = await build_customer_file(database)
    caller = ScriptedCaller.keys("~", "5", AUTHENTICITY_CODE + "#", "0", "1")
    session = await call_ivr(database, caller, GOLD_PHONE)

    variables = caller.variables
    assert variables["TAMAS_NEXT"] == "queue"
    assert variables["TAMAS_QUEUE"] == "priority"  # gold
    assert variables["QUEUE_PRIO"] == "10"
    assert variables["TAMAS_SURVEY"] == "yes"
    assert variables["TAMAS_CUSTOMER_ID"] == str(ids.gold_id)
    assert variables["TAMAS_PATH"] == "welcome>main>authenticity>main>agent"
    assert f"policy_authenticity:{AUTHENTICITY_CODE}" in variables["TAMAS_LOOKED_UP"]
    assert session.outcome == "queued" and session.queue == "priority"
    assert menus(session)[-1] == "agent"


async def test_an_unknown_caller_goes_to_the_support_queue(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "0", "~")
    await call_ivr(database, caller, STRANGER_PHONE)

    assert caller.variables["TAMAS_QUEUE"] == "support"
    assert caller.variables["TAMAS_IDENTIFIED"] == "no"


async def test_outside_hours_callers_hear_the_hours_and_can_leave_a_callback(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "0", "9")
    session = await call_ivr(database, caller, STRANGER_PHONE, at=CLOSED_AT)

    heard = caller.heard
    assert "We are closed now." in heard
    assert en("opening_hours_from") in heard
    assert "Your callback request has been registered." in heard
    assert session.outcome == "callback_requested"
    assert "TAMAS_NEXT" not in caller.variables
    case, _ = await _request_case(database)
    assert case.type == "callback" and case.phone == STRANGER_PHONE


async def test_survey_takes_a_score_and_an_nps_of_zero(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("4", "0#")
    engine = make_engine(database)
    call = Call(caller, session_for(STRANGER_PHONE), engine.book, engine.facilities)

    answers = await survey.run(call)

    assert (answers.score, answers.nps) == (4, 0)
    assert caller.played[-1] == "از شرکت شما در نظرسنجی سپاسگزاریم."


async def test_survey_refuses_a_score_out_of_range(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("7", "5", "10")
    engine = make_engine(database)
    call = Call(caller, session_for(STRANGER_PHONE), engine.book, engine.facilities)

    answers = await survey.run(call)

    assert (answers.score, answers.nps) == (5, 10)


async def test_a_caller_the_queue_gave_up_on_may_decline_the_callback(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("~")
    engine = make_engine(database)
    session = session_for(STRANGER_PHONE)
    call = Call(caller, session, engine.book, engine.facilities)

    await agent.no_agent(call, "support")

    assert session.outcome == "no_agent"  # the queue gave up on them, not the reverse
    assert session.queue == "support"
    async with database.session() as db:
        assert await db.scalar(select(CaseRow)) is None


async def test_a_gold_caller_pressing_0_at_once_still_reaches_the_priority_queue(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("^0", "~")
    session = await call_ivr(database, caller, GOLD_PHONE)

    assert caller.variables["TAMAS_QUEUE"] == "priority"
    assert session.language == "fa"


async def test_a_caller_recognised_by_number_alone_is_handed_over_as_identified_by_number(
    database: Database,
) -> None:
    # Caller ID is spoofable: the hand-off never calls a number match verified, though a gold
    # number still gets the priority queue (a shorter wait, no data).
    await build_customer_file(database)
    caller = ScriptedCaller.keys("^0", "~")

    await call_ivr(database, caller, GOLD_PHONE)

    assert caller.variables["TAMAS_IDENTIFIED"] == "number"
    assert caller.variables["TAMAS_QUEUE"] == "priority"


async def test_a_caller_who_keyed_their_pin_is_handed_over_as_identified_by_pin(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "4", "1", NATIONAL_ID + "#", PIN + "#", "0", "~")
    session = await call_ivr(database, caller, STRANGER_PHONE)

    assert session.customer is not None and session.customer.verified
    assert caller.variables["TAMAS_IDENTIFIED"] == "pin"


async def test_overdue_installments_are_said_as_overdue_before_the_upcoming_ones(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("2", "4", "1", NATIONAL_ID + "#", PIN + "#", "~")

    await call_ivr(database, caller, STRANGER_PHONE)

    heard = caller.heard
    # The file has one installment ten days late and one due in twenty days.
    assert heard.count(en("overdue_installments")) == 1
    assert heard.count(en("next_installments")) == 1
    assert heard.index(en("overdue_installments")) < heard.index(en("next_installments"))
    overdue = heard[heard.index(en("overdue_installments")) : heard.index(en("next_installments"))]
    assert overdue.count(en("installment_due_on")) == 1
