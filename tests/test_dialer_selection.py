"""Targets selected from the customer file by each kind's rule, on SQLite and PostgreSQL: who is
picked, the fields the message says, the do-not-call list honoured, one target per customer
and never a second copy, in batches of customers."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from dialer_operators_support import NOW, customer_file
from openpyxl import load_workbook
from sqlalchemy import select

from dialer import command, kinds
from dialer.campaigns import Campaign, Campaigns
from dialer.selection import SelectionError, select_targets
from dialer.tables import TargetRow
from integrations.database import Database
from tamas.settings import Settings

KINDS = kinds.load()


async def campaign(database: Database, kind: str, name: str | None = None) -> Campaign:
    return await Campaigns(database).create(name or kind, KINDS[kind], NOW)


async def targets(database: Database, campaign_id: int) -> dict[str, dict[str, Any]]:
    async with database.session() as session:
        rows = await session.scalars(select(TargetRow).where(TargetRow.campaign_id == campaign_id))
        return {
            row.phone: {
                "name": row.name,
                "language": row.language,
                "customer_id": row.customer_id,
                "state": row.state,
                **row.fields,
            }
            for row in rows
        }


async def test_renewal_calls_each_customer_once_about_the_soonest_policy_not_renewed(
    database: Database,
) -> None:
    ids = await customer_file(database)
    renewals = await campaign(database, "renewal_due")

    report = await select_targets(database, renewals, KINDS["renewal_due"], NOW)

    # Ali, Olga, Maryam (do-not-call) and Hasan (no number); Sara renewed, Reza's ends in 62
    # days, Kate's was cancelled, Neda's has a year to run.
    assert (report.matched, report.added) == (4, 2)
    assert (report.do_not_call, report.without_phone, report.already_in_campaign) == (1, 1, 0)
    found = await targets(database, renewals.id)
    assert found == {
        "+989121000001": {
            "name": "علی رضایی",
            "language": "fa",
            "customer_id": ids["ali"],
            "state": "pending",
            "policy_number": "P-ALI-2",
            "end_date": "2026-12-10",
            "amount_rials": 9_000_000,
        },
        "+79161234567": {
            "name": "Ольга Петрова",
            "language": "ru",
            "customer_id": ids["olga"],
            "state": "pending",
            "policy_number": "P-OLGA-1",
            "end_date": "2026-12-05",
            "amount_rials": 61_000_000,
        },
    }

    again = await select_targets(database, renewals, KINDS["renewal_due"], NOW, batch_customers=3)
    assert (again.matched, again.added, again.already_in_campaign) == (4, 0, 2)
    assert len(await targets(database, renewals.id)) == 2


async def test_a_dry_run_counts_and_stores_nothing(database: Database) -> None:
    await customer_file(database)
    renewals = await campaign(database, "renewal_due")
    report = await select_targets(database, renewals, KINDS["renewal_due"], NOW, dry_run=True)
    assert (report.matched, report.added, report.dry_run) == (4, 0, True)
    assert await targets(database, renewals.id) == {}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "overdue_installment",
            {"+989121000001": {"policy_number": "P-ALI-2", "amount_rials": 5_000_000,
                               "due_date": "2026-11-20"}},
        ),
        (
            "bounced_cheque",
            {"+79161234567": {"cheque_number": "884422", "bank": "ملت", "amount_rials": 7_000_000,
                              "due_date": "2026-11-25"}},
        ),
        (
            "debt_reminder",
            {
                "+989121000001": {"amount_rials": 10_000_000, "due_date": "2026-11-20"},
                "+79161234567": {"amount_rials": 7_000_000, "due_date": "2026-11-25"},
                "+989121000003": {"amount_rials": 3_000_000, "due_date": "2026-05-15"},
            },
        ),
        (
            "welcome",
            {"+989121000008": {"policy_number": "P-NEDA-1", "start_date": "2026-11-30",
                               "amount_rials": 48_000_000}},
        ),
        (
            "premium_thanks",
            {"+989121000002": {"policy_number": "P-SARA-2", "amount_rials": 12_000_000,
                               "due_date": "2026-11-30", "paid_on": "2026-11-30"}},
        ),
        (
            "claim_settled",
            {"+989121000003": {"claim_code": "700100200", "policy_number": "P-REZA-1",
                               "amount_rials": 90_000_000}},
        ),
        (
            "general_meeting",
            {"+989121000003": {"shareholder_number": "5550123", "meeting_date": "2027-01-10"}},
        ),
    ],
)  # fmt: skip
async def test_each_rule_picks_its_customers_with_the_fields_the_message_says(
    database: Database, kind: str, expected: dict[str, dict[str, Any]]
) -> None:
    await customer_file(database)
    chosen = await campaign(database, kind)
    report = await select_targets(database, chosen, KINDS[kind], NOW, batch_customers=2)
    assert report.added == len(expected)
    found = await targets(database, chosen.id)
    assert {phone: {k: v for k, v in row.items() if k in expected[phone]} for phone, row in
            found.items()} == expected  # fmt: skip
    for row in found.values():
        assert set(KINDS[kind].fields) <= set(row) | {"name"}


async def test_occasions_greet_every_person_or_those_whose_birthday_it_is(
    database: Database,
) -> None:
    await customer_file(database)
    nowruz = await campaign(database, "occasion")
    report = await select_targets(database, nowruz, KINDS["occasion"], NOW)
    # Eight persons: Maryam is on the do-not-call list and Hasan has no number.
    assert (report.matched, report.added, report.do_not_call, report.without_phone) == (8, 6, 1, 1)

    birthdays = replace(
        KINDS["occasion"],
        name="birthday",
        fields=("name", "birth_date"),
        target=kinds.TargetRule("birthdays", (("days_ahead", 2),)),
    )
    greetings = await Campaigns(database).create("birthdays", birthdays, NOW)
    await select_targets(database, greetings, birthdays, NOW)
    found = await targets(database, greetings.id)
    assert {phone: row["birth_date"] for phone, row in found.items()} == {
        "+79161234567": "1988-12-03"
    }


async def test_imported_kinds_and_stopped_campaigns_take_no_selection(database: Database) -> None:
    await customer_file(database)
    offer = await campaign(database, "marketing_offer")
    with pytest.raises(SelectionError, match="from a file"):
        await select_targets(database, offer, KINDS["marketing_offer"], NOW)
    renewals = await campaign(database, "renewal_due")
    await Campaigns(database).set_state(renewals.id, "stopped")
    stopped = await Campaigns(database).named("renewal_due")
    with pytest.raises(SelectionError, match="stopped"):
        await select_targets(database, stopped, KINDS["renewal_due"], NOW)


KINDS_TEXT = kinds.DEFAULT_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("rule: installments_overdue, days_overdue: 7", "rule: installments_late, days: 7"),
            "kinds.overdue_installment.target.rule: 'installments_late' is not a rule",
        ),
        (
            ("days_overdue: 7", "days_ovrdue: 7"),
            "kinds.overdue_installment.target.days_ovrdue: unknown key",
        ),
        (
            ("days_before: 30", "days_before: 0"),
            "kinds.renewal_due.target.days_before: must be a whole number >= 1",
        ),
        (
            ("not_renewed: true", "not_renewed: 1"),
            "kinds.renewal_due.target.not_renewed: must be true or false",
        ),
        (
            ("fields: [name, claim_code, amount_rials]", "fields: [name, claim_code, amount]"),
            "kinds.claim_settled.fields[2]: rule claims_settled gives no 'amount'",
        ),
        (
            ("ends on {end_date}", "ends on {ending}"),
            "kinds.renewal_due.sms_fallback.en: {ending} is not one of the kind's fields",
        ),
    ],
)
def test_a_wrong_target_rule_is_reported_with_its_line(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in KINDS_TEXT
    broken = KINDS_TEXT.replace(old, new, 1)
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if new in text)
    with pytest.raises(kinds.KindError) as raised:
        kinds.parse(broken)
    assert f"kinds.yaml:{line}: {message}" in str(raised.value)


async def run_command(database: Database, *argv: str) -> None:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    await command.run(parser.parse_args(argv), Settings(database_url=database.url))


async def test_campaign_select_command_prints_the_counts_and_export_writes_the_file(
    database: Database, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await customer_file(database)
    await run_command(database, "create", "renewals", "--kind", "renewal_due")
    await run_command(database, "select", "renewals", "--dry-run")
    assert "4 customers matched; would add 2; left out: 1 on the do-not-call list, 1 without" in (
        capsys.readouterr().out
    )
    await run_command(database, "select", "renewals", "--json")
    counts = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (counts["added"], counts["do_not_call"], counts["without_phone"]) == (2, 1, 1)
    output = tmp_path / "renewals.xlsx"
    await run_command(database, "export", "renewals", "--format", "xlsx", "--output", str(output))
    sheet = load_workbook(output).active
    assert sheet is not None
    assert {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        "+989121000001",
        "+79161234567",
    }
