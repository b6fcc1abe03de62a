"""The SQLite database holds the customer file: only its owner may read it or list its
folder, whatever the umask of the shell that first started Tamas."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from integrations.database import Database


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
