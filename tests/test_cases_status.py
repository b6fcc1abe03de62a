"""What a customer hears or reads back when they give their tracking number: the stage of the
case in their language and, while it is open, when the answer is due (Jalali, Persian digits)."""

from __future__ import annotations

from datetime import datetime

from cases import types
from cases.status import customer_status
from cases.store import CaseChannel, CaseRequest, CaseStore
from integrations.database import Database
from ivr.hours import TEHRAN


async def test_customer_hears_the_stage_and_the_jalali_due_date(database: Database) -> None:
    now = datetime(2025, 10, 15, 9, 0, tzinfo=TEHRAN)
    store = CaseStore(database, types.load(), clock=lambda: now)
    fields = {"remedy_sought": "refund", "category": "delay"}
    case = await store.open_case(CaseRequest("complaint", CaseChannel.IVR, "ivr", "", fields))
    number = case.tracking_number
    persian = number.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    # 56 business hours from Wednesday 09:00: Saturday 25 October (3 Aban 1404) at 09:00.
    assert await customer_status(store, number) == (
        f"درخواست {persian} ثبت شده و در نوبت بررسی است؛ پاسخ تا ۳ آبان ۱۴۰۴، ساعت ۰۹:۰۰."
    )
    assert await customer_status(store, persian, "en") == (
        f"Request {number} has been received and is waiting to be reviewed; "
        "answer by 2025-10-25 09:00."
    )
    await store.move(number, "acknowledged", "agent:1")
    await store.move(number, "waiting_customer", "agent:1")
    assert await customer_status(store, number, "ru") == (
        f"Обращение {number} ждёт вашего ответа или сведений."
    )
    assert await customer_status(store, "300000000") == "درخواستی با این کد پیگیری پیدا نشد."
