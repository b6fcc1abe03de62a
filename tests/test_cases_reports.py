"""Reports on cases: complaints by category and time to resolve, the ISO 10002 audit clause by
clause, SLA compliance per partner, volume by Jalali month; CSV and XLSX from the command line
and from the supervisors' API."""

from __future__ import annotations

import argparse
import io
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from popup_support import PASSWORD, logged_in, start_server

from cases import command, reports, types
from cases.store import CaseChannel, CaseRequest, CaseStore
from integrations.database import Database
from ivr.hours import TEHRAN
from tamas.settings import Settings

START, END = datetime(2025, 10, 1, tzinfo=TEHRAN), datetime(2025, 11, 1, tzinfo=TEHRAN)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 10, 15, 9, 0, tzinfo=TEHRAN)

    def __call__(self) -> datetime:
        return self.now

    def at(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


async def _period(database: Database) -> None:
    """Two delay complaints (one handled through every step, one only acknowledged late), a
    premium complaint, and two adjusters' files of which one was late."""
    clock = Clock()
    store = CaseStore(database, types.load(), clock=clock)

    def complaint(category: str) -> CaseRequest:
        return CaseRequest("complaint", CaseChannel.IVR, "ivr", "",
                           {"remedy_sought": "refund", "category": category})  # fmt: skip

    full = await store.open_case(complaint("delay"))
    late = await store.open_case(complaint("delay"))
    await store.open_case(complaint("premium"))
    number = full.tracking_number
    clock.at("2025-10-15 10:00")
    await store.move(number, "acknowledged", "agent:1")
    assessment = {"severity": "low", "complexity": "low", "impact": "low", "urgency": "low"}
    await store.move(number, "assessed", "agent:1", fields=assessment)
    await store.move(number, "investigating", "agent:1")
    clock.at("2025-10-15 12:00")
    await store.move(number, "responded", "agent:1")
    await store.move(number, "communicated", "agent:1")
    await store.move(number, "closed", "agent:1")
    await store.record_satisfaction(number, "customer", score=5, nps=10)
    clock.at("2025-10-18 09:00")  # four business hours were due by 13:00 on the 15th
    await store.move(late.tracking_number, "acknowledged", "agent:1")
    clock.at("2025-10-15 09:00")
    files = []
    for claim in ("C-1", "C-2"):
        fields = {"claim_number": claim, "partner": "acme"}
        request = CaseRequest(
            "claim_to_adjuster", CaseChannel.PARTNER, "partner:acme", "", fields, partner="acme"
        )
        files.append((await store.open_case(request)).tracking_number)
    clock.at("2025-10-16 09:00")
    await store.move(files[0], "resolved", "partner:acme")
    clock.at("2025-11-01 09:00")  # 80 business hours are long past
    await store.move(files[1], "resolved", "partner:acme")


async def test_complaints_by_category_and_the_iso_10002_audit(database: Database) -> None:
    await _period(database)
    by_category = (await reports.report(database, "complaints", START, END)).as_dicts()
    assert [(r["category"], r["complaints"], r["resolved"]) for r in by_category] == [
        ("delay", 2, 1),
        ("premium", 1, 0),
    ]
    assert by_category[0]["median_hours_to_resolve"] == 3.0
    assert by_category[0]["satisfaction"] == 5
    clauses = {
        r["clause"]: r for r in (await reports.report(database, "clauses", START, END)).as_dicts()
    }
    assert (clauses["8.3"]["reached"], clauses["8.3"]["met"]) == (3, 1.0)
    # Two acknowledged, one of them after its first-response deadline.
    assert (clauses["8.5"]["reached"], clauses["8.5"]["met"]) == (2, 0.5)
    assert (clauses["8.6"]["reached"], clauses["8.6"]["met"]) == (1, 1.0)
    assert clauses["8.10"]["reached"] == 1
    assert clauses["8.10"]["median_hours_from_receipt"] == 3.0
    assert (clauses["9.3"]["reached"], clauses["9.3"]["met"]) == (1, 0.333)


async def test_sla_compliance_per_partner_and_volume_by_jalali_month(database: Database) -> None:
    await _period(database)
    (acme,) = (await reports.report(database, "partners", START, END)).as_dicts()
    assert (acme["partner"], acme["cases"], acme["resolved"], acme["resolved_in_sla"]) == (
        "acme",
        2,
        2,
        1,
    )
    assert acme["sla_compliance"] == 0.5
    volume = (await reports.report(database, "volume", START, END)).as_dicts()
    assert {(r["month"], r["type"], r["opened"]) for r in volume} == {
        ("1404-07", "complaint", 3),
        ("1404-07", "claim_to_adjuster", 2),
    }
    gregorian = await reports.report(database, "volume", START, END, jalali=False)
    assert {row[0] for row in gregorian.rows} == {"2025-10"}


async def test_reports_export_as_csv_and_xlsx(database: Database, tmp_path: Path) -> None:
    await _period(database)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    settings = Settings(database_url=database.url)
    output = tmp_path / "clauses.csv"
    args = parser.parse_args(
        [
            "report",
            "clauses",
            "--from",
            "1404-07-01",
            "--to",
            "1404-08-10",
            "--format",
            "csv",
            "--output",
            str(output),
        ]
    )
    await command.run(args, settings)
    text = output.read_bytes().decode("utf-8")
    assert text.startswith("\ufeffclause,step,complaints")
    assert "8.5,acknowledgement of complaint,3,2," in text
    server = await start_server(database, settings=settings)
    try:
        directory = server.parts.directory
        await directory.create_agent("301", PASSWORD, "Local/301@x", roles="agent,supervisor",
                                     password_cost=2**10)  # fmt: skip
        await directory.create_agent("302", PASSWORD, "Local/302@x", roles="agent,case_handler",
                                     password_cost=2**10)  # fmt: skip
        supervisor, handler = await logged_in(server, "301"), await logged_in(server, "302")
        query = "from=1404/07/09&to=1404/08/10"
        async with handler.get(f"/api/cases/reports/partners?{query}") as reply:
            assert reply.status == 403
        async with supervisor.get(f"/api/cases/reports/partners?{query}") as reply:
            assert (await reply.json())["rows"][0][:4] == ["acme", 2, 2, 1]
        async with supervisor.get(f"/api/cases/reports/volume?{query}&format=xlsx") as reply:
            assert reply.status == 200
            book = load_workbook(io.BytesIO(await reply.read()))
        rows = list(book.active.iter_rows(values_only=True))
        assert rows[0] == ("month", "type", "team", "opened", "resolved", "breached")
        async with supervisor.get("/api/cases/reports/volume?from=tomorrow&to=x") as reply:
            assert reply.status == 400
        await supervisor.close()
        await handler.close()
    finally:
        await server.stop()


@pytest.mark.parametrize("name", reports.REPORTS)
async def test_an_empty_period_gives_empty_reports(database: Database, name: str) -> None:
    found = await reports.report(database, name, START, END)
    assert found.rows == [] or name == "clauses"
