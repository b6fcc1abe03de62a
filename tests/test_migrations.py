"""The schema is built one way: the migrations. They must build exactly what the models
declare, be safe to repeat, and leave nothing half-built when a run is interrupted."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from integrations import migrations
from integrations.database import Base, Database
from integrations.migrations import command as migrate_command
from tamas import settings as tamas_settings
from tamas.errors import CommandError

migrations.load_models()


async def _table_names(database: Database) -> set[str]:
    async with database.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_build_exactly_the_schema_the_models_declare(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(migrations.schema_differences)
    assert differences == []
    assert set(Base.metadata.tables) <= await _table_names(database)


async def test_phone_lookup_is_backed_by_a_unique_index(database: Database) -> None:
    async with database.engine.connect() as connection:
        indexes = await connection.run_sync(lambda c: inspect(c).get_indexes("phones"))
    e164 = [index for index in indexes if index["column_names"] == ["e164"]]
    assert e164 and e164[0]["unique"]


async def test_migrating_again_changes_nothing(database: Database) -> None:
    assert await migrations.upgrade(database.url) == "unchanged"
    async with database.engine.connect() as connection:
        revision = await connection.run_sync(migrations.current_revision)
    assert revision == migrations.head_revision()


async def test_an_interrupted_migration_leaves_no_half_built_schema(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql(f"DROP TABLE {migrations.VERSION_TABLE}")
    await database.engine.dispose()

    def crash_after_creating_tables(**_context: Any) -> None:
        # Every table of the revision exists now, uncommitted: the power fails.
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        await migrations.upgrade(database.url, on_version_apply=crash_after_creating_tables)
    assert await _table_names(database) == set()
    assert await migrations.upgrade(database.url) == "upgraded"
    assert set(Base.metadata.tables) <= await _table_names(database)


async def test_a_schema_built_by_create_all_is_adopted(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'create_all.sqlite3'}"
    database = Database(url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        assert await migrations.upgrade(url) == "adopted"
        assert await migrations.upgrade(url) == "unchanged"
    finally:
        await database.dispose()


def _settings_for(url: str) -> tamas_settings.Settings:
    return tamas_settings.load(env={"TAMAS_DATABASE_URL": url}, config_file=None)


def _args(**values: Any) -> Any:
    import argparse

    parser = argparse.ArgumentParser()
    migrate_command.configure(parser)
    return parser.parse_args([f"--{k}" if v is True else f"--{k}={v}" for k, v in values.items()])


async def test_tamas_migrate_upgrades_then_reports_nothing_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    assert await migrate_command.run(_args(), _settings_for(url)) == 0
    assert "schema upgraded" in capsys.readouterr().out
    assert await migrate_command.run(_args(), _settings_for(url)) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert await migrate_command.run(_args(status=True), _settings_for(url)) == 0
    assert "up to date" in capsys.readouterr().out


async def test_tamas_migrate_explains_an_unreachable_database() -> None:
    url = "postgresql+asyncpg://tamas@127.0.0.1:1/tamas"
    with pytest.raises(CommandError, match="cannot reach the database"):
        await asyncio.wait_for(migrate_command.run(_args(), _settings_for(url)), 30)


async def test_tamas_migrate_explains_an_unknown_target_revision(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    with pytest.raises(CommandError, match="--status"):
        await migrate_command.run(_args(to="nonsense"), _settings_for(url))


async def test_with_models_and_migrations_in_step_a_new_revision_would_be_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'dev.sqlite3'}"
    with pytest.raises(CommandError, match="run `tamas migrate` first"):
        await migrate_command.run(_args(new="nothing"), _settings_for(url))
    await migrations.upgrade(url)
    versions = tmp_path / "versions"
    versions.mkdir()
    for existing in (migrations.MIGRATIONS_DIR / "versions").glob("*.py"):
        (versions / existing.name).write_text(existing.read_text("utf-8"), "utf-8")
    original = migrations.alembic_config

    def config_writing_to_tmp(url: str | None = None) -> Any:
        config = original(url)
        config.set_main_option("version_locations", str(versions))
        return config

    monkeypatch.setattr(migrations, "alembic_config", config_writing_to_tmp)
    expected = f"{migrations.next_revision_id()}_nothing_new.py"
    [path] = await migrations.new_revision(url, "nothing new")
    assert (path.parent, path.name) == (versions, expected)
    body = path.read_text("utf-8")
    assert "op.create_table" not in body and "op.add_column" not in body


async def test_revision_0006_keeps_the_policy_number_of_existing_tasks(database: Database) -> None:
    async with database.engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql(f"DROP TABLE {migrations.VERSION_TABLE}")
    await database.engine.dispose()
    await migrations.upgrade(database.url, "0005")
    async with database.engine.begin() as connection:
        for statement in (
            "INSERT INTO customers (id, kind, given_name_fa, family_name_fa, given_name_latin,"
            " family_name_latin, language, tier) VALUES (1, 'person', '', 'x', '', '', 'fa',"
            " 'regular')",
            "INSERT INTO policies (id, number, authenticity_code, customer_id, line, status,"
            " start_date, end_date, premium_rials, insured_objects) VALUES (1, '140210001234',"
            " 'A1', 1, 'fire', 'active', '2026-01-01', '2027-01-01', 1, '[]')",
            "INSERT INTO callback_tasks (tracking_number, kind, customer_id, phone, policy_id,"
            " status) VALUES ('51234567', 'renewal', 1, '+989121234567', 1, 'open')",
        ):
            await connection.exec_driver_sql(statement)
    await database.engine.dispose()
    assert await migrations.upgrade(database.url) == "upgraded"
    async with database.engine.connect() as connection:
        # The task is a case since 0023: its request keeps the policy number.
        number = (
            await connection.exec_driver_sql("SELECT policy_number FROM caller_requests")
        ).scalar()
        differences = await connection.run_sync(migrations.schema_differences)
    assert number == "140210001234"
    assert differences == []
