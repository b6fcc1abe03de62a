"""Transfers behind Local channels, read from the CEL Asterisk's cel_pgsql writes into
PostgreSQL (asterisk_cel): each agent credited the talk they did, each CEL row once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from supervisor_scenario import queue_log_events

from integrations.database import Database
from supervisors.events import EventStore, Position
from supervisors.ingest import CEL_SOURCE, CelIngester
from supervisors.metrics import Thresholds, agent_figures, queue_figures
from supervisors.tables import AsteriskCelRow

T0 = 1_796_000_000
AT = datetime.fromtimestamp(T0, UTC)
START, END = AT - timedelta(hours=1), AT + timedelta(hours=3)


def cel_row(
    n: int, event: str, channel: str, linkedid: str, at_s: int, **extra: str
) -> dict[str, object]:
    """A row as cel_pgsql writes it (the columns it fills; the rest stay empty)."""
    return {
        "eventtype": event,
        "eventtime": AT + timedelta(seconds=at_s),
        "channame": channel,
        "uniqueid": f"{linkedid}-{n}",
        "linkedid": linkedid,
        "exten": "s",
        "context": "tamas-desktop",
        "appname": "",
        "appdata": "",
        "amaflags": 3,
        "extra": json.dumps(extra) if extra else "",
    }


@pytest.fixture
def postgresql_only(database: Database) -> Database:
    if database.url.startswith("sqlite"):
        pytest.skip("Asterisk writes CEL into PostgreSQL only (cel_pgsql)")
    return database


async def test_an_agent_who_transfers_behind_a_local_channel_is_credited_only_their_talk(
    postgresql_only: Database,
) -> None:
    database = postgresql_only
    store = EventStore(database)
    await store.add(
        queue_log_events(
            f"{T0 - 600}|c0|support|Agent 102|CONNECT|0|x|1",  # 102 is a known member
            f"{T0}|L1|support|NONE|ENTERQUEUE||09121111111|1",
            f"{T0 + 10}|L1|support|Agent 101|CONNECT|10|x|1",
            # The caller stayed bridged to Local/101: queue_log credits 101 the whole hour.
            f"{T0 + 3610}|L1|support|Agent 101|COMPLETEAGENT|10|3600|1",
            f"{T0 + 20}|L2|support|NONE|ENTERQUEUE||09122222222|1",
            f"{T0 + 25}|L2|support|Agent 101|CONNECT|5|x|1",
            f"{T0 + 30}|L2|support|Agent 101|BLINDTRANSFER|103|tamas-agents|5|5|1",
        )
    )
    async with database.session() as session:
        await session.execute(
            insert(AsteriskCelRow),
            [
                cel_row(1, "ANSWER", "PJSIP/101-0000002a", "L1", 10),
                # Agent 101's phone transfers the caller to extension 102 after two minutes.
                cel_row(
                    2,
                    "BLINDTRANSFER",
                    "PJSIP/101-0000002a",
                    "L1",
                    130,
                    extension="102",
                    context="tamas-desktop",
                    transferee_channel_name="Local/101@tamas-agents-00000012;2",
                ),
                # The queue's own member channel transferring: queue_log has it already.
                cel_row(
                    3,
                    "BLINDTRANSFER",
                    "Local/101@tamas-agents-00000013;1",
                    "L2",
                    30,
                    extension="103",
                    context="tamas-agents",
                ),
                # A transfer of a call that never was in a queue.
                cel_row(4, "BLINDTRANSFER", "PJSIP/104-0000002c", "X9", 40, extension="105"),
            ],
        )
        await session.commit()
    cel = CelIngester(store)
    assert await cel.ingest() == 1
    assert await cel.ingest() == 0
    await store.save_position(Position(source=CEL_SOURCE))  # the position lost: read again
    assert await cel.ingest() == 0

    events = await store.load_interval(START, END)
    agents = agent_figures(events, START, END, Thresholds())
    assert agents["Agent 101"].talk_s == 120 + 5
    assert (agents["Agent 101"].transfers_blind, agents["Agent 101"].calls_taken) == (2, 2)
    assert agents["Agent 102"].talk_s == 3480
    assert agents["Agent 102"].calls_received_by_transfer == 1
    support = queue_figures(events, START, END, Thresholds())["support"]
    assert (support.answered, support.transfers_blind, support.talk_s) == (2, 2, 3605)


async def test_cel_on_sqlite_is_not_read(database: Database) -> None:
    if not database.url.startswith("sqlite"):
        pytest.skip("the SQLite case")
    assert await CelIngester(EventStore(database)).ingest() == 0


def test_asterisk_is_told_to_write_cel_and_cdr_into_the_postgresql_database_only() -> None:
    from tamas.asterisk import config
    from tamas.settings import Settings

    pg = Settings(database_url="postgresql+asyncpg://tamas:s3cret@db.local:5433/contact")
    files = config.records_to_postgresql(pg)
    assert "dbname=contact" in files["cel_pgsql.conf"]
    assert "table=asterisk_cel" in files["cel_pgsql.conf"]
    assert "hostname=db.local" in files["cdr_pgsql.conf"] and "port=5433" in files["cdr_pgsql.conf"]
    assert "cel_pgsql.so" in config.modules_conf(None, pg)
    assert config.records_to_postgresql(Settings()) == {}
    assert "cel_pgsql.so" not in config.modules_conf(None, Settings())
