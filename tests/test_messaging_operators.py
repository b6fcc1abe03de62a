"""The messaging operators' page: the queue, delivery rates and failures as they are; a
refused message retried, a waiting one cancelled, never one on its way; notice texts edited
with a live preview on a real customer, and the edit used for the next notice. Only
messaging operators, every action audit-logged; the page itself checked in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect
from popup_support import PASSWORD, RunningServer, logged_in, national_id, serving
from sqlalchemy import select, update

from customer_file.views import CustomerRegistration
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.messaging.outbox import OutboundMessage, Outbox
from messaging import notice_kinds
from messaging.core_events import read_event
from messaging.notifier import Notifier
from popup_server.audit import AuditRecord

NAMES = {"fa": "بیمه تماس", "en": "Tamas Insurance", "ru": "Тамас Страхование"}
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
async def operators(database: Database) -> AsyncIterator[RunningServer]:
    async with serving(database, "101", "102") as running:
        await running.parts.directory.create_agent(
            "150", PASSWORD, "Local/150@tamas-agents", name="Operator",
            roles="agent,messaging_operator", password_cost=2**10,
        )  # fmt: skip
        yield running


async def _messages(database: Database) -> dict[str, int]:
    """A sent-and-delivered SMS, a sent one awaiting its report, one refused by the provider
    and one waiting: their ids by what they are."""
    outbox = Outbox(database)
    ids = {
        name: await outbox.put("sms", to=f"+98912000000{n}", subject="installment_due", body="x")
        for n, name in enumerate(("delivered", "awaiting", "failed", "waiting"))
    }
    for name, status, report in (
        ("delivered", "sent", "delivered"),
        ("awaiting", "sent", None),
        ("failed", "failed", None),
    ):
        await database.write(
            update(OutboundMessage)
            .where(OutboundMessage.id == ids[name])
            .values(status=status, provider="kavenegar_like", delivery_status=report)
        )
    return ids


async def test_a_plain_agent_is_refused_every_operator_action(
    database: Database, operators: RunningServer
) -> None:
    ids = await _messages(database)
    async with await logged_in(operators, "102") as agent:
        for method, path in (
            ("GET", "/api/messages/summary"),
            ("GET", "/api/messages/failures"),
            ("POST", f"/api/messages/{ids['failed']}/retry"),
            ("POST", f"/api/messages/{ids['waiting']}/cancel"),
            ("GET", "/api/notices/templates"),
            ("PUT", "/api/notices/templates/claim_settled/fa"),
            ("DELETE", "/api/notices/templates/claim_settled/fa"),
            ("POST", "/api/notices/preview"),
        ):
            async with agent.request(method, path, json={}) as reply:
                assert reply.status == 403, (method, path)


async def test_the_operator_sees_the_queue_rates_and_failures(
    database: Database, operators: RunningServer
) -> None:
    ids = await _messages(database)
    async with await logged_in(operators, "150") as operator:
        async with operator.get("/api/messages/summary") as reply:
            summary = await reply.json()
        async with operator.get("/api/messages/failures") as reply:
            failures = (await reply.json())["failures"]
    assert summary["queue"]["sms"] == {"sent": 2, "failed": 1, "pending": 1}
    [rate] = summary["rates"]
    assert (rate["provider"], rate["sent"], rate["delivered"], rate["awaiting"], rate["rate"]) == (
        "kavenegar_like",
        2,
        1,
        1,
        1.0,
    )
    assert [(f["id"], f["retriable"]) for f in failures] == [(ids["failed"], True)]
    assert failures[0]["to"] == "+98912***0002"


async def test_a_refused_message_is_retried_and_a_waiting_one_cancelled_but_never_one_sent(
    database: Database, operators: RunningServer
) -> None:
    ids = await _messages(database)
    async with await logged_in(operators, "150") as operator:
        for path, status in (
            (f"/api/messages/{ids['failed']}/retry", 200),
            (f"/api/messages/{ids['awaiting']}/retry", 409),
            (f"/api/messages/{ids['waiting']}/cancel", 200),
            (f"/api/messages/{ids['delivered']}/cancel", 409),
        ):
            async with operator.post(path, json={}) as reply:
                assert reply.status == status, path
    async with database.session() as session:
        statuses = dict(
            (await session.execute(select(OutboundMessage.id, OutboundMessage.status))).all()
        )
        actions = list(await session.scalars(select(AuditRecord.action).order_by(AuditRecord.id)))
    assert statuses[ids["failed"]] == "pending" and statuses[ids["waiting"]] == "cancelled"
    assert statuses[ids["awaiting"]] == "sent"
    assert actions == ["message_retry", "message_retry", "message_cancel", "message_cancel"]


async def test_an_edited_text_is_previewed_on_a_customer_and_used_for_the_next_notice(
    database: Database, operators: RunningServer
) -> None:
    customers = SqlCustomerFile(database)
    summary = await customers.register_customer(
        CustomerRegistration(
            family_name_fa="احمدی", given_name_fa="مریم", national_id=national_id("001234567"),
            phones=("09121234567",),
        )
    )  # fmt: skip
    edited = "{name} عزیز، کد رهگیری خسارت شما {tracking_code} است. {insurer}"
    async with await logged_in(operators, "150") as operator:
        async with operator.put(
            "/api/notices/templates/claim_registered/fa", json={"text": "{name} {plate}"}
        ) as reply:
            assert reply.status == 400 and "{plate}" in (await reply.json())["error"]
        async with operator.post(
            "/api/notices/preview",
            json={"kind": "claim_registered", "customer": "۰۹۱۲۱۲۳۴۵۶۷", "text": edited},
        ) as reply:
            preview = await reply.json()
        async with operator.put(
            "/api/notices/templates/claim_registered/fa", json={"text": edited}
        ) as reply:
            assert reply.status == 200
    assert preview["text"].startswith("مریم احمدی عزیز، کد رهگیری")
    assert preview["customer_id"] == summary.id and preview["sms"]["parts"] == 1
    notifier = Notifier(database, customers, Outbox(database), notice_kinds.load(), NAMES)
    event = {
        "id": "ev-7", "type": "claim.registered", "occurred_at": "2026-12-01T10:00:00+03:30",
        "customer": {"national_id": national_id("001234567")}, "data": {"tracking_code": "7123"},
    }  # fmt: skip
    result = await notifier.on_event(read_event(event), NOW)
    async with database.session() as session:
        body = await session.scalar(
            select(OutboundMessage.body).where(OutboundMessage.id == result.message_id)
        )
    assert body is not None and body.startswith("مریم احمدی عزیز، کد رهگیری خسارت شما")


async def test_the_page_shows_the_queue_and_retries_a_failure_in_the_browser(
    database: Database, operators: RunningServer, browser: Browser
) -> None:
    ids = await _messages(database)
    page = await browser.new_page()
    await page.goto(operators.base + "/messages")
    await page.get_by_test_id("login-agent").fill("150")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    queue = page.get_by_test_id("queue")
    await expect(queue.locator("tr[data-kind=sms] td[data-status=failed]")).to_have_text("۱")
    await expect(queue.locator("tr[data-kind=sms] td").first).to_have_text("پیامک")
    await expect(page.get_by_test_id("rates").get_by_test_id("rate")).to_have_text("۱۰۰٪")
    await page.get_by_test_id(f"retry-{ids['failed']}").click()
    await expect(page.get_by_test_id(f"retry-{ids['failed']}")).to_have_count(0)
    await expect(queue.locator("tr[data-kind=sms] td[data-status=pending]")).to_have_text("۲")
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await page.get_by_test_id("language").select_option("en")
    await expect(queue.locator("tr[data-kind=sms] td").first).to_have_text("SMS")
    await page.close()


async def test_a_plain_agent_sees_that_the_page_is_not_for_them(
    operators: RunningServer, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(operators.base + "/messages")
    await page.get_by_test_id("login-agent").fill("102")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("forbidden")).to_be_visible()
    await page.close()


async def test_the_command_line_shows_the_queue_and_refuses_a_retry_of_a_sent_message(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import json

    from tamas import cli

    ids = await _messages(database)
    monkeypatch.setenv("TAMAS_DATABASE_URL", database.url)

    def tamas(*argv: str) -> int:
        return cli.main(list(argv))

    assert await asyncio.to_thread(tamas, "outbox", "queue", "--json") == 0
    assert json.loads(capsys.readouterr().out)["sms"]["failed"] == 1
    assert await asyncio.to_thread(tamas, "outbox", "retry", str(ids["delivered"])) == 1
    assert "cannot be retried" in capsys.readouterr().err
    assert await asyncio.to_thread(tamas, "outbox", "retry", str(ids["failed"])) == 0
