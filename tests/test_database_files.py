"""The SQLite database holds the customer file: only its owner may read it or list its
folder, whatever the umask of the shell that first started Tamas."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from integrations.database import Database
from interactions.records import CallPart, InteractionRecords


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _others_bits(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode) & 0o077


@pytest.mark.usefixtures("permissive_umask")
async def test_the_sqlite_file_and_its_folder_are_created_for_their_owner_only(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "tamas.sqlite3"
    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.autocommit() as connection:
            await connection.execute(text("CREATE TABLE t (national_id TEXT)"))
            await connection.execute(text("INSERT INTO t VALUES ('0087654326')"))
    finally:
        await database.dispose()
    written = [path, *path.parent.glob("tamas.sqlite3-*")]
    assert _others_bits(path.parent) == 0
    for file in written:
        assert _others_bits(file) == 0, file


async def test_a_moment_in_another_zone_comes_back_as_the_same_instant(database: Database) -> None:
    """UtcDateTime stores UTC: SQLite would otherwise keep the wall time and lose the offset."""
    tehran = timezone(timedelta(hours=3, minutes=30))
    started = datetime(2026, 11, 30, 9, 30, tzinfo=tehran)
    records = InteractionRecords(database)
    await records.save_call(CallPart(linkedid="zone-1", caller_number=None, started_at=started))

    row = await records.load("zone-1")

    assert row is not None and row.started_at == started
    assert row.started_at.utcoffset() == timedelta(0)
