"""The report page and its API: supervisors only, the same rows as `tamas report`, CSV and
XLSX downloads, Jalali dates in Persian, and the abandoned callers' list audited."""

from __future__ import annotations

import csv
import io

import pytest
import test_supervisor_wallboard
from openpyxl import load_workbook
from playwright.async_api import Browser, expect
from popup_support import PASSWORD, RunningServer, customer_on_file, logged_in
from supervisor_scenario import queue_log_events
from test_supervisor_ingest import day_of_calls

from integrations.database import Database
from popup_server.audit import AuditRecord
from supervisors import metrics, reports
from supervisors.events import EventStore
from tamas.settings import Settings

T0 = 1_796_000_000  # 1405-09-09 04:23 in Tehran
DAY = "1405-09-09"
GREGORIAN_DAY = "2026-11-30"


# A popup server with agent 101 and supervisor 150: the wallboard tests' fixture.
server = test_supervisor_wallboard.server


@pytest.fixture(autouse=True)
async def morning(database: Database) -> None:
    """A morning of queue calls stored (the server fixture, from the wallboard's tests, has
    agent 101 and supervisor 150)."""
    await EventStore(database).add(queue_log_events(*day_of_calls(30)))
    await customer_on_file(database, "رضایی", "09120000007", "001234567", given_name="مریم")


async def test_only_supervisors_get_reports(server: RunningServer) -> None:
    anonymous = await logged_in(server, "101")
    anonymous.cookie_jar.clear()
    async with anonymous, await logged_in(server, "101") as agent:
        for kind in reports.KINDS:
            path = f"/api/reports/{kind}?from={GREGORIAN_DAY}&to={GREGORIAN_DAY}"
            assert (await anonymous.get(path)).status == 401
            assert (await agent.get(path)).status == 403
        assert (await agent.get("/supervisors/reports")).status == 403


async def test_the_api_shows_the_cli_rows_and_downloads_them(
    server: RunningServer, database: Database
) -> None:
    settings = Settings()  # what start_server gives the app
    async with await logged_in(server, "150") as supervisor:
        path = f"/api/reports/queues?from={DAY}&to={DAY}&calendar=jalali&by=hour&language=fa"
        reply = await supervisor.get(path)
        assert reply.status == 200, await reply.text()
        rows = (await reply.json())["rows"]
        start, end = reports.interval(
            DAY,
            DAY,
            reports.Calendar.for_language(settings.report_time_zone, "fa").zone,
            jalali=True,
        )
        expected = await reports.report_rows(
            database,
            reports.ReportRequest(
                kind="queues",
                start=start,
                end=end,
                period=reports.Period.HOUR,
                calendar=reports.Calendar.for_language(settings.report_time_zone, "fa"),
                thresholds=metrics.thresholds_from(settings),
            ),
        )
        assert rows == expected
        assert sum(row["offered"] for row in rows if row["queue"] == "support") == 30

        download = await supervisor.get(path.replace("format=json", "") + "&format=csv")
        assert download.status == 200
        assert "attachment" in download.headers["Content-Disposition"]
        table = list(csv.DictReader(io.StringIO((await download.read()).decode("utf-8-sig"))))
        assert [int(row["offered"]) for row in table] == [row["offered"] for row in rows]

        book = await supervisor.get(path + "&format=xlsx")
        sheet = load_workbook(io.BytesIO(await book.read())).active
        assert sheet is not None and sheet.max_row == len(rows) + 1

        bad = await supervisor.get(
            "/api/reports/queues?from=1405-13-40&to=1405-13-40&calendar=jalali"
        )
        assert bad.status == 400
        abandoned = await supervisor.get(
            f"/api/reports/abandoned?from={GREGORIAN_DAY}&to={GREGORIAN_DAY}"
        )
        callers = (await abandoned.json())["rows"]
        assert callers and all(caller["wait_s"] >= 5 for caller in callers)
        # Named from the customer file, as the wallboard names them.
        named = next(caller for caller in callers if caller["caller_number"] == "09120000007")
        assert named["customer_name"] == "مریم رضایی"
    async with database.session() as session:
        audited = (await session.execute(AuditRecord.__table__.select())).all()
    assert any(row.action == "sv_report" and row.agent == "150" for row in audited)


async def test_the_page_shows_the_table_and_chart_in_persian_with_jalali_dates(
    server: RunningServer, browser: Browser
) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(server.base + "/supervisors/reports")
    await page.get_by_test_id("login-agent").fill("150")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("report-form")).to_be_visible()
    assert await page.evaluate("document.documentElement.dir") == "rtl"
    await page.get_by_test_id("report-from").fill("۱۴۰۵-۰۹-۰۹")
    await page.get_by_test_id("report-to").fill(DAY)
    await page.get_by_test_id("report-by").select_option("all")
    await page.get_by_test_id("report-show").click()
    table = page.get_by_test_id("report-table")
    await expect(table.locator("tr.all-queues")).to_contain_text("همه صف‌ها")
    await expect(table.locator("th").nth(1)).to_have_text("صف")
    # 30 calls offered, in Persian digits.
    await expect(table.locator("tr.all-queues td").nth(2)).to_have_text("۳۰")
    assert await page.get_by_test_id("report-chart").is_visible()
    href = await page.get_by_test_id("download-xlsx").get_attribute("href")
    assert href is not None and "format=xlsx" in href and "calendar=jalali" in href

    await page.get_by_test_id("language").select_option("en")
    await page.get_by_test_id("report-from").fill(GREGORIAN_DAY)
    await page.get_by_test_id("report-to").fill(GREGORIAN_DAY)
    await page.get_by_test_id("report-kind").select_option("abandoned")
    await page.get_by_test_id("report-show").click()
    await expect(table.locator("th").first).to_have_text("Queue")
    await expect(table.locator("tbody tr").first).to_contain_text("0912")
    assert errors == []
