"""Ingesting Asterisk's queue_log: every event once, across kills, restarts, rotations and
truncations, on SQLite and PostgreSQL; the reports' SQL sums equal metrics.py on the events."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from supervisor_scenario import queue_log_events as parse

from integrations.database import Database
from supervisors import reports, sums
from supervisors.events import EventStore, Position
from supervisors.ingest import QueueLogIngester
from supervisors.metrics import Thresholds, queue_calls, queue_figures

T0 = 1_796_000_000
START = datetime.fromtimestamp(T0 - 3600, UTC)
THRESHOLDS = Thresholds(service_level_s=20, short_abandon_s=5, wrap_up_s=3)
REPOSITORY = Path(__file__).resolve().parents[1]


def day_of_calls(count: int, first: int = 0, spacing_s: int = 60) -> list[str]:
    """`count` calls `spacing_s` apart: answered after various waits, abandoned (some short),
    timed out; agent rings unanswered (identical lines in a row included)."""
    lines = []
    for n in range(first, first + count):
        t = T0 + spacing_s * n
        callid = f"17960.{n}"
        lines.append(f"{t}|{callid}|support|NONE|ENTERQUEUE||0912{n:07d}|1")
        kind = n % 5
        if kind in {0, 1}:
            wait = 3 + (n % 40)
            lines += [
                f"{t + 1}|{callid}|support|Agent 102|RINGNOANSWER|1000",
                f"{t + 1}|{callid}|support|Agent 102|RINGNOANSWER|1000",
                f"{t + wait}|{callid}|support|Agent 101|CONNECT|{wait}|x{n}|1",
                f"{t + wait + 30}|{callid}|support|Agent 101|COMPLETECALLER|{wait}|30|1",
            ]
        elif kind == 2:
            lines.append(f"{t + 2 + n % 10}|{callid}|support|NONE|ABANDON|1|1|{2 + n % 10}")
        elif kind == 3:
            lines.append(f"{t + 45}|{callid}|support|NONE|EXITWITHTIMEOUT|1|1|45")
        else:
            lines.append(f"{t + 7}|{callid}|support|NONE|EXITWITHKEY|5|1|1|7")
    return lines


def write(path: Path, lines: list[str], mode: str = "w") -> None:
    with path.open(mode, encoding="utf-8") as handle:
        handle.writelines(line + "\n" for line in lines)


def expected(lines: list[str]) -> dict[str, object]:
    end = START + timedelta(days=30)
    return queue_figures(parse(*lines), START, end, THRESHOLDS)


async def stored_figures(database: Database) -> dict[str, object]:
    end = START + timedelta(days=30)
    events = await EventStore(database).load_interval(START, end)
    return queue_figures(events, START, end, THRESHOLDS)


async def test_each_line_is_stored_once_however_often_it_is_read(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(40)
    write(log, lines)
    store = EventStore(database)
    ingester = QueueLogIngester(store, log)
    assert await ingester.ingest() == len(lines)
    assert await ingester.ingest() == 0
    # The position lost (a restored backup, a new ingester name): read again, stored once.
    await store.save_position(Position(source=ingester.source))
    assert await ingester.ingest() == 0
    assert await QueueLogIngester(store, log, source="again").ingest() == 0
    assert await stored_figures(database) == expected(lines)


async def test_lines_appended_later_and_a_half_written_line_are_read_once(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(10)
    write(log, lines[:7])
    with log.open("a") as handle:
        handle.write(lines[7][:12])  # Asterisk is in the middle of writing this line
    store = EventStore(database)
    ingester = QueueLogIngester(store, log)
    assert await ingester.ingest() == 7
    with log.open("a") as handle:
        handle.write(lines[7][12:] + "\n")
    write(log, lines[8:], "a")
    assert await ingester.ingest() == len(lines) - 7
    assert await stored_figures(database) == expected(lines)


async def test_rotation_reads_the_rest_of_the_old_file_then_the_new_one(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(30)
    write(log, lines[:20])
    store = EventStore(database)
    ingester = QueueLogIngester(store, log)
    await ingester.ingest()
    # Asterisk wrote more, then its logger rotated the file aside and opened a new one.
    write(log, lines[20:40], "a")
    log.rename(tmp_path / "queue_log.0")
    write(log, lines[40:])
    assert await ingester.ingest() == len(lines) - 20
    assert await stored_figures(database) == expected(lines)


async def test_a_truncated_file_is_read_from_its_start_without_counting_twice(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(30)
    write(log, lines[:50])
    store = EventStore(database)
    await QueueLogIngester(store, log).ingest()
    # Truncated in place (same inode), then written again: old lines and new ones.
    write(log, lines[45:])
    assert await QueueLogIngester(store, log).ingest() == len(lines) - 50
    assert await stored_figures(database) == expected(lines)


async def test_the_reports_sums_equal_the_metrics_on_the_raw_events(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(200)
    write(log, lines)
    store = EventStore(database)
    await QueueLogIngester(store, log).ingest()
    calendar = reports.Calendar.for_language("Asia/Tehran", "fa")
    for start, end in [
        (START, START + timedelta(days=2)),
        (START + timedelta(hours=1, minutes=7), START + timedelta(hours=2, minutes=13)),
    ]:
        events = await store.load_interval(start, end)
        rows = await reports.queue_report(
            database, start, end, reports.Period.ALL, calendar, THRESHOLDS
        )
        assert {row.figures.queue: row.figures for row in rows} == queue_figures(
            events, start, end, THRESHOLDS
        )
    hourly = await reports.queue_report(
        database, START, START + timedelta(days=1), reports.Period.HOUR, calendar, THRESHOLDS
    )
    support = [row for row in hourly if row.figures.queue == "support"]
    assert sum(row.figures.offered for row in support) == 200
    # 200 calls a minute apart from 04:23 Tehran time (+03:30): four hours, Jalali dates.
    assert [row.period for row in support] == [
        "1405-09-09 04:00",
        "1405-09-09 05:00",
        "1405-09-09 06:00",
        "1405-09-09 07:00",
    ]
    assert len(queue_calls(await store.load_interval(START, START + timedelta(days=1)))) == 200


async def test_every_period_of_the_report_equals_the_metrics_of_that_period(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    # Calls every 50 minutes for two weeks: hours, days, Jalali weeks and a month boundary.
    write(log, day_of_calls(400, spacing_s=3000))
    store = EventStore(database)
    await QueueLogIngester(store, log).ingest()
    # Whole local days, as the CLI and the page ask: summed from the quarter rows.
    start, end = reports.interval("2026-11-29", "2026-12-14", ZoneInfo("Asia/Tehran"))
    async with database.autocommit() as connection:
        assert await sums.quarters_fit(connection, start, end, THRESHOLDS)
    events = await store.load_interval(start, end)
    for language in ("fa", "en"):
        calendar = reports.Calendar.for_language("Asia/Tehran", language)
        for period in (reports.Period.DAY, reports.Period.WEEK, reports.Period.MONTH):
            rows = await reports.queue_report(database, start, end, period, calendar, THRESHOLDS)
            shown = {row.period: row.figures for row in rows if row.figures.queue == "*"}
            expected = {}
            for begin, finish in reports.periods(start, end, period, calendar):
                figures = queue_figures(events, begin, finish, THRESHOLDS)["*"]
                if figures.offered:
                    expected[calendar.label(calendar.period_start(begin, period), period)] = figures
            assert shown == expected, (language, period)


async def test_an_ingester_killed_mid_file_and_started_again_loses_and_doubles_nothing(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    lines = day_of_calls(1500)
    write(log, lines)
    env = {
        **os.environ,
        "TAMAS_DATABASE_URL": database.url,
        "TAMAS_DATA_DIR": str(tmp_path),
        "TAMAS_CONFIG": str(tmp_path / "none.toml"),
    }
    command = [sys.executable, "-m", "tamas.cli", "report", "ingest", "--queue-log", str(log)]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=REPOSITORY,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    store = EventStore(database)
    source = f"queue_log:{log}"
    for _ in range(600):
        if (await store.position(source)).offset > 0:
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    position = await store.position(source)
    assert 0 < position.offset < log.stat().st_size, "killed mid-file"
    again = await asyncio.create_subprocess_exec(*command, cwd=REPOSITORY, env=env)
    assert await again.wait() == 0
    assert await store.count() == len(lines)
    assert await stored_figures(database) == expected(lines)


async def test_thresholds_changed_since_ingestion_give_the_same_figures_before_and_after_rebuild(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    write(log, day_of_calls(300, spacing_s=600))
    await QueueLogIngester(EventStore(database), log).ingest()
    stricter = Thresholds(service_level_s=10, per_queue_service_level_s={"support": 8})
    start, end = reports.interval("2026-11-29", "2026-12-03", ZoneInfo("Asia/Tehran"))
    calendar = reports.Calendar.for_language("Asia/Tehran", "en")
    expected = queue_figures(
        await EventStore(database).load_interval(start, end), start, end, stricter
    )

    async def shown() -> dict[str, object]:
        rows = await reports.queue_report(
            database, start, end, reports.Period.ALL, calendar, stricter
        )
        return {row.figures.queue: row.figures for row in rows}

    async with database.autocommit() as connection:
        assert not await sums.quarters_fit(connection, start, end, stricter)
    assert await shown() == expected  # from the calls themselves
    assert await EventStore(database, stricter).rebuild_quarters() > 0
    async with database.autocommit() as connection:
        assert await sums.quarters_fit(connection, start, end, stricter)
    assert await shown() == expected  # from the rebuilt quarter sums


async def test_asterisk_restarting_mid_call_ends_the_waiting_caller_as_lost_in_the_report(
    database: Database, tmp_path: Path
) -> None:
    log = tmp_path / "queue_log"
    write(log, [f"{T0}|r1|support|NONE|ENTERQUEUE||09121111111|1"])
    store = EventStore(database)
    ingester = QueueLogIngester(store, log)
    await ingester.ingest()
    # Asterisk restarts: the caller's channel is gone without an end line, then QUEUESTART.
    write(log, [f"{T0 + 40}|NONE|NONE|NONE|QUEUESTART|"], "a")
    await ingester.ingest()
    start, end = reports.interval("2026-11-30", "2026-11-30", ZoneInfo("Asia/Tehran"))
    calendar = reports.Calendar.for_language("Asia/Tehran", "en")
    rows = await reports.queue_report(
        database, start, end, reports.Period.ALL, calendar, THRESHOLDS
    )
    support = next(row.figures for row in rows if row.figures.queue == "support")
    assert (support.offered, support.lost, support.waiting, support.longest_wait_s) == (1, 1, 0, 40)
    events = await store.load_interval(start, end)
    assert queue_figures(events, start, end, THRESHOLDS)["support"] == support
