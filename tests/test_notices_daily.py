"""The daily run and the core-database poller: each finds what is due and sends its notice
once, however often it runs or wherever it was stopped; a bad row is kept aside and the rest
go on; a core database that is down is said, and nothing is skipped."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from popup_support import national_id
from sqlalchemy import select

from customer_file.views import CustomerRegistration
from integrations.core_events import CoreDatabaseUnavailable, CoreEventTable, CorePoller
from integrations.customer_file.customers import Customer
from integrations.customer_file.payments import Cheque, Installment
from integrations.customer_file.policies import Policy
from integrations.customer_file.reminders import DueReminders
from integrations.customer_file.shareholders import GeneralMeeting, Shareholder
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox
from messaging import notice_kinds
from messaging.daily import Horizons, daily_run
from messaging.notifier import Notifier

DAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 5, 30, tzinfo=UTC)
NAMES = {"fa": "بیمه تماس", "en": "Tamas Insurance", "ru": "Тамас Страхование"}


async def _customer(database: Database, nine: str, phone: str, language: str = "fa") -> int:
    summary = await SqlCustomerFile(database).register_customer(
        CustomerRegistration(
            family_name_fa="کریمی",
            given_name_fa="علی",
            given_name_latin="Ali",
            family_name_latin="Karimi",
            national_id=national_id(nine),
            phones=(phone,),
            language=language,
        )
    )
    return summary.id


def _policy(customer_id: int, number: str, *, start: date, end: date) -> Policy:
    return Policy(
        number=number,
        authenticity_code=f"A-{number}",
        customer_id=customer_id,
        line="third_party_motor",
        status="active",
        start_date=start,
        end_date=end,
        premium_rials=48_000_000,
    )


@pytest.fixture
async def due_file(database: Database) -> dict[str, int]:
    ali = await _customer(database, "001111111", "09121111111")
    sara = await _customer(database, "002222222", "09122222222", "en")
    async with database.session() as session:
        ending = _policy(ali, "P-1", start=date(2025, 12, 31), end=date(2026, 12, 31))
        renewed_old = _policy(sara, "P-2", start=date(2025, 12, 31), end=date(2026, 12, 31))
        renewed_new = _policy(sara, "P-3", start=date(2026, 12, 31), end=date(2027, 12, 31))
        session.add_all([ending, renewed_old, renewed_new])
        await session.flush()
        session.add_all(
            [
                Installment(policy_id=ending.id, sequence=2, due_date=date(2026, 12, 4),
                            amount_rials=12_000_000),
                Installment(policy_id=ending.id, sequence=1, due_date=date(2026, 11, 24),
                            amount_rials=12_000_000),
                Installment(policy_id=renewed_new.id, sequence=1, due_date=date(2026, 12, 4),
                            amount_rials=9_000_000, status="paid", paid_on=date(2026, 11, 30)),
                Cheque(customer_id=sara, number="778899", bank="ملت", due_date=date(2026, 12, 4),
                       amount_rials=30_000_000),
                GeneralMeeting(held_at=datetime(2026, 12, 11, 6, 30, tzinfo=UTC),
                               place_fa="تهران، سالن همایش"),
                Shareholder(shareholder_number="5001", customer_id=ali, name_fa="علی کریمی",
                            shares=1000),
            ]
        )  # fmt: skip
        await session.commit()
    return {"ali": ali, "sara": sara}


def _notifier(database: Database) -> Notifier:
    return Notifier(
        database, SqlCustomerFile(database), Outbox(database), notice_kinds.load(), NAMES
    )


async def _messages(database: Database) -> list[OutboundMessage]:
    async with database.session() as session:
        return list(await session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


async def test_the_daily_run_sends_each_due_reminder_once(
    database: Database, due_file: dict[str, int]
) -> None:
    notifier = _notifier(database)
    report = await daily_run(notifier, DueReminders(database), DAY, Horizons(), NOW)
    assert dict(report.found) == {
        "installment_due": 1,  # the paid one is not reminded
        "cheque_due": 1,
        "policy_ending": 1,  # the renewed one is not
        "meeting_invitation": 1,
        "installment_overdue": 1,
    }
    assert dict(report.results) == {"queued": 5} and report.problems == []
    by_subject = {m.subject: m for m in await _messages(database)}
    assert by_subject["installment_due"].to == "+989121111111"
    assert "۱۲٬۰۰۰٬۰۰۰ ریال" in by_subject["installment_due"].body
    assert "۱۴۰۵/۰۹/۱۳" in by_subject["installment_due"].body  # 4 Dec 2026
    assert by_subject["cheque_due"].language == "en" and "778899" in by_subject["cheque_due"].body
    again = await daily_run(notifier, DueReminders(database), DAY, Horizons(), NOW)
    assert dict(again.results) == {"duplicate": 5}
    assert len(await _messages(database)) == 5


async def test_nowruz_greets_every_customer_on_the_first_of_farvardin(
    database: Database, due_file: dict[str, int]
) -> None:
    nowruz = date(2027, 3, 21)  # 1 Farvardin 1406
    report = await daily_run(_notifier(database), DueReminders(database), nowruz, Horizons(), NOW)
    assert report.found["nowruz"] == 2
    greetings = [m for m in await _messages(database) if m.subject == "nowruz"]
    assert sorted(m.language for m in greetings) == ["en", "fa"]


# --- the core database's events ----------------------------------------------------------


@pytest.fixture
async def core_table(tmp_path: Path) -> str:
    """A core system's database (a real SQLite file) with its table of events."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'core.sqlite3'}"
    engine = sa.ext.asyncio.create_async_engine(url)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE tamas_events (id INTEGER PRIMARY KEY, event_id TEXT, type TEXT, "
            "occurred_at TEXT, payload TEXT)"
        )
    await engine.dispose()
    return url


async def _core_events(url: str, *rows: tuple[str, str, object]) -> None:
    engine = sa.ext.asyncio.create_async_engine(url)
    async with engine.begin() as connection:
        for event_id, event_type, payload in rows:
            await connection.execute(
                sa.text(
                    "INSERT INTO tamas_events (event_id, type, occurred_at, payload) "
                    "VALUES (:e, :t, '2026-12-01T09:00:00+03:30', :p)"
                ),
                {"e": event_id, "t": event_type, "p": payload},
            )
    await engine.dispose()


def _registered(nine: str, tracking: str) -> str:
    return json.dumps(
        {"customer": {"national_id": national_id(nine)}, "data": {"tracking_code": tracking}}
    )


async def test_the_poller_sends_each_event_once_and_keeps_a_bad_row_aside(
    database: Database, due_file: dict[str, int], core_table: str
) -> None:
    await _core_events(
        core_table,
        ("c-1", "claim.registered", _registered("001111111", "9001")),
        ("c-2", "claim.registered", "{not json"),
        ("c-3", "claim.registered", _registered("002222222", "9003")),
        ("c-1", "claim.registered", _registered("001111111", "9001")),  # delivered twice
    )
    table = CoreEventTable(core_table, "tamas_events")
    poller = CorePoller(table, _notifier(database))
    try:
        # Stopped after two rows (a kill between polls), then started again.
        first = await poller.poll_once(NOW, limit=2)
        rest = await poller.poll_once(NOW)
        idle = await poller.poll_once(NOW)
    finally:
        await table.close()
    assert (first.read, first.sent, len(first.bad)) == (2, 1, 1)
    assert "payload: not JSON" in first.bad[0]
    assert (rest.read, rest.sent, rest.duplicates, rest.position) == (2, 1, 1, 4)
    assert idle.read == 0
    assert sorted(m.body.split("9")[0] != "" for m in await _messages(database)) == [True, True]
    assert len(await _messages(database)) == 2


async def test_a_core_database_that_is_down_is_said_and_nothing_moves(
    database: Database, due_file: dict[str, int]
) -> None:
    table = CoreEventTable("postgresql+asyncpg://nobody@127.0.0.1:1/core", "tamas_events")
    poller = CorePoller(table, _notifier(database))
    try:
        with pytest.raises(CoreDatabaseUnavailable):
            await poller.poll_once(NOW)
    finally:
        await table.close()
    assert await poller.store.position("core") == 0


def test_a_table_name_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not a table name"):
        CoreEventTable("sqlite+aiosqlite:///x", "events; DROP TABLE customers")


async def test_reminders_read_customers_page_by_page(
    database: Database, due_file: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    from integrations.customer_file import reminders

    monkeypatch.setattr(reminders, "PAGE", 1)
    pages = [page async for page in DueReminders(database).everybody("nowruz")]
    async with database.session() as session:
        customers = await session.scalar(select(sa.func.count()).select_from(Customer))
    assert len(pages) == customers == 2


async def test_an_overdue_installment_can_be_handed_to_a_dialer_campaign_once(
    database: Database, due_file: dict[str, int]
) -> None:
    from dialer import kinds
    from dialer.campaigns import Campaigns

    campaigns = Campaigns(database)
    campaign = await campaigns.create("overdue-calls", kinds.load()["overdue_installment"], NOW)
    hand_off = {"installment_overdue": "overdue-calls"}
    notifier = _notifier(database)
    report = await daily_run(
        notifier, DueReminders(database), DAY, Horizons(), NOW, campaigns=hand_off
    )
    assert dict(report.results) == {"queued": 4, "to_campaign": 1}
    [target] = await campaigns.targets(campaign.id)
    assert target.phone == "+989121111111"
    assert "installment_overdue" not in {m.subject for m in await _messages(database)}
    again = await daily_run(
        notifier, DueReminders(database), DAY, Horizons(), NOW, campaigns=hand_off
    )
    assert dict(again.results) == {"duplicate": 5}
    assert len(await campaigns.targets(campaign.id)) == 1
