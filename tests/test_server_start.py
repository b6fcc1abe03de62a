"""Long-running servers never migrate the schema (several `tamas agi` starting together would
race); `tamas migrate` does. A server started on an old schema stops and says to run it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from integrations import migrations
from integrations.database import Database
from tamas.cli import main

OLD_REVISION = "0005"


async def _revision(url: str) -> str | None:
    database = Database(url)
    try:
        async with database.engine.connect() as connection:
            return await connection.run_sync(migrations.current_revision)
    finally:
        await database.dispose()


@pytest.fixture
def old_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Settings (by environment) pointing at a database one revision behind the code."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    asyncio.run(migrations.upgrade(url, OLD_REVISION))
    monkeypatch.setenv("TAMAS_DATABASE_URL", url)
    monkeypatch.setenv("TAMAS_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)  # no ./tamas.toml
    return url


@pytest.mark.parametrize(
    "command",
    [["agi", "--port", "0"], ["popup-server", "--port", "0"], ["messages", "send"]],
)
def test_a_server_on_an_old_schema_stops_saying_to_run_tamas_migrate(
    old_schema: str, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(command) == 1
    error = capsys.readouterr().err
    assert f"at revision {OLD_REVISION}" in error
    assert "run `tamas migrate`" in error
    # ... and left the schema alone: migrating is `tamas migrate`'s job only.
    assert asyncio.run(_revision(old_schema)) == OLD_REVISION


def test_a_server_on_an_empty_database_stops_saying_to_run_tamas_migrate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAMAS_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")
    monkeypatch.setenv("TAMAS_DATA_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert main(["agi", "--port", "0"]) == 1
    error = capsys.readouterr().err
    assert "at revision none" in error and "run `tamas migrate`" in error


def test_tamas_migrate_brings_the_schema_a_server_needs(
    old_schema: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert asyncio.run(_revision(old_schema)) == migrations.head_revision()
    database = Database(old_schema)

    async def check() -> None:
        try:
            await migrations.require_current(database)  # raises if not current
        finally:
            await database.dispose()

    asyncio.run(check())
