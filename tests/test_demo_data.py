"""Demo data: deterministic, valid, covering every case the menus speak about, and loadable
again after an interruption without duplicates. Database tests run on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from customer_file.identifiers import (
    is_valid_company_id,
    is_valid_national_id,
    is_valid_postal_code,
    normalize_phone,
)
from customer_file.views import CustomerRegistration
from integrations.customer_file.claims import STAGES
from integrations.customer_file.customers import Customer, Phone
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Base, Database
from integrations.demo_data.batch import COLUMNS, CUSTOMER_TABLES, Batch
from integrations.demo_data.identities import Codes, NationalIds
from integrations.demo_data.network import reference_batch
from integrations.demo_data.portfolio import Plan, customers_batch
from integrations.demo_data.showcase import SHOWCASE
from integrations.demo_data.showcase_records import showcase_batch
from integrations.demo_data.writer import DemoDataConflict, Writer, generate_chunk, load
from tamas import cli

TODAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan(customers=3000, seed=11, today=TODAY)


@pytest.fixture(scope="module")
def rows(plan: Plan) -> Batch:
    """Every row of the plan: the showcase, generated customers, the reference network."""
    batch, _ = generate_chunk(plan, 0, plan.customers)
    batch.extend(reference_batch(TODAY))
    return batch


def column(batch: Batch, table: str, name: str) -> list[object]:
    position = COLUMNS[table].index(name)
    return [row[position] for row in batch.rows[table]]


# --- pure generators ----------------------------------------------------------------


def test_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    first = customers_batch(Plan(300, 5, TODAY), 0, 300)
    again = customers_batch(Plan(300, 5, TODAY), 0, 300)
    other = customers_batch(Plan(300, 6, TODAY), 0, 300)
    assert first.rows == again.rows
    assert first.rows["customers"] != other.rows["customers"]
    assert first.rows["phones"] != other.rows["phones"]
    assert showcase_batch(Plan(300, 5, TODAY)).rows == showcase_batch(Plan(300, 6, TODAY)).rows


def test_a_customer_does_not_depend_on_the_chunk_it_was_made_in() -> None:
    plan = Plan(400, 5, TODAY)
    whole = customers_batch(plan, 0, 400)
    pieces = customers_batch(plan, 0, 137)
    pieces.extend(customers_batch(plan, 137, 400))
    assert whole.rows == pieces.rows


def test_every_national_id_and_company_id_is_valid_and_unique(rows: Batch) -> None:
    national_ids = [value for value in column(rows, "customers", "national_id") if value]
    company_ids = [value for value in column(rows, "customers", "company_id") if value]
    assert len(national_ids) > 2500 and len(company_ids) > 50
    assert all(is_valid_national_id(str(value)) for value in national_ids)
    assert all(is_valid_company_id(str(value)) for value in company_ids)
    assert len(set(national_ids)) == len(national_ids)
    assert len(set(company_ids)) == len(company_ids)


def test_national_ids_stay_unique_over_a_million_customers() -> None:
    ids = NationalIds(seed=1)
    sample = {ids(index) for index in range(0, 1_000_000, 7)}
    assert len(sample) == len(range(0, 1_000_000, 7))


def test_every_phone_is_valid_e164_and_belongs_to_one_customer(rows: Batch) -> None:
    phones = [str(value) for value in column(rows, "phones", "e164")]
    assert all(normalize_phone(phone) == phone for phone in phones)
    assert len(set(phones)) == len(phones)
    prefixes = Counter(phone[:3] for phone in phones)
    assert prefixes["+98"] > prefixes["+79"] > 0  # Iranian numbers, and some Russian


def test_branch_phones_are_valid_e164(rows: Batch) -> None:
    phones = [str(value) for value in column(rows, "branches", "phone")]
    assert all(normalize_phone(phone) == phone for phone in phones)


def test_postal_codes_are_ones_iran_post_could_issue(rows: Batch) -> None:
    codes = column(rows, "addresses", "postal_code") + column(rows, "branches", "postal_code")
    assert all(is_valid_postal_code(str(code)) for code in codes)
    areas = {str(code)[:5] for code in column(rows, "postal_areas", "prefix")}
    assert {str(code)[:5] for code in column(rows, "addresses", "postal_code")} <= areas


def test_customers_speak_persian_mostly_and_some_russian_and_english(rows: Batch) -> None:
    languages = Counter(column(rows, "customers", "language"))
    assert languages["fa"] > 0.8 * sum(languages.values())
    assert languages["ru"] > 50 and languages["en"] > 30
    assert set(column(rows, "customers", "tier")) == {"regular", "bronze", "silver", "gold", "vip"}


def test_claims_reach_every_stage_with_a_consistent_history(rows: Batch) -> None:
    stages = Counter(column(rows, "claims", "stage"))
    assert set(stages) == set(STAGES)
    history: dict[int, list[tuple[object, str]]] = {}
    for claim_id, stage, at in zip(
        column(rows, "claim_stage_changes", "claim_id"),
        column(rows, "claim_stage_changes", "stage"),
        column(rows, "claim_stage_changes", "at"),
        strict=True,
    ):
        history.setdefault(int(str(claim_id)), []).append((at, str(stage)))
    for claim_id, stage, changed_at in zip(
        column(rows, "claims", "id"),
        column(rows, "claims", "stage"),
        column(rows, "claims", "stage_changed_at"),
        strict=True,
    ):
        steps = history[int(str(claim_id))]
        assert steps[0][1] == "registered"
        assert steps[-1] == (changed_at, stage)
        assert [at for at, _ in steps] == sorted(at for at, _ in steps)  # type: ignore[type-var]
    codes = column(rows, "claims", "tracking_code")
    assert all(str(code).isdigit() for code in codes) and len(set(codes)) == len(codes)


def test_losses_happen_while_the_policy_runs(rows: Batch) -> None:
    starts = dict(
        zip(column(rows, "policies", "id"), column(rows, "policies", "start_date"), strict=True)
    )
    for policy_id, loss_date in zip(
        column(rows, "claims", "policy_id"), column(rows, "claims", "loss_date"), strict=True
    ):
        assert loss_date >= starts[policy_id]  # type: ignore[operator]
        assert loss_date <= TODAY  # type: ignore[operator]


def test_some_installments_are_overdue_and_some_cheques_bounced(rows: Batch) -> None:
    installments = Counter(column(rows, "installments", "status"))
    cheques = Counter(column(rows, "cheques", "status"))
    assert installments["overdue"] > 0 and installments["paid"] > 0 and installments["due"] > 0
    assert cheques["bounced"] > 0 and cheques["paid"] > 0 and cheques["due"] > 0


def test_policies_span_many_lines_with_unique_digit_numbers(rows: Batch) -> None:
    lines = set(column(rows, "policies", "line"))
    assert len(lines) >= 10
    numbers = column(rows, "policies", "number") + column(rows, "policies", "authenticity_code")
    assert all(str(number).isdigit() for number in numbers)
    assert len(set(numbers)) == len(numbers)


def test_shareholders_have_dividends_and_pins(rows: Batch) -> None:
    holders = rows.rows["shareholders"]
    assert len(holders) > 20
    assert all(
        str(number).isdigit() for number in column(rows, "shareholders", "shareholder_number")
    )
    assert all(column(rows, "shareholders", "pin_hash"))
    paid = Counter(value is None for value in column(rows, "dividends", "paid_on"))
    assert paid[True] > 0 and paid[False] > 0


def test_branches_are_spread_over_postal_areas_in_many_cities(rows: Batch) -> None:
    cities = set(column(rows, "branches", "city"))
    areas = {str(code)[:5] for code in column(rows, "branches", "postal_code")}
    assert len(cities) >= 20 and len(areas) >= 40
    for latitude, longitude in zip(
        column(rows, "branches", "latitude"), column(rows, "branches", "longitude"), strict=True
    ):
        assert 25 < float(str(latitude)) < 40 and 44 < float(str(longitude)) < 64  # Iran


def test_codes_never_hand_out_a_reserved_value() -> None:
    codes = Codes("test", digits=3, reserved=("123", "500"), start=100)
    handed = [codes(slot) for slot in range(codes.capacity)]
    assert len(set(handed)) == len(handed) == 898
    assert "123" not in handed and "500" not in handed


def test_generated_data_never_uses_a_showcase_value(rows: Batch) -> None:
    generated = customers_batch(Plan(3000, 11, TODAY), 0, 3000)
    phones = set(column(generated, "phones", "e164"))
    assert not phones & {SHOWCASE.gold_caller, SHOWCASE.vip_caller, SHOWCASE.russian_caller}
    codes = set(column(generated, "claims", "tracking_code"))
    assert not codes & set(SHOWCASE.reserved_tracking_codes)


# --- in the database ----------------------------------------------------------------


async def _counts(database: Database) -> dict[str, int]:
    counts = {}
    async with database.session() as session:
        for name in CUSTOMER_TABLES:
            table = Base.metadata.tables[name]
            counts[name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return counts


async def test_showcase_records_answer_through_the_adapter(database: Database) -> None:
    await load(database, Plan(200, 3, date.today()), chunk=64, workers=0)
    customer_file = SqlCustomerFile(database)

    gold = await customer_file.customer_by_phone(SHOWCASE.gold_caller)
    assert gold is not None and (gold.tier, gold.language) == ("gold", "fa")
    assert f"{gold.given_name_latin} {gold.family_name_latin}" == SHOWCASE.gold_name_latin
    assert await customer_file.verify_customer_pin(gold.id, SHOWCASE.gold_pin)
    assert not await customer_file.verify_customer_pin(gold.id, "0000")
    by_id = await customer_file.customer_by_national_id(SHOWCASE.gold_national_id)
    assert by_id is not None and by_id.id == gold.id

    claim = await customer_file.claim_by_tracking_code(SHOWCASE.claim_in_assessment)
    assert claim is not None and claim.claim.stage == "assessment"
    assert [step.stage for step in claim.history] == ["registered", "inspection", "assessment"]
    for code, stage in (
        (SHOWCASE.claim_rejected, "rejected"),
        (SHOWCASE.claim_paid, "paid"),
        (SHOWCASE.claim_registered, "registered"),
    ):
        found = await customer_file.claim_by_tracking_code(code)
        assert found is not None and found.claim.stage == stage

    debt = await customer_file.debts(gold.id)
    assert debt.overdue_rials == SHOWCASE.overdue_installment_rials + SHOWCASE.bounced_cheque_rials
    assert [c.number for c in debt.cheques_bounced] == [SHOWCASE.bounced_cheque_number]

    genuine = await customer_file.policy_for_authenticity(SHOWCASE.authenticity_code)
    assert genuine.genuine and genuine.number == SHOWCASE.policy_number
    assert (await customer_file.policy_for_authenticity(SHOWCASE.policy_number)).genuine
    assert not (
        await customer_file.policy_for_authenticity(SHOWCASE.fake_authenticity_code)
    ).genuine
    assert not (await customer_file.policy_for_authenticity(SHOWCASE.fake_policy_number)).genuine

    holder = await customer_file.shareholder(SHOWCASE.shareholder_number)
    assert holder is not None and holder.unpaid_dividends_rials > 0 and len(holder.dividends) == 4
    assert await customer_file.verify_shareholder_pin(
        SHOWCASE.shareholder_number, SHOWCASE.shareholder_pin
    )

    near = await customer_file.branches_near(SHOWCASE.postal_code_near_branches, limit=3)
    assert sorted(branch.code for branch in near) == sorted(SHOWCASE.nearby_branch_codes)
    assert all(branch.distance_km is not None and branch.distance_km < 3 for branch in near)

    vip = await customer_file.customer_by_phone(SHOWCASE.vip_caller)
    russian = await customer_file.customer_by_phone(SHOWCASE.russian_caller)
    english = await customer_file.customer_by_phone(SHOWCASE.english_caller)
    company = await customer_file.customer_by_phone(SHOWCASE.company_caller)
    assert vip is not None and vip.tier == "vip"
    assert russian is not None and russian.language == "ru"
    assert await customer_file.verify_customer_pin(russian.id, SHOWCASE.russian_pin)
    assert english is not None and english.language == "en" and not english.has_pin
    assert company is not None and company.kind == "company"


async def test_generated_customers_are_found_by_any_of_their_phones(database: Database) -> None:
    plan = Plan(200, 3, TODAY)
    await load(database, plan, chunk=64, workers=0)
    customer_file = SqlCustomerFile(database)
    async with database.session() as session:
        phones = (await session.execute(select(Phone.e164, Phone.customer_id).limit(60))).all()
    for e164, customer_id in phones:
        found = await customer_file.customer_by_phone(e164)
        assert found is not None and found.id == customer_id
    # A generated customer's PIN is one of the plan's pool: the real check accepts it.
    async with database.session() as session:
        customer_id, pin_hash = (
            await session.execute(
                select(Customer.id, Customer.pin_hash)
                .where(Customer.pin_hash.is_not(None), Customer.id > 5)
                .limit(1)
            )
        ).one()
    pin = next(pin for pin, hashed in plan.pin_pool if hashed == pin_hash)
    assert await customer_file.verify_customer_pin(customer_id, pin)


async def test_running_again_after_an_interruption_neither_duplicates_nor_fails(
    database: Database,
) -> None:
    plan = Plan(300, 4, TODAY)
    # An "interrupted" run: only the first chunks made it, the last one half-written by a
    # run with fewer customers.
    await load(database, Plan(170, 4, TODAY), chunk=100, workers=0)
    report = await load(database, plan, chunk=100, workers=1)
    assert report.customers_skipped == 100 and report.customers_written == 200
    resumed = await _counts(database)

    again = await load(database, plan, chunk=100, workers=0)
    assert again.customers_written == 0 and again.customers_skipped == 300
    assert await _counts(database) == resumed
    assert resumed["customers"] == 300

    # The same as one uninterrupted run.
    await load(database, plan, chunk=100, workers=0, replace=True)
    assert await _counts(database) == resumed


async def test_data_from_another_seed_is_refused_with_a_way_out(database: Database) -> None:
    await load(database, Plan(120, 4, TODAY), chunk=50, workers=0)
    with pytest.raises(DemoDataConflict, match="--replace"):
        await load(database, Plan(120, 5, TODAY), chunk=50, workers=0)
    report = await load(database, Plan(120, 5, TODAY), chunk=50, workers=0, replace=True)
    assert report.customers_written == 120


async def test_new_customers_get_fresh_ids_after_the_load(database: Database) -> None:
    await load(database, Plan(100, 4, TODAY), chunk=50, workers=0)
    customer_file = SqlCustomerFile(database)
    created = await customer_file.register_customer(
        CustomerRegistration(
            family_name_fa="نوری", given_name_fa="مینا", national_id="0067749828",
            phones=("09121230000",),
        )
    )  # fmt: skip
    assert created.id > 100
    assert Writer(database).postgres == (database.engine.dialect.name == "postgresql")


# --- the command ------------------------------------------------------------------


def test_command_loads_then_resumes_and_says_what_to_try(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    command = ["demo-data", "--customers", "40", "--seed", "2", "--database-url", url]
    assert cli.main([*command, "--workers", "0"]) == 0
    output = capsys.readouterr()
    assert "40 customers written" in output.out and SHOWCASE.gold_caller in output.out
    assert "40/40 customers" in output.err  # the progress bar

    assert cli.main(command) == 0
    assert "40 already on file" in capsys.readouterr().out


def test_command_refuses_fewer_customers_than_the_showcase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.sqlite3'}"
    assert cli.main(["demo-data", "--customers", "3", "--database-url", url]) == 1
    assert "--customers must be at least 5" in capsys.readouterr().err
