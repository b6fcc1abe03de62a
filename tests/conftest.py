"""Fixtures that build real things: databases on SQLite and on the local PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from integrations.database import Database
from integrations.migrations import upgrade
from tamas.settings import Settings
from tamas.settings import load as load_settings

POSTGRES_ADMIN_DSN = os.environ.get("TAMAS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
# One database per test process, so two test runs on one machine do not drop each other's.
POSTGRES_TEST_DB = f"tamas_test_{os.getpid()}"


async def _fresh_postgres_database(name: str) -> str:
    admin = await asyncpg.connect(f"{POSTGRES_ADMIN_DSN}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://{POSTGRES_ADMIN_DSN.split('://', 1)[1]}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database with the whole schema, once on SQLite and once on PostgreSQL.
    The schema is built the one way Tamas builds it: by running the migrations."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'tamas.sqlite3'}"
    else:
        url = await _fresh_postgres_database(POSTGRES_TEST_DB)
    await upgrade(url)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()
        if request.param == "postgresql":
            admin = await asyncpg.connect(f"{POSTGRES_ADMIN_DSN}/postgres")
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_TEST_DB}" WITH (FORCE)')
            finally:
                await admin.close()


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Settings:
    """Settings of the running Asterisk sandbox; starts it if needed (never rebuilds a root
    that exists, so this takes seconds once `tamas sandbox up` has run on the machine)."""
    from tamas.asterisk import sandbox

    config = load_settings()
    if sandbox.version(config) is None or not sandbox.ami_answers(config):
        sandbox.up(config)
    return config
