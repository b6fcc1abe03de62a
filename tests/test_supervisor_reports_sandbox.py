"""The scripted scenario on the real Asterisk: calls into a queue with Local-channel agents
write a real queue_log; ingested (with the ingester killed and restarted mid-scenario), its
figures in `tamas report` are the dictionary's (docs/metrics.md), restated here from the raw
lines."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import supervisor_scenario as sc

from integrations.database import Database
from supervisors.events import EventStore, Position
from supervisors.ingest import QueueLogIngester, default_queue_log, file_state
from supervisors.metrics import Thresholds, queue_figures
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk

REPOSITORY = Path(__file__).resolve().parents[1]
THRESHOLDS = Thresholds(service_level_s=20, per_queue_service_level_s={sc.QUEUE: 12})
# One scenario per test run, ingested into each database (SQLite and PostgreSQL).
_RAN: dict[str, Any] = {}


async def _start_position(store: EventStore, source: str, path: Path) -> None:
    """Ingest only what is written from now on (the sandbox's queue_log holds earlier runs)."""
    state = file_state(path)
    assert state is not None, f"no queue_log at {path}"
    await store.save_position(
        Position(source=source, inode=state.inode, head=state.head, offset=state.size)
    )


async def _scenario_ingested(settings: Settings, database: Database, tmp_path: Path) -> sc.Scenario:
    path = default_queue_log(settings.sandbox_dir)
    store = EventStore(database)
    source = "scenario"
    if "scenario" in _RAN:
        # The same lines as the first database got, copied out of the shared queue_log.
        first, last = _RAN["range"]
        with path.open("rb") as handle:
            handle.seek(first)
            copy = tmp_path / "queue_log"
            copy.write_bytes(handle.read(last - first))
        await QueueLogIngester(store, copy).ingest()
        return _RAN["scenario"]  # type: ignore[no-any-return]
    stop = asyncio.Event()
    following: asyncio.Task[None] | None = None

    def follow() -> asyncio.Task[None]:
        return asyncio.create_task(QueueLogIngester(store, path, source).follow(stop, 0.2))

    async def during(step: str) -> None:
        nonlocal following
        if step == "start":
            await _start_position(store, source, path)
            _RAN["start"] = (await store.position(source)).offset
            following = follow()
        elif step == "transferred" and following is not None:
            # Killed mid-scenario (cancelled wherever it was), then started again.
            following.cancel()
            await asyncio.gather(following, return_exceptions=True)
            following = follow()
        elif step == "done" and following is not None:
            stop.set()
            await following
            # Still the scenario's turn: the last lines, and no other scenario's.
            await QueueLogIngester(store, path, source).ingest()
            _RAN["range"] = (_RAN["start"], (await store.position(source)).offset)

    try:
        scenario = await sc.run_scenario(settings, during)
    finally:
        stop.set()
        if following is not None:
            await asyncio.gather(following, return_exceptions=True)
    _RAN["scenario"] = scenario
    return scenario


def _raw_lines(settings: Settings, scenario: sc.Scenario) -> list[list[str]]:
    ours = {call.callid for call in scenario.calls}
    text = default_queue_log(settings.sandbox_dir).read_text(encoding="utf-8")
    return [line.split("|") for line in text.splitlines() if line.split("|")[1:2][0] in ours]


def _report(database: Database, *args: str) -> Any:
    return sc.tamas_report(
        database.url, *args, report_service_levels=f"{sc.QUEUE}=12", report_time_zone="Asia/Tehran"
    )


async def test_scenario_report_shows_the_dictionarys_numbers(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    scenario = await _scenario_ingested(asterisk_sandbox, database, tmp_path)
    lines = _raw_lines(asterisk_sandbox, scenario)
    offered = [line for line in lines if line[4] == "ENTERQUEUE"]
    connects = [int(line[5]) for line in lines if line[4] == "CONNECT"]
    abandons = [int(line[7]) for line in lines if line[4] == "ABANDON"]
    talks = [int(line[6]) for line in lines if line[4] in {"COMPLETEAGENT", "COMPLETECALLER"}] + [
        int(line[8]) for line in lines if line[4] == "BLINDTRANSFER"
    ]
    assert len(offered) == len(scenario.calls) == 8
    assert len(connects) == 4 and sorted(connects)[-1] >= 12, "some answered after waiting"
    assert sorted(wait < 5 for wait in abandons) == [False, False, True]

    day = scenario.started_at.astimezone(ZoneInfo("Asia/Tehran")).date().isoformat()
    rows = _report(database, "queues", "--from", day, "--to", day)
    row = next(row for row in rows if row["queue"] == sc.QUEUE)
    within = sum(wait <= 12 for wait in connects)
    assert row["offered"] == 8
    assert (row["answered"], row["abandoned"], row["short_abandoned"]) == (4, 2, 1)
    assert (row["exit_timeout"], row["exit_key"], row["exit_empty"], row["waiting"]) == (1, 0, 0, 0)
    assert row["transfers_blind"] == 1
    assert row["answered_within_sl"] == within
    assert row["service_level"] == pytest.approx(within / 8)
    assert row["service_level_without_short"] == pytest.approx(within / 7)
    assert row["asa_s"] == pytest.approx(sum(connects) / 4)
    assert row["aht_s"] == pytest.approx(sum(talks) / 4)
    assert row["abandon_rate"] == pytest.approx(2 / 7)
    longest = max(
        [*connects, *abandons, *(int(line[7]) for line in lines if line[4] == "EXITWITHTIMEOUT")]
    )
    assert row["longest_wait_s"] == longest

    # The same figures as metrics.py computes from the stored events (the wallboard's code).
    store = EventStore(database)
    start = scenario.started_at - timedelta(seconds=1)
    end = scenario.ended_at + timedelta(seconds=1)
    live = queue_figures(await store.load_interval(start, end), start, end, THRESHOLDS)
    assert {key: row[key] for key in live[sc.QUEUE].as_dict()} == live[sc.QUEUE].as_dict()


async def test_scenario_agents_and_abandoned_callers(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    scenario = await _scenario_ingested(asterisk_sandbox, database, tmp_path)
    day = scenario.started_at.astimezone(ZoneInfo("Asia/Tehran")).date().isoformat()
    agents = {row["agent"]: row for row in _report(database, "agents", "--from", day, "--to", day)}
    serving = agents[sc.AGENT_SERVING]
    assert (serving["calls_taken"], serving["transfers_blind"]) == (4, 1)
    lines = _raw_lines(asterisk_sandbox, scenario)
    assert serving["talk_s"] == sum(
        int(line[6]) for line in lines if line[4] == "COMPLETEAGENT"
    ) + sum(int(line[8]) for line in lines if line[4] == "BLINDTRANSFER")
    assert agents[sc.AGENT_PAUSED]["paused_s"] >= 25

    abandoned = _report(database, "abandoned", "--from", day, "--to", day)
    ours = [row for row in abandoned if row["queue"] == sc.QUEUE]
    expected = {
        call.number for call in scenario.calls if call.end == "abandoned" and not call.short
    }
    assert {row["caller_number"] for row in ours} == expected
    assert all(row["wait_s"] >= 5 for row in ours)
    with_short = _report(database, "abandoned", "--from", day, "--to", day, "--short")
    assert len([row for row in with_short if row["queue"] == sc.QUEUE]) == 3


async def test_asterisks_own_cel_writer_fills_asterisk_cel_and_queue_transfers_count_once(
    asterisk_sandbox: Settings, database: Database, tmp_path: Path
) -> None:
    """cel_pgsql, pointed at this PostgreSQL database by tamas/asterisk/config.py, writes the
    scenario's CEL; the blind transfer made by the queue's member channel is in it, and the
    ingester leaves it to queue_log (one transfer, not two)."""
    if database.url.startswith("sqlite"):
        pytest.skip("Asterisk writes CEL into PostgreSQL only")
    import dataclasses

    from sqlalchemy import func, select

    from supervisors.ingest import CelIngester
    from supervisors.tables import AsteriskCelRow
    from tamas.asterisk import sandbox

    settings = dataclasses.replace(asterisk_sandbox, database_url=database.url)
    path = default_queue_log(settings.sandbox_dir)
    store = EventStore(database)

    async def during(step: str) -> None:
        if step == "start":
            await _start_position(store, "cel-scenario", path)
            sandbox.write_config(settings)
            await asyncio.to_thread(sandbox.cli, settings, "module load cel_pgsql.so")
            await asyncio.to_thread(sandbox.cli, settings, "module reload cel_pgsql.so")
        elif step == "done":
            await QueueLogIngester(store, path, "cel-scenario").ingest()

    try:
        scenario = await sc.run_scenario(settings, during)
        await asyncio.sleep(1)
    finally:
        # Leave the sandbox as everyone else expects it: no CEL into a test database.
        await asyncio.to_thread(sandbox.cli, asterisk_sandbox, "module unload cel_pgsql.so")
        await asyncio.to_thread(sandbox.write_config, asterisk_sandbox)
    async with database.autocommit() as connection:
        transfers = list(
            await connection.execute(
                select(AsteriskCelRow.channame, AsteriskCelRow.linkedid).where(
                    AsteriskCelRow.eventtype == "BLINDTRANSFER"
                )
            )
        )
        written = await connection.scalar(select(func.count()).select_from(AsteriskCelRow))
    assert written and written > 20, "Asterisk wrote the calls' CEL"
    assert [row.linkedid for row in transfers] == [scenario.transferred_callid]
    assert transfers[0].channame.endswith(";1")
    assert await CelIngester(store).ingest() == 0
    start = scenario.started_at - timedelta(seconds=1)
    end = scenario.ended_at + timedelta(seconds=1)
    figures = queue_figures(await store.load_interval(start, end), start, end, THRESHOLDS)
    assert figures[sc.QUEUE].transfers_blind == 1
