"""Every page's header links to the pages the user's roles open (the desktop for everyone), the
current page marked; a case's escalation (`case.alert`) shows on its owner's desktop and on the
supervisors' wallboard. Checked in Chromium."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Page, expect
from popup_support import PASSWORD, RunningServer, start_server

from cases import types
from cases.escalation import CaseAlert
from cases.store import CaseChannel, CaseRequest, CaseStore
from cases.types import EscalationAction
from integrations.database import Database
from tamas.bus import InProcessBus

EVERY_ROLE = "agent,supervisor,campaign_operator,messaging_operator,case_handler"
LINKS = ("desktop", "campaigns", "wallboard", "reports", "cases", "messages")


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture
async def server(database: Database, bus: InProcessBus) -> AsyncIterator[RunningServer]:
    running = await start_server(database, bus=bus)
    directory = running.parts.directory
    for number, roles in (("101", "agent,case_handler"), ("102", "agent"), ("150", EVERY_ROLE)):
        await directory.create_agent(
            number, PASSWORD, f"Local/{number}@tamas-agents", name=f"Agent {number}",
            roles=roles, password_cost=2**10,
        )  # fmt: skip
    try:
        yield running
    finally:
        await running.stop()


async def _log_in(browser: Browser, server: RunningServer, path: str, number: str) -> Page:
    page = await browser.new_page()
    await page.goto(server.base + path)
    await page.get_by_test_id("login-agent").fill(number)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    return page


async def test_a_user_with_every_role_sees_every_page_and_a_plain_agent_only_the_desktop(
    server: RunningServer, browser: Browser
) -> None:
    page = await _log_in(browser, server, "/campaigns", "150")
    nav = page.get_by_test_id("nav")
    await expect(nav.locator("a")).to_have_count(len(LINKS))
    await expect(nav.get_by_test_id("nav-campaigns")).to_have_attribute("aria-current", "page")
    await expect(nav.get_by_test_id("nav-desktop")).to_have_text("میز کار")
    await page.get_by_test_id("language").select_option("ru")
    await expect(nav.get_by_test_id("nav-cases")).to_have_text("Обращения")
    await nav.get_by_test_id("nav-wallboard").click()
    await expect(page).to_have_url(server.base + "/supervisors/wallboard")
    await expect(nav.get_by_test_id("nav-wallboard")).to_have_attribute("aria-current", "page")
    await expect(nav.get_by_test_id("nav-reports")).to_have_text("Отчёты")
    await page.close()

    plain = await _log_in(browser, server, "/", "102")
    nav = plain.get_by_test_id("nav")
    await expect(nav.locator("a")).to_have_count(1)
    await expect(nav.get_by_test_id("nav-desktop")).to_have_attribute("aria-current", "page")
    # Another page tells them it is not for them, and still links only to the desktop.
    await plain.goto(server.base + "/messages")
    await expect(plain.get_by_test_id("forbidden")).to_be_visible()
    await expect(plain.get_by_test_id("nav").locator("a")).to_have_count(1)
    await plain.locator("#logout").click()
    await expect(plain.get_by_test_id("login-agent")).to_be_visible()
    await expect(plain.get_by_test_id("nav")).to_be_hidden()
    await plain.close()


async def test_a_case_alert_shows_on_its_owners_desktop_and_on_the_wallboard(
    server: RunningServer, database: Database, browser: Browser, bus: InProcessBus
) -> None:
    store = CaseStore(database, types.load())
    opened = await store.open_case(
        CaseRequest("complaint", CaseChannel.DESKTOP, "agent:101", "late payout",
                    {"remedy_sought": "refund", "category": "delay"})
    )  # fmt: skip
    desktop = await _log_in(browser, server, "/", "101")
    await expect(desktop.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    others = await _log_in(browser, server, "/", "102")
    await expect(others.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    board = await _log_in(browser, server, "/supervisors/wallboard", "150")
    await expect(board.get_by_test_id("connection")).to_have_attribute("data-state", "connected")

    case = await store.get(opened.tracking_number)
    await bus.publish(CaseAlert(case, EscalationAction.NOTIFY_OWNER, "101", datetime.now(UTC)))

    alert = desktop.get_by_test_id("case-alert")
    await expect(alert).to_contain_text(f"مهلت پرونده {opened.tracking_number} نزدیک است")
    await desktop.get_by_test_id("language").select_option("en")
    await expect(alert).to_contain_text(f"Case {opened.tracking_number} is due soon")
    line = board.get_by_test_id("case-alerts").locator(f"li[data-case='{opened.tracking_number}']")
    await expect(line).to_contain_text("101")
    await expect(line).to_contain_text(f"مهلت پرونده {opened.tracking_number}")
    # Not the owner's, not a supervisor: nothing on this desktop.
    await expect(others.get_by_test_id("case-alert")).to_have_count(0)
    for page in (desktop, others, board):
        await page.close()
