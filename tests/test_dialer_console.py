"""The campaign console in a real headless Chromium against a running app: an operator creates a
campaign from a kind, checks a CSV with bad rows and sees each line's reason, imports it,
starts the campaign and follows its progress in Persian (Jalali dates, outcomes translated)
and English; every console API is for campaign operators alone and audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, expect
from popup_support import PASSWORD, RunningServer, logged_in, serving

from dialer import kinds
from dialer.attempts import Attempts
from dialer.campaigns import Campaigns
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from popup_server.audit import AuditLog

OPERATOR = "301"
KINDS = kinds.load()
# Line 3's number is not a number, line 4 repeats line 2's; two targets come out of it.
TARGETS_CSV = (
    "phone,name,language,policy_number\n"
    "09121112233,علی رضایی,fa,P-1\n"
    "12345,بی‌شماره,fa,P-2\n"
    "+98 912 111 2233,علی,fa,P-1\n"
    "+79161234567,Ольга Петрова,ru,P-3\n"
).encode()


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    """The app with agent 101 (a plain agent) and operator 301."""
    async with serving(database, "101") as running:
        await running.parts.directory.create_agent(
            OPERATOR,
            PASSWORD,
            f"Local/{OPERATOR}@tamas-agents",
            name="Operator",
            roles="campaign_operator",
            password_cost=2**10,
        )
        yield running


@pytest.mark.browser
@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
async def test_operator_creates_imports_starts_and_follows_a_campaign(
    browser: Browser, server: RunningServer, database: Database
) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Every response the page asked for, but the login check's 401 before logging in.
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/api/me")
            else None
        ),
    )
    await page.goto(server.base + "/campaigns")
    await page.get_by_test_id("login-agent").fill(OPERATOR)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    assert await page.evaluate("document.documentElement.dir") == "rtl"

    await page.get_by_test_id("create-name").fill("نوروز")
    await page.get_by_test_id("create-kind").select_option("occasion")
    await page.get_by_test_id("create-submit").click()
    await expect(page.get_by_test_id("campaign-name")).to_have_text("نوروز")
    await expect(page.get_by_test_id("campaign-state")).to_have_text("پیش‌نویس")
    await expect(page.get_by_test_id("campaign-list")).to_contain_text("مناسبت‌ها")

    await page.get_by_test_id("import-file").set_input_files(
        {"name": "targets.csv", "mimeType": "text/csv", "buffer": TARGETS_CSV}
    )
    await page.get_by_test_id("import-preview").click()
    lines = page.get_by_test_id("report-lines").locator("li")
    await expect(lines).to_have_count(2)
    await expect(lines.nth(0)).to_have_attribute("data-line", "3")
    await expect(lines.nth(0)).to_contain_text("سطر ۳")
    await expect(lines.nth(1)).to_contain_text("هم‌شماره با سطر ۲")
    campaign = await Campaigns(database).named("نوروز")
    assert await Campaigns(database).target_counts(campaign.id) == {}  # a preview stores nothing

    await page.get_by_test_id("import-confirm").click()
    report = page.get_by_test_id("import-report")
    await expect(report.locator("[data-figure=added] dd")).to_have_text("۲")
    await expect(page.get_by_test_id("progress-text")).to_contain_text("۰ از ۲")

    await page.get_by_test_id("action-start").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("در حال اجرا")
    await expect(page.get_by_test_id("action-start")).to_be_disabled()

    # A worker's attempts, as the dialer writes them: one busy, one that heard the message.
    attempts = Attempts(database, InteractionRecords(database))
    campaign = await Campaigns(database).named("نوروز")
    now = datetime.now(UTC)
    for target, outcome in zip(
        await Campaigns(database).targets(campaign.id),
        (Outcome.BUSY, Outcome.MESSAGE_PLAYED),
        strict=True,
    ):
        attempt = await attempts.begin(campaign, target, "worker-1", now)
        answered = now if outcome is Outcome.MESSAGE_PLAYED else None
        retries = KINDS["occasion"].retries
        await attempts.settle(campaign, attempt.channel_id, outcome, now, retries, answered)

    figures = page.get_by_test_id("figures")
    await expect(figures.locator("[data-figure=attempts] dd")).to_have_text("۲")
    await expect(figures.locator("[data-figure=calls_per_s] dd")).not_to_have_text("۰")
    outcomes = page.get_by_test_id("outcomes")
    await expect(outcomes).to_contain_text("مشغول")
    await expect(outcomes).to_contain_text("پیام را شنید")
    assert "busy" not in await outcomes.inner_text()
    # The abandon-rate window's start, in the Jalali calendar.
    await expect(figures.locator("[data-figure=abandon_rate] dd")).to_contain_text("۱۴۰")
    await expect(page.get_by_test_id("progress-text")).to_contain_text("۲ از ۲")
    assert await page.evaluate("Chart.getChart(document.getElementById('chart')) !== undefined")

    href = await page.get_by_test_id("export-csv").get_attribute("href")
    assert href is not None
    exported = await page.request.get(server.base + href)
    assert exported.status == 200
    body = await exported.body()
    assert body.startswith("\ufeff".encode()) and "Ольга Петрова" in body.decode("utf-8-sig")

    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_test_id("campaign-state")).to_have_text("Running")
    await expect(outcomes).to_contain_text("Heard the message")
    await expect(page.get_by_test_id("campaign-list")).to_contain_text("Occasions")
    await page.get_by_test_id("action-pause").click()
    await expect(page.get_by_test_id("campaign-state")).to_have_text("Paused")
    await page.get_by_test_id("language").select_option("ru")
    await expect(page.get_by_test_id("campaign-state")).to_have_text("Приостановлена")
    await expect(outcomes).to_contain_text("Занято")

    actions = {record.action for record in await AuditLog(database).for_agent(OPERATOR)}
    assert {"campaign_create", "campaign_import", "campaign_start", "campaign_export"} <= actions
    assert errors == []


async def test_a_plain_agent_gets_403_from_every_console_route(
    server: RunningServer, database: Database
) -> None:
    await Campaigns(database).create("renewals", KINDS["renewal_due"], datetime.now(UTC))
    routes = [
        ("GET", "/campaigns", None),
        ("GET", "/api/campaigns", None),
        ("POST", "/api/campaigns", {"name": "x", "kind": "occasion"}),
        ("GET", "/api/campaigns/renewals/progress", None),
        ("POST", "/api/campaigns/renewals/import", None),
        ("POST", "/api/campaigns/renewals/select", {"dry_run": True}),
        ("POST", "/api/campaigns/renewals/state", {"action": "start"}),
        ("GET", "/api/campaigns/renewals/export?format=csv", None),
        ("POST", "/api/campaigns/renewals/sms-fallback", {}),
    ]
    async with await logged_in(server, "101") as agent:
        for method, path, body in routes:
            async with agent.request(method, path, json=body) as reply:
                assert reply.status == 403, (method, path, reply.status)
    async with await logged_in(server, OPERATOR) as operator:
        async with operator.get("/api/campaigns") as reply:
            assert reply.status == 200
        async with operator.post("/api/campaigns/renewals/select", json={"dry_run": True}) as reply:
            assert reply.status == 200
            assert (await reply.json())["dry_run"] is True
        async with operator.post(
            "/api/campaigns", json={"name": "renewals", "kind": "welcome"}
        ) as r:
            assert (r.status, (await r.json())["field"]) == (409, "name")
