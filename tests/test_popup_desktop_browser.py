"""The agent desktop in a real headless Chromium (Debian's), against a real popup server:
log in, a call rings, the card shows the caller's file (names as text, never as markup),
a reload gets the ringing call back, and the disposition lands on the interaction record."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, expect
from popup_support import (
    RunningServer,
    customer_on_file,
    feed,
    ivr_record,
    log_in,
    queue_call_events,
)

from integrations.database import Database
from interactions.records import InteractionRecords

pytestmark = pytest.mark.browser

XSS_NAME = "<script>alert(1)</script>"


async def test_ringing_call_shows_the_callers_file_as_text_and_the_disposition_is_saved(
    browser: Browser, server: RunningServer, database: Database
) -> None:
    customer = await customer_on_file(database, XSS_NAME, "09121112233", "003344556")
    linkedid = "1732200000.41"
    await ivr_record(database, linkedid, "+989121112233", customer.id)
    events = queue_call_events(linkedid, "09121112233", XSS_NAME, "101")
    page = await browser.new_page()
    dialogs = await log_in(page, server)
    assert await page.evaluate("document.documentElement.dir") == "rtl"

    feed(server, events["ring"])
    card = page.get_by_test_id("call-card")
    await expect(card.get_by_test_id("caller-name")).to_have_text(XSS_NAME)
    await expect(card.get_by_test_id("call-state")).to_have_text("در حال زنگ")
    await expect(card.get_by_test_id("claim-stage")).to_have_text("ارزیابی")
    await expect(card.get_by_test_id("tier")).to_have_text("طلایی")
    await expect(card.get_by_test_id("ivr")).to_contain_text("وضعیت خسارت")  # claim_status
    # The claim's stage date (2026-11-01) in the Jalali calendar: 10 Aban 1405.
    await expect(card).to_contain_text("۱۰ آبان ۱۴۰۵")
    assert await page.locator("[data-testid=call-card] script").count() == 0

    # A desktop that reconnects (here: a reload) gets the call still ringing.
    await page.reload()
    await expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "connected")
    await expect(page.get_by_test_id("caller-name")).to_have_text(XSS_NAME)

    feed(server, events["answer"])
    await expect(card.get_by_test_id("call-state")).to_have_text("در مکالمه")
    feed(server, events["hangup"])
    await expect(card.get_by_test_id("call-state")).to_have_text("پایان یافته")

    await card.get_by_test_id("disposition").select_option("follow_up")
    await card.get_by_test_id("notes").fill("پیگیری ارزیاب <b>فردا</b>")
    await card.get_by_test_id("save-disposition").click()
    await expect(card.get_by_test_id("action-status")).to_have_text("ذخیره شد")
    record = await InteractionRecords(database).load(linkedid)
    assert record is not None
    assert (record.agent, record.disposition, record.notes) == (
        "101",
        "follow_up",
        "پیگیری ارزیاب <b>فردا</b>",
    )
    await expect(page.get_by_test_id("recent-calls")).to_contain_text("+989121112233")
    assert dialogs == []  # no script from customer data ever ran


async def test_new_caller_is_found_by_search_or_registered_in_english(
    browser: Browser, server: RunningServer, database: Database
) -> None:
    await customer_on_file(database, "Петрова", "+79161234567", "007788990", tier="vip")
    page = await browser.new_page()
    await log_in(page, server)
    await page.get_by_test_id("language").select_option("en")
    assert await page.evaluate("document.documentElement.dir") == "ltr"

    feed(server, queue_call_events("1732200000.55", "02188776655", "", "101")["ring"])
    card = page.get_by_test_id("call-card")
    await expect(card.get_by_test_id("new-caller")).to_contain_text("not on file")
    await card.get_by_test_id("search-input").fill("Петрова")
    await card.get_by_test_id("search-input").press("Enter")
    await card.get_by_test_id("search-results").get_by_role("button").click()
    await expect(card.get_by_test_id("tier")).to_have_text("VIP")

    feed(server, queue_call_events("1732200000.56", "02144556677", "", "101", "0000000d")["ring"])
    new_card = page.locator("[data-testid=call-card][data-linkedid='1732200000.56']")
    await new_card.locator("input[name=family_name_fa]").fill("Smith <img src=x onerror=alert(2)>")
    await new_card.get_by_test_id("register-submit").click()
    await expect(new_card.get_by_test_id("customer-name")).to_have_text(
        "Smith <img src=x onerror=alert(2)>"
    )
    assert await page.locator("img").count() == 0
    await asyncio.sleep(0)  # let any stray handler run before the page closes
