"""The customer file as the IVR and the agent popup read it, through `SqlCustomerFile`, on
SQLite and on PostgreSQL, with a small hand-built file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from customer_file.identifiers import InvalidIdentifier, company_id_check_digit
from customer_file.views import CustomerRegistration, as_json
from integrations.customer_file import (
    CustomerFile,
    CustomerFileError,
    DuplicateCustomer,
    SqlCustomerFile,
)
from integrations.customer_file.claims import Claim, advance_claim
from integrations.customer_file.customers import Address, Customer, Email, Phone
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.pins import hash_pin
from integrations.customer_file.places import Branch, MedicalCentre, PaymentCentre, PostalArea
from integrations.customer_file.policies import Endorsement, Policy
from integrations.customer_file.shareholders import Dividend, GeneralMeeting, Shareholder
from integrations.database import Database
from interactions.table import Interaction

TODAY = date.today()
NOW = datetime.now(UTC).replace(microsecond=0)
NATIONAL_ID = "0076229645"
COMPANY_ID = "1010165655" + str(company_id_check_digit("1010165655"))
MOBILE = "+989121234567"
LANDLINE = "+982188881234"
POLICY_NUMBER = "140210001234"
AUTHENTICITY_CODE = "845512339871"
CLAIM_CODE = "55501234"
SHAREHOLDER_NUMBER = "300123"
TEHRAN = (35.6892, 51.3890)
# Cheap scrypt cost: these tests check the logic, not the cost.
FAST_N = 2**10


@dataclass
class File:
    """Ids of the hand-built records."""

    customer_id: int
    company_customer_id: int
    policy_id: int


async def _build(database: Database) -> File:
    async with database.session() as session:
        customer = Customer(
            kind="person",
            national_id=NATIONAL_ID,
            given_name_fa="علی",
            family_name_fa="محمدی",
            given_name_latin="Ali",
            family_name_latin="Mohammadi",
            gender="male",
            birth_date=date(1980, 3, 21),
            language="fa",
            tier="gold",
            pin_hash=hash_pin("4321", n=FAST_N),
            created_at=NOW,
        )
        customer.phones = [
            Phone(e164=MOBILE, kind="mobile", is_primary=True),
            Phone(e164=LANDLINE, kind="landline"),
        ]
        customer.emails = [Email(address="ali@example.com", is_primary=True)]
        customer.addresses = [
            Address(kind="home", postal_code="1193653471", city="تهران", line="خیابان آزادی")
        ]
        company = Customer(
            kind="company",
            company_id=COMPANY_ID,
            family_name_fa="شرکت حمل و نقل سپهر",
            family_name_latin="Sepehr Transport Co.",
            language="en",
            tier="vip",
            created_at=NOW,
        )
        company.phones = [Phone(e164="+74951234567", kind="work", is_primary=True)]
        session.add_all([customer, company])
        await session.flush()

        policy = Policy(
            number=POLICY_NUMBER,
            authenticity_code=AUTHENTICITY_CODE,
            customer_id=customer.id,
            line="third_party_motor",
            status="active",
            start_date=TODAY - timedelta(days=100),
            end_date=TODAY + timedelta(days=265),
            premium_rials=48_500_000,
            insured_objects=[{"kind": "car", "model": "Peugeot 206"}],
        )
        policy.endorsements = [
            Endorsement(sequence=1, effective_date=TODAY, premium_change_rials=1_000_000)
        ]
        old_policy = Policy(
            number="139910000001",
            authenticity_code="100000000001",
            customer_id=customer.id,
            line="fire",
            status="expired",
            start_date=date(2020, 1, 1),
            end_date=date(2021, 1, 1),
            premium_rials=3_000_000,
        )
        session.add_all([policy, old_policy])
        await session.flush()
        session.add_all(
            [
                Installment(
                    policy_id=policy.id,
                    sequence=1,
                    due_date=TODAY - timedelta(days=60),
                    amount_rials=12_000_000,
                    status="paid",
                    paid_on=TODAY - timedelta(days=61),
                ),
                # Unpaid and past due, though the core system still says "due".
                Installment(
                    policy_id=policy.id,
                    sequence=2,
                    due_date=TODAY - timedelta(days=5),
                    amount_rials=12_000_000,
                    status="due",
                ),
                Installment(
                    policy_id=policy.id,
                    sequence=3,
                    due_date=TODAY + timedelta(days=25),
                    amount_rials=12_500_000,
                    status="due",
                ),
                Cheque(
                    customer_id=customer.id,
                    policy_id=policy.id,
                    number="778899",
                    bank="ملت",
                    due_date=TODAY - timedelta(days=20),
                    amount_rials=7_000_000,
                    status="bounced",
                ),
                Cheque(
                    customer_id=customer.id,
                    number="778900",
                    bank="ملت",
                    due_date=TODAY + timedelta(days=25),
                    amount_rials=12_500_000,
                    status="due",
                ),
                Cheque(
                    customer_id=customer.id,
                    number="112233",
                    bank="ملی",
                    due_date=TODAY - timedelta(days=90),
                    amount_rials=5_000_000,
                    status="paid",
                ),
            ]
        )

        claim = Claim(
            tracking_code=CLAIM_CODE,
            policy_id=policy.id,
            customer_id=customer.id,
            line="third_party_motor",
            loss_date=TODAY - timedelta(days=30),
            amount_claimed_rials=250_000_000,
            adjuster_name="رضا کریمی",
            adjuster_deadline=TODAY + timedelta(days=3),
            next_step="collect_payment",
        )
        for days_ago, stage in ((29, "registered"), (20, "inspection"), (12, "assessment")):
            advance_claim(claim, stage, NOW - timedelta(days=days_ago))
        advance_claim(claim, "approved", NOW - timedelta(days=2), note="approved in full")
        claim.amount_approved_rials = 230_000_000
        session.add(claim)

        session.add_all(
            [
                PostalArea(
                    prefix="11936",
                    province="تهران",
                    city="تهران",
                    latitude=TEHRAN[0],
                    longitude=TEHRAN[1],
                ),
                PostalArea(
                    prefix="91775",
                    province="خراسان رضوی",
                    city="مشهد",
                    latitude=36.2605,
                    longitude=59.6168,
                ),
                _branch("B-TEH-1", "شعبه آزادی", 35.6900, 51.3900),  # ~0.1 km
                _branch("B-TEH-2", "شعبه ونک", 35.7575, 51.4100),  # ~7.7 km
                _branch("B-TEH-3", "شعبه تجریش", 35.8040, 51.4330),  # ~13 km
                _branch("B-KRJ-1", "شعبه کرج", 35.8400, 50.9390),  # ~44 km
                _branch("B-MSH-1", "شعبه مشهد", 36.2970, 59.6060),
                _branch(
                    "A-TEH-9",
                    "نمایندگی منقضی",
                    35.6893,
                    51.3891,
                    kind="agency",
                    licence_end=TODAY - timedelta(days=1),
                ),
                MedicalCentre(
                    kind="hospital", name_fa="بیمارستان میلاد", city="تهران", phone="+982182081"
                ),
                MedicalCentre(kind="laboratory", name_fa="آزمایشگاه پاستور", city="مشهد"),
                PaymentCentre(
                    name_fa="مرکز پرداخت خسارت مرکزی", city="تهران", opening_hours="Sat-Wed 08-16"
                ),
            ]
        )

        holder = Shareholder(
            shareholder_number=SHAREHOLDER_NUMBER,
            customer_id=customer.id,
            name_fa="علی محمدی",
            name_latin="Ali Mohammadi",
            pin_hash=hash_pin("2580", n=FAST_N),
            shares=150_000,
            missing_documents=["bank_account_number"],
        )
        holder.dividends = [
            Dividend(
                fiscal_year=1401,
                per_share_rials=300,
                amount_due_rials=45_000_000,
                payment_date=date(2023, 8, 1),
                paid_on=date(2023, 8, 1),
            ),
            Dividend(
                fiscal_year=1402,
                per_share_rials=420,
                amount_due_rials=63_000_000,
                payment_date=TODAY + timedelta(days=40),
            ),
        ]
        session.add(holder)
        session.add_all(
            [
                GeneralMeeting(
                    held_at=NOW - timedelta(days=300),
                    place_fa="تالار قدیم",
                    agenda=["صورت‌های مالی"],
                ),
                GeneralMeeting(
                    held_at=NOW + timedelta(days=45),
                    place_fa="تهران، سالن همایش‌های بیمه",
                    place_en="Tehran, insurance conference hall",
                    agenda=["تصویب صورت‌های مالی ۱۴۰۲", "تقسیم سود"],
                ),
                GeneralMeeting(held_at=NOW + timedelta(days=400), place_fa="بعدی"),
            ]
        )
        for index in range(12):
            session.add(
                Interaction(
                    linkedid=f"1700000000.{index}",
                    caller_number=MOBILE,
                    customer_id=customer.id,
                    started_at=NOW - timedelta(hours=12 - index),
                    agent="1001" if index == 11 else None,
                    outcome="self_served",
                    menu_path=[{"menu": "claim_status"}],
                )
            )
        session.add(
            Interaction(
                linkedid="1700000001.1", caller_number=LANDLINE, started_at=NOW, agent="1002"
            )
        )
        await session.commit()
        return File(customer.id, company.id, policy.id)


def _branch(
    code: str,
    name: str,
    latitude: float,
    longitude: float,
    kind: str = "branch",
    licence_end: date | None = None,
) -> Branch:
    return Branch(
        kind=kind,
        code=code,
        name_fa=name,
        name_en=code,
        city="تهران",
        postal_code="1193653471",
        address_fa="نشانی " + name,
        phone="+982166000000",
        opening_hours="Sat-Wed 08:00-16:00",
        latitude=latitude,
        longitude=longitude,
        licence_end=licence_end,
    )


@pytest.fixture
async def built(database: Database) -> File:
    return await _build(database)


@pytest.fixture
def customer_file(database: Database) -> SqlCustomerFile:
    return SqlCustomerFile(database)


def test_the_sql_adapter_implements_the_port(customer_file: SqlCustomerFile) -> None:
    assert isinstance(customer_file, CustomerFile)


# --- recognising callers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "number", [MOBILE, "09121234567", "989121234567", "۰۲۱-۸۸۸۸۱۲۳۴", "+۹۸۹۱۲۱۲۳۴۵۶۷"]
)
async def test_caller_is_recognised_by_any_of_their_numbers(
    customer_file: SqlCustomerFile, built: File, number: str
) -> None:
    caller = await customer_file.customer_by_phone(number)
    assert caller is not None
    assert caller.id == built.customer_id
    assert caller.name_fa == "علی محمدی"
    assert caller.tier == "gold" and caller.is_priority
    assert caller.id_last4 == "9645"
    assert caller.has_pin


@pytest.mark.parametrize("number", ["+989350000000", "1001", "", "anonymous"])
async def test_unknown_or_unusable_numbers_are_new_callers(
    customer_file: SqlCustomerFile, built: File, number: str
) -> None:
    assert await customer_file.customer_by_phone(number) is None


async def test_customer_by_national_or_company_id(
    customer_file: SqlCustomerFile, built: File
) -> None:
    person = await customer_file.customer_by_national_id("۰۰۷۶۲۲۹۶۴۵")
    assert person is not None and person.id == built.customer_id
    company = await customer_file.customer_by_national_id(COMPANY_ID)
    assert company is not None and company.kind == "company"
    assert company.name_latin == "Sepehr Transport Co."
    with pytest.raises(InvalidIdentifier) as caught:
        await customer_file.customer_by_national_id("0076229646")
    assert caught.value.field == "national_id"


async def test_customer_by_policy_number(customer_file: SqlCustomerFile, built: File) -> None:
    holder = await customer_file.customer_by_policy_number(POLICY_NUMBER)
    assert holder is not None and holder.id == built.customer_id
    assert await customer_file.customer_by_policy_number("999") is None


async def test_customer_pin_is_checked_against_its_salted_hash(
    customer_file: SqlCustomerFile, built: File
) -> None:
    assert await customer_file.verify_customer_pin(built.customer_id, "4321")
    assert await customer_file.verify_customer_pin(built.customer_id, "۴۳۲۱")
    assert not await customer_file.verify_customer_pin(built.customer_id, "1234")
    # A customer who never chose a PIN cannot be verified by one.
    assert not await customer_file.verify_customer_pin(built.company_customer_id, "0000")
    await customer_file.set_customer_pin(built.company_customer_id, "9876")
    assert await customer_file.verify_customer_pin(built.company_customer_id, "9876")
    for bad in ("12", "12ab", "123456789"):
        with pytest.raises(CustomerFileError, match="4 to 8 digits"):
            await customer_file.set_customer_pin(built.company_customer_id, bad)
    with pytest.raises(CustomerFileError, match="no customer"):
        await customer_file.set_customer_pin(999_999, "1234")


# --- claims, debts, policies -----------------------------------------------------------


async def test_caller_hears_claim_stage_and_amounts(
    customer_file: SqlCustomerFile, built: File
) -> None:
    status = await customer_file.claim_by_tracking_code("۵۵۵۰-۱۲۳۴")
    assert status is not None
    assert status.claim.stage == "approved"
    assert status.claim.stage_changed_at == NOW - timedelta(days=2)
    assert status.claim.stage_changed_at.tzinfo is not None
    assert status.claim.amount_approved_rials == 230_000_000
    assert status.claim.amount_paid_rials is None
    assert status.claim.next_step == "collect_payment"
    assert status.claim.policy_number == POLICY_NUMBER
    assert [change.stage for change in status.history] == [
        "registered",
        "inspection",
        "assessment",
        "approved",
    ]
    # The IVR checks the caller's four digits against these before saying anything.
    assert status.national_id_last4 == "9645"
    assert status.customer_id == built.customer_id
    assert await customer_file.claim_by_tracking_code("00000000") is None
    assert await customer_file.claim_by_tracking_code("") is None


async def test_debt_is_unpaid_installments_plus_bounced_cheques(
    customer_file: SqlCustomerFile, built: File
) -> None:
    debt = await customer_file.debts(built.customer_id)
    assert debt.balance_rials == 12_000_000 + 12_500_000 + 7_000_000
    assert debt.overdue_rials == 12_000_000 + 7_000_000
    assert [(i.sequence, i.status) for i in debt.next_installments] == [(2, "overdue"), (3, "due")]
    assert [c.number for c in debt.cheques_due] == ["778900"]
    assert [c.number for c in debt.cheques_bounced] == ["778899"]
    nothing = await customer_file.debts(built.company_customer_id)
    assert nothing.balance_rials == 0 and nothing.next_installments == ()


@pytest.mark.parametrize("key", [POLICY_NUMBER, AUTHENTICITY_CODE])
async def test_a_genuine_policy_is_confirmed_with_a_masked_holder(
    customer_file: SqlCustomerFile, built: File, key: str
) -> None:
    answer = await customer_file.policy_for_authenticity(key)
    assert answer.genuine
    assert answer.number == POLICY_NUMBER
    assert answer.line == "third_party_motor"
    assert answer.holder_name_masked_fa == "ع*** م***"
    assert answer.holder_name_masked_latin == "A*** M***"
    assert answer.end_date == TODAY + timedelta(days=265)


async def test_an_unknown_policy_is_not_genuine(
    customer_file: SqlCustomerFile, built: File
) -> None:
    answer = await customer_file.policy_for_authenticity("123456789012")
    assert not answer.genuine and answer.number is None


# --- places ----------------------------------------------------------------------------


async def test_nearest_branches_by_postal_code_closest_first(
    customer_file: SqlCustomerFile, built: File
) -> None:
    branches = await customer_file.branches_near("1193653471", limit=3)
    assert [b.code for b in branches] == ["B-TEH-1", "B-TEH-2", "B-TEH-3"]
    distances = [b.distance_km or 0.0 for b in branches]
    assert distances == sorted(distances)
    assert distances[0] < 1
    assert 7 < distances[1] < 9


async def test_branch_search_widens_until_it_finds_enough(
    customer_file: SqlCustomerFile, built: File
) -> None:
    branches = await customer_file.branches_near("1193653471", limit=4)
    assert branches[-1].code == "B-KRJ-1"
    # An agency whose licence lapsed is never suggested, however close.
    assert "A-TEH-9" not in {b.code for b in branches}
    # Past every radius, the search covers the whole country.
    everywhere = await customer_file.branches_near("1193653471", limit=10)
    assert [b.code for b in everywhere][-1] == "B-MSH-1" and len(everywhere) == 5


async def test_an_unknown_area_falls_back_to_its_region(
    customer_file: SqlCustomerFile, built: File
) -> None:
    # 91778 is not on file; 917.. is Mashhad.
    branches = await customer_file.branches_near("9177813471", limit=1)
    assert [b.code for b in branches] == ["B-MSH-1"]
    assert await customer_file.branches_near("4513893616") == []


async def test_a_malformed_postal_code_is_refused(
    customer_file: SqlCustomerFile, built: File
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        await customer_file.branches_near("12345")
    assert caught.value.field == "postal_code"


async def test_medical_and_payment_centres(customer_file: SqlCustomerFile, built: File) -> None:
    assert {c.name_fa for c in await customer_file.medical_centres()} == {
        "بیمارستان میلاد",
        "آزمایشگاه پاستور",
    }
    assert [c.kind for c in await customer_file.medical_centres("مشهد")] == ["laboratory"]
    [centre] = await customer_file.payment_centres()
    assert centre.kind == "payment" and centre.opening_hours == "Sat-Wed 08-16"


# --- shareholders ----------------------------------------------------------------------


async def test_shareholder_hears_shares_dividend_and_missing_documents(
    customer_file: SqlCustomerFile, built: File
) -> None:
    holder = await customer_file.shareholder(SHAREHOLDER_NUMBER)
    assert holder is not None
    assert holder.shares == 150_000
    latest = holder.latest_dividend
    assert latest is not None
    assert (latest.fiscal_year, latest.per_share_rials, latest.amount_due_rials) == (
        1402,
        420,
        63_000_000,
    )
    assert holder.unpaid_dividends_rials == 63_000_000
    assert holder.missing_documents == ("bank_account_number",)
    assert await customer_file.shareholder("999999") is None


async def test_shareholder_pin(customer_file: SqlCustomerFile, built: File) -> None:
    assert await customer_file.verify_shareholder_pin(SHAREHOLDER_NUMBER, "2580")
    assert not await customer_file.verify_shareholder_pin(SHAREHOLDER_NUMBER, "2581")
    assert not await customer_file.verify_shareholder_pin("999999", "2580")


async def test_next_general_meeting_is_the_first_one_ahead(
    customer_file: SqlCustomerFile, built: File
) -> None:
    meeting = await customer_file.next_general_meeting()
    assert meeting is not None
    assert meeting.place_en == "Tehran, insurance conference hall"
    assert meeting.held_at == NOW + timedelta(days=45)
    assert len(meeting.agenda) == 2
    later = await customer_file.next_general_meeting(after=NOW + timedelta(days=46))
    assert later is not None and later.place_fa == "بعدی"
    assert await customer_file.next_general_meeting(after=NOW + timedelta(days=500)) is None


# --- requests callers leave ------------------------------------------------------------


async def test_a_renewal_request_becomes_a_task_agents_see(
    customer_file: SqlCustomerFile, built: File
) -> None:
    number = await customer_file.create_callback_task(
        "renewal",
        "09121234567",
        customer_id=built.customer_id,
        policy_number=POLICY_NUMBER,
        linkedid="1700000000.11",
    )
    # A renewal callback case's number.
    assert len(number) == 9 and number.startswith("3") and number.isdigit()
    [task] = await customer_file.callback_tasks_for_agent("1001")
    assert task.tracking_number == number
    assert task.kind == "renewal" and task.status == "open"
    assert task.phone == MOBILE and task.policy_number == POLICY_NUMBER
    assert await customer_file.callback_tasks_for_agent("1001", include_unassigned=False) == []
    file = await customer_file.customer_file(built.customer_id)
    assert file is not None
    assert [t.tracking_number for t in file.open_callback_tasks] == [number]


async def test_an_agent_takes_a_task_and_finishes_it(
    customer_file: SqlCustomerFile, built: File
) -> None:
    number = await customer_file.create_callback_task("callback", MOBILE)
    assert await customer_file.update_callback_task(number, "1001", "assigned")
    # Held by 1001 now: other agents no longer see it or change it.
    assert await customer_file.callback_tasks_for_agent("1002") == []
    assert not await customer_file.update_callback_task(number, "1002", "done")
    [task] = await customer_file.callback_tasks_for_agent("1001", include_unassigned=False)
    assert (task.status, task.assigned_agent) == ("assigned", "1001")
    assert await customer_file.update_callback_task(number, "1001", "done")
    assert await customer_file.callback_tasks_for_agent("1001") == []
    assert not await customer_file.update_callback_task("59999999", "1001", "done")
    with pytest.raises(CustomerFileError):
        await customer_file.update_callback_task(number, "1001", "open")


async def test_a_callback_keeps_the_policy_number_as_keyed(
    customer_file: SqlCustomerFile, built: File
) -> None:
    # Not checked against our tables: with an insurer's adapter the policies live elsewhere.
    await customer_file.create_callback_task("renewal", MOBILE, policy_number="۷۷۷")
    [task] = await customer_file.callback_tasks_for_agent("1001")
    assert task.policy_number == "777"


async def test_a_callback_needs_a_number_to_call(
    customer_file: SqlCustomerFile, built: File
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        await customer_file.create_callback_task("callback", "12")
    assert caught.value.field == "phone"


async def test_a_complaint_gets_a_tracking_number_and_a_status(
    customer_file: SqlCustomerFile, built: File
) -> None:
    number = await customer_file.create_complaint(
        "claim",
        customer_id=built.customer_id,
        caller_number="09121234567",
        recording_path="complaints/1700000000.3.wav",
    )
    assert number.startswith("3") and len(number) == 9
    status = await customer_file.complaint_status(number)
    assert status is not None
    assert status.status == "received" and status.category == "claim"
    assert status.has_recording
    assert status.created_at.tzinfo is not None
    assert await customer_file.complaint_status("70000000") is None


async def test_a_complaint_is_a_case_whose_iso_10002_state_the_caller_hears(
    customer_file: SqlCustomerFile, built: File
) -> None:
    number = await customer_file.create_complaint(
        "agent_conduct", caller_number="09121234567", recording_path="complaints/x.wav"
    )
    cases = customer_file.own_records.requests.store
    case = await cases.get(number)
    assert (case.type, case.state, case.fields["category"]) == ("complaint", "received", "staff")
    [opened, *_] = await cases.timeline(number)
    assert opened.attachment == "complaints/x.wav"
    heard = []
    for state in ("acknowledged", "waiting_customer", "communicated"):
        await cases.move(number, state, "agent:1001")
        status = await customer_file.complaint_status(number)
        assert status is not None
        heard.append(status.status)
    assert heard == ["in_review", "waiting_customer", "resolved"]
    # A callback's number is not a complaint's.
    callback = await customer_file.create_callback_task("callback", MOBILE)
    assert await customer_file.complaint_status(callback) is None


# --- the agent's popup -----------------------------------------------------------------


async def test_the_popup_file_has_everything_about_the_caller(
    customer_file: SqlCustomerFile, built: File
) -> None:
    await customer_file.create_complaint("service", customer_id=built.customer_id)
    file = await customer_file.customer_file(built.customer_id)
    assert file is not None
    assert file.customer.name_latin == "Ali Mohammadi"
    assert file.national_id_masked == "007****645"
    assert [p.e164 for p in file.phones] == [MOBILE, LANDLINE]
    assert file.emails == ("ali@example.com",)
    assert file.addresses[0].postal_code == "1193653471"
    assert [p.number for p in file.policies] == [POLICY_NUMBER, "139910000001"]
    assert [c.tracking_code for c in file.claims] == [CLAIM_CODE]
    assert file.debt.balance_rials == 31_500_000
    assert file.shareholder is not None and file.shareholder.shares == 150_000
    assert len(file.open_complaints) == 1
    assert len(file.recent_interactions) == 10
    started = [i.started_at for i in file.recent_interactions]
    assert started == sorted(started, reverse=True)
    assert await customer_file.customer_file(999_999) is None


async def test_the_popup_file_keeps_each_contact_detail_in_its_place(
    customer_file: SqlCustomerFile, built: File
) -> None:
    file = await customer_file.customer_file(built.customer_id)
    assert file is not None
    assert [(p.e164, p.kind, p.is_primary) for p in file.phones] == [
        (MOBILE, "mobile", True),
        (LANDLINE, "landline", False),
    ]
    [address] = file.addresses
    assert (address.kind, address.postal_code, address.city, address.line) == (
        "home",
        "1193653471",
        "تهران",
        "خیابان آزادی",
    )
    assert [(c.number, c.bank, c.amount_rials) for c in file.debt.cheques_bounced] == [
        ("778899", "ملت", 7_000_000)
    ]
    assert [(i.policy_number, i.sequence) for i in file.debt.next_installments] == [
        (POLICY_NUMBER, 2),
        (POLICY_NUMBER, 3),
    ]


async def test_a_file_with_little_on_it_has_empty_sections(
    customer_file: SqlCustomerFile, built: File, database: Database
) -> None:
    # A shareholder with no dividend yet, no email, no address, no policy, no call.
    async with database.session() as session:
        session.add(
            Shareholder(
                shareholder_number="300999",
                customer_id=built.company_customer_id,
                name_fa="سپهر",
                shares=10,
                missing_documents=[],
            )
        )
        await session.commit()
    file = await customer_file.customer_file(built.company_customer_id)
    assert file is not None
    assert [(p.e164, p.is_primary) for p in file.phones] == [("+74951234567", True)]
    assert file.emails == () and file.addresses == ()
    assert file.national_id_masked is None and file.company_id == COMPANY_ID
    assert file.policies == () and file.claims == ()
    assert file.debt.balance_rials == 0 and file.debt.cheques_due == ()
    assert file.shareholder is not None and file.shareholder.dividends == ()
    assert file.shareholder.unpaid_dividends_rials == 0
    assert file.open_complaints == () and file.open_callback_tasks == ()
    assert file.recent_interactions == ()


async def test_the_popup_file_is_nine_statements_on_one_connection(
    customer_file: SqlCustomerFile, built: File, database: Database
) -> None:
    # The file is read as the agent's phone rings: each statement is a trip to the database,
    # so core records and Tamas's own share one connection and like records one statement.
    statements: list[str] = []
    connections: set[int] = set()

    def count(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)
        connections.add(id(connection.connection.dbapi_connection))

    event.listen(database.engine.sync_engine, "before_cursor_execute", count)
    try:
        file = await customer_file.customer_file(built.customer_id)
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", count)
    assert file is not None and file.recent_interactions
    assert len(statements) == 9 and len(connections) == 1


async def test_views_turn_into_json_for_the_popup(
    customer_file: SqlCustomerFile, built: File
) -> None:
    file = await customer_file.customer_file(built.customer_id)
    document = json.loads(json.dumps(as_json(file), ensure_ascii=False))
    assert document["customer"]["name_fa"] == "علی محمدی"
    assert document["customer"]["is_priority"] is True
    assert document["claims"][0]["stage"] == "approved"
    assert (
        document["debt"]["next_installments"][0]["due_date"]
        == (TODAY - timedelta(days=5)).isoformat()
    )
    assert "national_id" not in document


@pytest.mark.parametrize(
    ("typed", "expected_family"),
    [
        ("محمدي", "محمدی"),  # typed with an Arabic yeh
        ("علی محمد", "محمدی"),
        ("mohammadi", "محمدی"),
        ("ALI moh", "محمدی"),
        ("عل", "محمدی"),
        ("0912 123 4567", "محمدی"),
        ("0076229645", "محمدی"),
        (POLICY_NUMBER, "محمدی"),
        (CLAIM_CODE, "محمدی"),
        ("sepehr", "شرکت حمل و نقل سپهر"),
    ],
)
async def test_agent_search_box_finds_by_name_number_or_reference(
    customer_file: SqlCustomerFile, built: File, typed: str, expected_family: str
) -> None:
    found = await customer_file.search_customers(typed)
    assert [c.family_name_fa for c in found] == [expected_family]


async def test_search_with_nothing_matching(customer_file: SqlCustomerFile, built: File) -> None:
    assert await customer_file.search_customers("zzz") == []
    # Words match the start of a name, not its middle.
    assert await customer_file.search_customers("hammadi") == []
    assert await customer_file.search_customers("ali sepehr") == []
    assert await customer_file.search_customers("   ") == []
    assert await customer_file.search_customers("100%_") == []


async def test_agent_registers_a_new_caller(customer_file: SqlCustomerFile, built: File) -> None:
    summary = await customer_file.register_customer(
        CustomerRegistration(
            family_name_fa="رضايي",
            given_name_fa="مریم",
            family_name_latin="Rezaei",
            national_id="۱۵۸۳۲۵۰۶۸۹",
            phones=("0935 111 2233", "+7 916 123 45 67"),
            language="ru",
            postal_code="1193653471",
        )
    )
    assert summary.family_name_fa == "رضایی"
    assert summary.language == "ru" and summary.tier == "regular"
    caller = await customer_file.customer_by_phone("+79161234567")
    assert caller is not None and caller.id == summary.id
    file = await customer_file.customer_file(summary.id)
    assert file is not None and file.phones[0].is_primary and file.phones[0].e164 == "+989351112233"


async def test_registering_someone_already_on_file_is_refused(
    customer_file: SqlCustomerFile, built: File
) -> None:
    with pytest.raises(DuplicateCustomer) as caught:
        await customer_file.register_customer(
            CustomerRegistration(family_name_fa="تکراری", national_id=NATIONAL_ID)
        )
    assert caught.value.field == "national ID"
    with pytest.raises(DuplicateCustomer) as caught:
        await customer_file.register_customer(
            CustomerRegistration(family_name_fa="تکراری", phones=("09121234567",))
        )
    assert caught.value.field == "phone"


async def test_registration_names_the_bad_field(
    customer_file: SqlCustomerFile, built: File
) -> None:
    with pytest.raises(InvalidIdentifier) as caught:
        await customer_file.register_customer(
            CustomerRegistration(family_name_fa="نامعتبر", phones=("12345",))
        )
    assert caught.value.field == "phone"
    with pytest.raises(InvalidIdentifier) as caught:
        await customer_file.register_customer(
            CustomerRegistration(family_name_fa="نامعتبر", postal_code="0000000000")
        )
    assert caught.value.field == "postal_code"


# --- interactions ----------------------------------------------------------------------


async def test_agent_saves_a_disposition_on_their_own_call_only(
    customer_file: SqlCustomerFile, built: File
) -> None:
    assert await customer_file.save_disposition("1700000000.11", "1001", "resolved", "explained")
    [last, *_] = await customer_file.interactions_for_agent("1001")
    assert (last.disposition, last.notes) == ("resolved", "explained")
    # Another agent's call, and a call that does not exist.
    assert not await customer_file.save_disposition("1700000001.1", "1001", "resolved")
    assert not await customer_file.save_disposition("no-such-call", "1001", "resolved")
    # A call no agent has claimed yet becomes the saving agent's.
    assert await customer_file.save_disposition("1700000000.3", "1003", "callback")
    assert [i.linkedid for i in await customer_file.interactions_for_agent("1003")] == [
        "1700000000.3"
    ]


async def test_recent_interactions_newest_first(
    customer_file: SqlCustomerFile, built: File
) -> None:
    recent = await customer_file.recent_interactions(built.customer_id, limit=3)
    assert [i.linkedid for i in recent] == ["1700000000.11", "1700000000.10", "1700000000.9"]


async def test_the_phone_lookup_is_one_probe_of_the_unique_index(database: Database) -> None:
    from integrations.customer_file.customer_records import _CUSTOMER_BY_PHONE

    async with database.engine.connect() as connection:
        sql = str(
            _CUSTOMER_BY_PHONE.params(e164=MOBILE).compile(
                dialect=connection.dialect, compile_kwargs={"literal_binds": True}
            )
        )
        if connection.dialect.name == "sqlite":
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")
        else:
            # An empty table would be scanned whole; the question is whether the index serves.
            await connection.exec_driver_sql("SET enable_seqscan = off")
            plan = await connection.exec_driver_sql(f"EXPLAIN {sql}")
        text = " ".join(str(column) for row in plan.all() for column in row)
    assert "ix_phones_e164" in text
