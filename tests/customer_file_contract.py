"""The contract every `CustomerFile` adapter keeps: the same tests for Tamas's SQL adapter (on
SQLite and on PostgreSQL), its REST adapter, and an insurer's adapter for its own core system.

To run it over an adapter, subclass `CustomerFileContract` in a test module (a class named
`Test...`) and give it three fixtures (see docs/customer-file.md):

- `adapter`: the adapter under test, reading a core system that holds the records in `known`;
- `known`: a `KnownRecords` naming those records;
- `tamas_database`: Tamas's own database, where the adapter keeps interaction records
  (the tests write calls there, as the IVR would, and read them back through the adapter).

The tests check behaviour the IVR and the agent's popup rely on — who a number belongs to,
that every lookup of one customer agrees, None or [] for what is not on file, errors named
for bad input — not figures of one test data set. Writes are confined to a customer each test
registers itself, and to requests and calls that Tamas keeps.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from customer_file.identifiers import (
    InvalidIdentifier,
    national_id_check_digit,
)
from customer_file.port import CustomerFile, CustomerFileError, DuplicateCustomer
from customer_file.views import CustomerRegistration, CustomerSummary
from integrations.database import Database
from interactions.records import InteractionRecords

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@dataclass(frozen=True)
class KnownRecords:
    """Records the core system behind the adapter holds, as a tester would look them up."""

    phone: str  # a customer's phone, E.164 (+989121234567)
    national_id: str  # the same customer's national ID (10 digits) or company ID (11)
    policy_number: str  # a policy the same customer holds
    customer_pin: str  # the same customer's PIN
    search_text: str  # a name the agent's search finds the same customer by
    claim_code: str  # a claim's tracking code
    authenticity_code: str  # a genuine policy's authenticity code
    postal_code: str  # a postal code with at least two branches or agencies around it
    city: str  # a city with medical centres and payment centres
    shareholder_number: str  # a shareholder's number
    shareholder_pin: str  # that shareholder's PIN
    unknown_phone: str = "+989350000000"  # a valid number no customer has
    unknown_customer_id: int = 999_999_999


def _new_person() -> CustomerRegistration:
    """A person no core system has on file yet: a fresh valid national ID and mobile."""
    first_nine = f"{secrets.randbelow(10**9):09d}"
    national_id = first_nine + str(national_id_check_digit(first_nine))
    return CustomerRegistration(
        family_name_fa="آزمون",
        given_name_fa="قرارداد",
        family_name_latin="Contract",
        given_name_latin="Test",
        national_id=national_id,
        phones=(f"+98936{secrets.randbelow(10**7):07d}",),
        language="en",
    )


def _local(e164: str) -> str:
    """An Iranian number as a caller dials it at home: +989121234567 -> 09121234567."""
    return "0" + e164.removeprefix("+98")


class CustomerFileContract:
    """Every method of the `CustomerFile` port, as the rest of Tamas relies on it."""

    # --- finding and identifying customers -------------------------------------------

    async def _known_customer(self, adapter: CustomerFile, known: KnownRecords) -> CustomerSummary:
        caller = await adapter.customer_by_phone(known.phone)
        assert caller is not None, f"no customer owns {known.phone}"
        return caller

    async def test_the_adapter_implements_the_whole_port(self, adapter: CustomerFile) -> None:
        assert isinstance(adapter, CustomerFile)

    async def test_a_caller_is_found_by_their_number_however_it_is_written(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        assert isinstance(caller, CustomerSummary)
        if known.phone.startswith("+98"):
            assert await adapter.customer_by_phone(_local(known.phone)) == caller
        assert await adapter.customer_by_phone(known.unknown_phone) is None
        # Internal extensions and withheld numbers are nobody's.
        assert await adapter.customer_by_phone("1001") is None
        assert await adapter.customer_by_phone("anonymous") is None

    async def test_every_way_of_identifying_a_customer_finds_the_same_one(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        assert await adapter.customer(caller.id) == caller
        assert await adapter.customer_by_national_id(known.national_id) == caller
        keyed_in_persian = known.national_id.translate(_PERSIAN_DIGITS)
        assert await adapter.customer_by_national_id(keyed_in_persian) == caller
        assert await adapter.customer_by_policy_number(known.policy_number) == caller
        assert caller.id_last4 == known.national_id[-4:]

    async def test_customers_not_on_file_are_none(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        assert await adapter.customer(known.unknown_customer_id) is None
        assert await adapter.customer_by_policy_number("000000000000") is None
        first_nine = "987654321"
        unknown_id = first_nine + str(national_id_check_digit(first_nine))
        if unknown_id != known.national_id:
            assert await adapter.customer_by_national_id(unknown_id) is None

    async def test_a_malformed_national_id_is_refused_by_name(self, adapter: CustomerFile) -> None:
        # 0076229645 is valid; changing its check digit makes it malformed.
        with pytest.raises(InvalidIdentifier) as caught:
            await adapter.customer_by_national_id("0076229646")
        assert caught.value.field == "national_id"

    async def test_the_popup_file_is_the_callers_whole_file(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        file = await adapter.customer_file(caller.id)
        assert file is not None
        assert file.customer == caller
        assert known.phone in [phone.e164 for phone in file.phones]
        assert known.policy_number in [policy.number for policy in file.policies]
        assert file.debt == await adapter.debts(caller.id)
        if file.national_id_masked is not None:
            assert known.national_id not in file.national_id_masked
        assert await adapter.customer_file(known.unknown_customer_id) is None

    async def test_the_popup_file_shows_tamas_own_records_of_the_caller(
        self, adapter: CustomerFile, known: KnownRecords, tamas_database: Database
    ) -> None:
        caller = await self._known_customer(adapter, known)
        complaint = await adapter.create_complaint("service", customer_id=caller.id)
        task = await adapter.create_callback_task("renewal", known.phone, customer_id=caller.id)
        await _record_call(tamas_database, "contract.1", caller.id, agent=None)
        file = await adapter.customer_file(caller.id)
        assert file is not None
        assert complaint in [c.tracking_number for c in file.open_complaints]
        assert task in [t.tracking_number for t in file.open_callback_tasks]
        assert "contract.1" in [i.linkedid for i in file.recent_interactions]

    async def test_the_agents_search_finds_a_customer_by_name_number_or_policy(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        for text in (known.search_text, known.phone, known.national_id, known.policy_number):
            found = await adapter.search_customers(text)
            assert caller.id in [c.id for c in found], text
        assert len(await adapter.search_customers(known.search_text, limit=1)) <= 1
        assert await adapter.search_customers("   ") == []

    async def test_a_registered_customer_can_be_found_and_is_not_registered_twice(
        self, adapter: CustomerFile
    ) -> None:
        person = _new_person()
        summary = await adapter.register_customer(person)
        assert summary.family_name_fa == person.family_name_fa and summary.language == "en"
        assert not summary.has_pin
        assert await adapter.customer_by_phone(person.phones[0]) == summary
        assert await adapter.customer_by_national_id(person.national_id or "") == summary
        again = _new_person()
        with pytest.raises(DuplicateCustomer) as caught:
            await adapter.register_customer(
                CustomerRegistration(family_name_fa=again.family_name_fa, phones=person.phones)
            )
        assert caught.value.field == "phone"

    async def test_a_registration_with_a_malformed_identifier_is_refused_by_name(
        self, adapter: CustomerFile
    ) -> None:
        with pytest.raises(InvalidIdentifier) as caught:
            await adapter.register_customer(
                CustomerRegistration(family_name_fa="نادرست", national_id="0076229646")
            )
        assert caught.value.field == "national_id"

    async def test_the_pin_checks_only_the_customers_own_pin(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        assert await adapter.verify_customer_pin(caller.id, known.customer_pin)
        assert await adapter.verify_customer_pin(
            caller.id, known.customer_pin.translate(_PERSIAN_DIGITS)
        )
        wrong = "0000" if known.customer_pin != "0000" else "1111"
        assert not await adapter.verify_customer_pin(caller.id, wrong)
        assert not await adapter.verify_customer_pin(known.unknown_customer_id, wrong)

    async def test_a_customer_without_a_pin_can_be_given_one(self, adapter: CustomerFile) -> None:
        summary = await adapter.register_customer(_new_person())
        assert not await adapter.verify_customer_pin(summary.id, "2468")
        await adapter.set_customer_pin(summary.id, "2468")
        assert await adapter.verify_customer_pin(summary.id, "2468")
        assert not await adapter.verify_customer_pin(summary.id, "8642")
        customer = await adapter.customer(summary.id)
        assert customer is not None and customer.has_pin

    async def test_a_pin_is_four_to_eight_digits_for_a_customer_on_file(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        summary = await adapter.register_customer(_new_person())
        with pytest.raises(CustomerFileError):
            await adapter.set_customer_pin(summary.id, "12")
        with pytest.raises(CustomerFileError):
            await adapter.set_customer_pin(known.unknown_customer_id, "2468")

    # --- claims, policies, debts -----------------------------------------------------

    async def test_a_claim_is_found_by_its_tracking_code_as_keyed(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        status = await adapter.claim_by_tracking_code(known.claim_code)
        assert status is not None
        assert status.claim.tracking_code == known.claim_code
        assert status.claim.stage_changed_at.tzinfo is not None
        assert all(change.at.tzinfo is not None for change in status.history)
        assert [change.at for change in status.history] == sorted(c.at for c in status.history)
        assert len(status.national_id_last4) == 4
        spaced = known.claim_code[:4] + "-" + known.claim_code[4:]
        assert await adapter.claim_by_tracking_code(spaced.translate(_PERSIAN_DIGITS)) == status
        assert await adapter.claim_by_tracking_code("00000000") is None
        assert await adapter.claim_by_tracking_code("") is None

    async def test_a_policys_authenticity_is_told_without_revealing_its_holder(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        genuine = await adapter.policy_for_authenticity(known.authenticity_code)
        assert genuine.genuine and genuine.number
        assert genuine.holder_name_masked_fa and "*" in genuine.holder_name_masked_fa
        assert caller.family_name_fa not in genuine.holder_name_masked_fa
        by_number = await adapter.policy_for_authenticity(known.policy_number)
        assert by_number.genuine and by_number.number == known.policy_number
        assert not (await adapter.policy_for_authenticity("1")).genuine
        assert not (await adapter.policy_for_authenticity("")).genuine

    async def test_the_debt_adds_up(self, adapter: CustomerFile, known: KnownRecords) -> None:
        caller = await self._known_customer(adapter, known)
        debt = await adapter.debts(caller.id)
        assert debt.customer_id == caller.id
        bounced = sum(cheque.amount_rials for cheque in debt.cheques_bounced)
        unpaid = sum(item.amount_rials for item in debt.next_installments)
        assert debt.balance_rials == unpaid + bounced
        assert debt.overdue_rials <= debt.balance_rials
        due_dates = [item.due_date for item in debt.next_installments]
        assert due_dates == sorted(due_dates)
        assert all(item.status in ("due", "overdue") for item in debt.next_installments)
        nothing = await adapter.debts(known.unknown_customer_id)
        assert (nothing.balance_rials, nothing.next_installments) == (0, ())

    # --- places ----------------------------------------------------------------------

    async def test_branches_near_a_postal_code_come_closest_first(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        branches = await adapter.branches_near(known.postal_code)
        assert 2 <= len(branches) <= 3
        distances = [branch.distance_km for branch in branches]
        assert None not in distances
        assert distances == sorted(d for d in distances if d is not None)
        assert len(await adapter.branches_near(known.postal_code, limit=1)) == 1
        with pytest.raises(InvalidIdentifier) as caught:
            await adapter.branches_near("12345")
        assert caught.value.field == "postal_code"

    async def test_centres_are_listed_by_city(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        medical = await adapter.medical_centres(known.city)
        assert medical and all(centre.city == known.city for centre in medical)
        assert len(await adapter.medical_centres()) >= len(medical)
        payment = await adapter.payment_centres(known.city)
        assert payment and all(centre.kind == "payment" for centre in payment)
        assert all(centre.city == known.city for centre in payment)
        assert await adapter.medical_centres("no such city") == []
        assert await adapter.payment_centres("no such city") == []

    # --- shareholders ----------------------------------------------------------------

    async def test_a_shareholder_hears_their_unpaid_dividends_after_their_pin(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        holder = await adapter.shareholder(known.shareholder_number)
        assert holder is not None and holder.shareholder_number == known.shareholder_number
        unpaid = sum(d.amount_due_rials for d in holder.dividends if d.paid_on is None)
        assert holder.unpaid_dividends_rials == unpaid
        years = [dividend.fiscal_year for dividend in holder.dividends]
        assert years == sorted(years)
        assert await adapter.shareholder("999999999") is None
        pin = known.shareholder_pin
        assert await adapter.verify_shareholder_pin(known.shareholder_number, pin)
        wrong = "0000" if pin != "0000" else "1111"
        assert not await adapter.verify_shareholder_pin(known.shareholder_number, wrong)
        assert not await adapter.verify_shareholder_pin("999999999", pin)

    async def test_the_next_general_meeting_is_after_the_moment_asked(
        self, adapter: CustomerFile
    ) -> None:
        now = datetime.now(UTC)
        meeting = await adapter.next_general_meeting(now)
        assert meeting is not None and meeting.held_at > now
        assert meeting.held_at.tzinfo is not None
        assert await adapter.next_general_meeting() == meeting
        assert await adapter.next_general_meeting(meeting.held_at) != meeting
        assert await adapter.next_general_meeting(now + timedelta(days=365 * 50)) is None

    # --- requests callers leave ------------------------------------------------------

    async def test_a_callback_request_is_an_open_task_for_the_agents(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        number = await adapter.create_callback_task(
            "renewal", _local(known.phone), policy_number=known.policy_number, note="contract"
        )
        # A callback case's number: nine digits, the last a check digit.
        assert number.isdigit() and len(number) == 9
        tasks = {t.tracking_number: t for t in await adapter.callback_tasks_for_agent("9001")}
        assert tasks[number].status == "open" and tasks[number].phone == known.phone
        assert tasks[number].policy_number == known.policy_number
        assert tasks[number].assigned_agent is None
        with pytest.raises(CustomerFileError):
            await adapter.create_callback_task("no such kind", known.phone)

    async def test_a_callback_task_is_taken_by_one_agent_only(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        number = await adapter.create_callback_task("renewal", known.phone)
        assert await adapter.update_callback_task(number, "9001", "assigned")
        assert not await adapter.update_callback_task(number, "9002", "assigned")
        mine = await adapter.callback_tasks_for_agent("9001", include_unassigned=False)
        assert [task.tracking_number for task in mine] == [number]
        others = await adapter.callback_tasks_for_agent("9002")
        assert number not in [task.tracking_number for task in others]
        assert await adapter.update_callback_task(number, "9001", "done")
        assert await adapter.callback_tasks_for_agent("9001", include_unassigned=False) == []
        assert not await adapter.update_callback_task("59999999", "9001", "done")
        with pytest.raises(CustomerFileError):
            await adapter.update_callback_task(number, "9001", "open")

    async def test_a_complaint_gets_a_tracking_number_the_caller_can_ask_about(
        self, adapter: CustomerFile, known: KnownRecords
    ) -> None:
        caller = await self._known_customer(adapter, known)
        number = await adapter.create_complaint(
            "claim", customer_id=caller.id, caller_number=_local(known.phone)
        )
        assert number.isdigit() and len(number) == 9
        status = await adapter.complaint_status(number.translate(_PERSIAN_DIGITS))
        assert status is not None and status.tracking_number == number
        assert status.status == "received" and status.customer_id == caller.id
        assert status.created_at.tzinfo is not None and not status.has_recording
        assert await adapter.complaint_status("79999999") is None
        assert await adapter.complaint_status(number[:-1] + str((int(number[-1]) + 1) % 10)) is None
        with pytest.raises(CustomerFileError):
            await adapter.create_complaint("no such category")

    # --- interactions (calls) --------------------------------------------------------

    async def test_a_customers_calls_are_listed_newest_first(
        self, adapter: CustomerFile, known: KnownRecords, tamas_database: Database
    ) -> None:
        caller = await self._known_customer(adapter, known)
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
        for minute in range(3):
            await _record_call(
                tamas_database,
                f"contract.{minute}",
                caller.id,
                None,
                start + timedelta(minutes=minute),
            )
        recent = await adapter.recent_interactions(caller.id, limit=2)
        assert [call.linkedid for call in recent] == ["contract.2", "contract.1"]
        assert all(call.started_at.tzinfo is not None for call in recent)
        assert await adapter.recent_interactions(known.unknown_customer_id) == []

    async def test_an_agent_saves_a_disposition_on_their_own_calls_only(
        self, adapter: CustomerFile, tamas_database: Database
    ) -> None:
        await _record_call(tamas_database, "contract.mine", None, agent="9001")
        await _record_call(tamas_database, "contract.theirs", None, agent="9002")
        await _record_call(tamas_database, "contract.nobodys", None, agent=None)
        assert await adapter.save_disposition("contract.mine", "9001", "resolved", "done")
        assert not await adapter.save_disposition("contract.theirs", "9001", "resolved")
        assert not await adapter.save_disposition("no-such-call", "9001", "resolved")
        # A call no agent has claimed yet becomes the saving agent's.
        assert await adapter.save_disposition("contract.nobodys", "9001", "callback")
        calls = {call.linkedid: call for call in await adapter.interactions_for_agent("9001")}
        assert set(calls) == {"contract.mine", "contract.nobodys"}
        assert (calls["contract.mine"].disposition, calls["contract.mine"].notes) == (
            "resolved",
            "done",
        )
        assert len(await adapter.interactions_for_agent("9001", limit=1)) == 1


async def _record_call(
    database: Database,
    linkedid: str,
    customer_id: int | None,
    agent: str | None,
    started_at: datetime | None = None,
) -> None:
    """A call's interaction record in Tamas's own database, through the records' owner."""
    record = {
        "linkedid": linkedid,
        "customer_id": customer_id,
        "agent": agent,
        "started_at": started_at or datetime.now(UTC),
    }
    await InteractionRecords(database).import_records([record])
