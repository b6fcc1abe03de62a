"""Fixtures that build real things: databases on SQLite and on the local PostgreSQL, the
Asterisk sandbox, Chromium, a popup server."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, async_playwright
from popup_support import RunningServer, serving

from integrations.database import Database
from integrations.migrations import upgrade
from tamas.settings import Settings
from tamas.settings import load as load_settings

POSTGRES_ADMIN_DSN = os.environ.get("TAMAS_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
# One database per test process, so two test runs on one machine do not drop each other's.
POSTGRES_TEST_DB = f"tamas_test_{os.getpid()}"


# Migrated once per test process into a template; each test gets a copy, which is several
# times faster than migrating (or emptying every table) again.
POSTGRES_TEMPLATE_DB = f"tamas_template_{os.getpid()}"
_prepared: dict[str, Any] = {}


def _postgres_url(name: str) -> str:
    return f"postgresql+asyncpg://{POSTGRES_ADMIN_DSN.split('://', 1)[1]}/{name}"


async def _drop_database(admin: asyncpg.Connection, name: str) -> None:
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _fresh_postgres_database(name: str) -> str:
    admin = await asyncpg.connect(f"{POSTGRES_ADMIN_DSN}/postgres")
    try:
        if "postgresql_template" not in _prepared:
            await _drop_database(admin, POSTGRES_TEMPLATE_DB)
            await admin.execute(f'CREATE DATABASE "{POSTGRES_TEMPLATE_DB}"')
            await upgrade(_postgres_url(POSTGRES_TEMPLATE_DB))
            _prepared["postgresql_template"] = True
        await _drop_database(admin, name)
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{POSTGRES_TEMPLATE_DB}"')
    finally:
        await admin.close()
    return _postgres_url(name)


async def _fresh_sqlite_database(path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    template = _prepared.get("sqlite_template")
    if template is None:
        template = tmp_path_factory.mktemp("template") / "tamas.sqlite3"
        await upgrade(f"sqlite+aiosqlite:///{template}")
        _prepared["sqlite_template"] = template
    shutil.copyfile(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_databases() -> Iterator[None]:
    yield
    if "postgresql_template" in _prepared:

        async def drop() -> None:
            admin = await asyncpg.connect(f"{POSTGRES_ADMIN_DSN}/postgres")
            try:
                await _drop_database(admin, POSTGRES_TEST_DB)
                await _drop_database(admin, POSTGRES_TEMPLATE_DB)
            finally:
                await admin.close()

        asyncio.run(drop())


@pytest.fixture(params=["sqlite", "postgresql"])
async def database(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """An empty database with the whole schema, once on SQLite and once on PostgreSQL.
    The schema is built the one way Tamas builds it: by running the migrations (once per
    test process, into a template that tests get copies of)."""
    if request.param == "sqlite":
        url = await _fresh_sqlite_database(tmp_path / "tamas.sqlite3", tmp_path_factory)
    else:
        url = await _fresh_postgres_database(POSTGRES_TEST_DB)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def asterisk_sandbox() -> Settings:
    """Settings of the running Asterisk sandbox; starts it if needed (never rebuilds a root
    that exists, so this takes seconds once `tamas sandbox up` has run on the machine)."""
    from tamas.asterisk import sandbox

    config = load_settings()
    if sandbox.version(config) is None or not sandbox.ami_answers(config):
        sandbox.up(config)
    return config


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """A headless Chromium (Debian's)."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


@pytest.fixture
async def server(database: Database) -> AsyncIterator[RunningServer]:
    """A popup server on a loopback port with agent 101 (a module whose tests need other
    agents or settings defines its own `server`)."""
    async with serving(database, "101") as running:
        yield running


@pytest.fixture
async def sms_provider() -> AsyncIterator[Any]:
    """A local SMS provider on a loopback port speaking both built-in HTTP profiles
    (bench/local_sms_gateway.py), stopped after."""
    from bench.local_sms_gateway import LocalSmsGateway

    local = await LocalSmsGateway().start()
    try:
        yield local
    finally:
        await local.stop()
