"""The one database session factory. SQLite (aiosqlite) on a single box, PostgreSQL (asyncpg)
by URL; every table is declared on `Base`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Dialect, Executable, MetaData, TypeDecorator, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints, so migrations can alter them later (SQLite batch mode needs names).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, always handed back aware and in UTC. PostgreSQL keeps the zone;
    SQLite stores text without one and hands back naive datetimes, which would otherwise need
    a `replace(tzinfo=UTC)` wherever a duration or a comparison is computed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: Tamas stores aware moments only")
        # Stored in UTC: SQLite keeps the wall time and drops the offset, so 09:30+03:30
        # would come back as 09:30 UTC.
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def make_engine(url: str, **options: Any) -> AsyncEngine:
    # Errors never quote their parameters (national IDs, phone numbers) into log lines.
    options.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_file(Path(parsed.database))
        engine = create_async_engine(url, **options)

        # WAL lets the IVR write interaction records while the popup server reads them.
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip on every checkout of the hottest query (caller
    # lookup). A connection the server dropped fails once with a disconnect error, which
    # makes SQLAlchemy discard the whole pool; the caller hears the polite fallback.
    options.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **options)


def _private_file(path: Path) -> None:
    """Create the SQLite file (it holds the customer file) and its folder for their owner
    only, whatever the umask: SQLite gives its -wal and -shm files the database's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o700)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class Database:
    """An engine and its session factory, made once per process."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **options)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection on which each statement stands alone: for single reads and one-row
        writes made while a caller waits, where BEGIN and COMMIT (or ROLLBACK) would double
        the round trips on PostgreSQL. Each statement still sees committed data only."""
        async with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # SQLite's driver opens the transaction itself: commit what was written.
                yield connection
                await connection.commit()
            else:
                yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def write(self, statement: Executable) -> int:
        """Run one UPDATE (or DELETE) in a transaction of its own; how many rows it changed."""
        async with self.session() as session:
            result = await session.execute(statement)
            await session.commit()
        return rowcount(result)

    async def dispose(self) -> None:
        await self.engine.dispose()


def rowcount(result: Any) -> int:
    """How many rows an UPDATE or DELETE changed (0 when the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)
