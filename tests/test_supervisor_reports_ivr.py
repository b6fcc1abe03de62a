"""IVR figures from the interaction records' outcomes (docs/outcomes.md, docs/metrics.md):
the self-service rate counts only callers who got what they came for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from supervisor_scenario import tamas_report

from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from supervisors import reports

REPOSITORY = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 11:30 in Tehran, 1405-09-09


async def record(
    database: Database, n: int, outcome: Outcome, *menus: str, line: str = "02188776655"
) -> None:
    await InteractionRecords(database).save_call(
        CallPart(
            linkedid=f"ivr-{n}",
            caller_number=f"0912000{n:04d}",
            called_number=line,
            started_at=AT + timedelta(minutes=n),
            ended_at=AT + timedelta(minutes=n, seconds=40),
            outcome=outcome,
            menu_path=[{"menu": menu, "at": AT.isoformat()} for menu in ("main", *menus)],
        )
    )


async def test_self_service_rate_and_calls_per_menu_and_outcome(database: Database) -> None:
    await record(database, 1, Outcome.SELF_SERVED, "claim_status")
    await record(database, 2, Outcome.SELF_SERVED, "debts", "debts")
    await record(database, 3, Outcome.NOT_FOUND, "claim_status")
    await record(database, 4, Outcome.ANSWERED_BY_AGENT, "agent")
    await record(database, 5, Outcome.ABANDONED_IN_MENU)
    ivr = await reports.ivr_report(database, AT, AT + timedelta(hours=1))
    assert (ivr.calls, ivr.self_served) == (5, 2)
    assert ivr.self_service_rate == pytest.approx(2 / 5)
    assert ivr.by_menu["claim_status"] == {"not_found": 1, "self_served": 1}
    # A menu visited twice in one call counts the call once.
    assert ivr.by_menu["debts"] == {"self_served": 1}
    assert ivr.by_menu["main"]["abandoned_in_menu"] == 1
    assert await reports.ivr_report(database, AT - timedelta(hours=1), AT) == reports.ivr_figures(
        []
    )

    assert tamas_report(database.url, "ivr", "--from", "2026-11-30", "--to", "2026-11-30") == (
        ivr.as_dict()
    )


async def test_traffic_on_lines_per_hour(database: Database) -> None:
    await record(database, 1, Outcome.SELF_SERVED, line="02188776655")
    await record(database, 2, Outcome.SELF_SERVED, line="02188776655")
    await record(database, 3, Outcome.NOT_FOUND, line="205")
    await record(database, 70, Outcome.SELF_SERVED, line="205")  # 12:40 in Tehran
    rows = tamas_report(
        database.url, "lines", "--from", "2026-11-30", "--to", "2026-11-30", "--by", "hour",
        "--language", "en",
    )  # fmt: skip
    assert rows == [
        {"period": "2026-11-30 11:00", "line": "*", "calls": 3},
        {"period": "2026-11-30 11:00", "line": "02188776655", "calls": 2},
        {"period": "2026-11-30 11:00", "line": "205", "calls": 1},
        {"period": "2026-11-30 12:00", "line": "*", "calls": 1},
        {"period": "2026-11-30 12:00", "line": "205", "calls": 1},
    ]
