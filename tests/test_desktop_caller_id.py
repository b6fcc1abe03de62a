"""Caller ID can be spoofed, and the agent's card says so, in a real headless Chromium: a
caller whose number matched is "number recognised, identity not verified" until the IVR has
checked a secret."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, expect
from popup_support import (
    RunningServer,
    customer_on_file,
    feed,
    log_in,
    queue_call_events,
)

from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords

pytestmark = pytest.mark.browser

PHONE = "09121117766"
E164 = "+989121117766"


@pytest.mark.parametrize(
    ("identified_by", "label"),
    [("caller_id", "number recognised, identity not verified"), ("pin", "identity verified")],
)
async def test_the_card_tells_a_recognised_number_from_a_verified_identity(
    browser: Browser,
    server: RunningServer,
    database: Database,
    identified_by: str,
    label: str,
) -> None:
    customer = await customer_on_file(database, "Sadeghi", PHONE, "006655443")
    linkedid = f"1732300000.{len(identified_by)}"
    await InteractionRecords(database).save_call(
        CallPart(
            linkedid=linkedid,
            caller_number=E164,
            customer_id=customer.id,
            language="en",
            outcome=Outcome.QUEUED,
            menu_path=[{"menu": "main"}],
            looked_up=[
                {"kind": "customer", "ref": str(customer.id), "identified_by": identified_by}
            ],
            queue="support",
        )
    )

    page = await browser.new_page()
    await page.add_init_script("localStorage.setItem('tamas.lang', 'en')")
    await log_in(page, server)
    feed(server, queue_call_events(linkedid, PHONE, "Sadeghi", "101")["ring"])

    identity = page.get_by_test_id("call-card").get_by_test_id("ivr-identity")
    await expect(identity).to_have_text(label)
