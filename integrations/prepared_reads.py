"""Reads (and one-row writes) a caller waits for, run as the database driver's own prepared
statements.

    _BY_PHONE = PreparedRead(select(...).where(Phone.e164 == bindparam("e164")))   # at import
    row = await _BY_PHONE.first(database, {"e164": e164})     # attributes named as the columns
    async with reading(database) as reader:                    # several on one connection
        claim = await reader.first(_CLAIM, {"code": code})
        history = await reader.all(_HISTORY, {"claim_id": claim.id})

On PostgreSQL the SQL is compiled once and run straight on the asyncpg connection checked out
of the project's one pool (asyncpg prepares it once per connection): SQLAlchemy's execution
layer (cache-key lookup, execution context, cursor adaptation, result metadata, a greenlet
switch per step) costs about 0.6 ms of CPU per statement, four times an indexed query itself
(bench/customer_lookup.py times both sides in one run). No BEGIN/ROLLBACK either: each read
stands alone, as on `Database.autocommit()`. Elsewhere (SQLite) the statement runs the ordinary
way on `Database.autocommit()`. Errors surface as SQLAlchemy's `DBAPIError` on both (a broken
unique or other constraint as its `IntegrityError`), so callers catch one kind; a connection
that broke or was cancelled mid-read is not handed out again.

An INSERT (with or without RETURNING) is prepared the same way: `reader.first(write, row)`
returns what it returns, `reader.run(write, row)` nothing. `writing(database)` gives a reader
whose statements make one transaction (for an advisory lock held until the commit).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import namedtuple
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import Insert, Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.util import greenlet_spawn

from integrations.database import Database

Params = Mapping[str, Any] | None


@dataclass(frozen=True)
class _Compiled:
    """A statement as the driver runs it: SQL with $n, and how values go in and come out."""

    compiled: Any  # sqlalchemy's Compiled: fills in values baked into the statement
    sql: str
    names: tuple[str, ...]  # the bind parameter behind each $n
    binders: tuple[Callable[[Any], Any] | None, ...]
    row: Callable[..., Any]  # a named tuple of the selected columns
    readers: tuple[Callable[[Any], Any] | None, ...]

    def arguments(self, params: Params) -> list[Any]:
        values = self.compiled.construct_params(dict(params or {}))
        return [
            values[name] if bind is None else bind(values[name])
            for name, bind in zip(self.names, self.binders, strict=True)
        ]

    def make_row(self, record: Any) -> Any:
        return self.row(
            *(v if read is None else read(v) for v, read in zip(record, self.readers, strict=True))
        )


class PreparedRead:
    """A Core `select` (or `insert`) run often: build it once, at import, like the statement it
    wraps."""

    def __init__(self, statement: Select[*tuple[Any, ...]] | Insert) -> None:
        self.statement = statement
        self.columns = tuple(str(key) for key in statement.exported_columns.keys())
        self._row = namedtuple("Row", self.columns)  # type: ignore[misc]
        self._compiled: dict[str, _Compiled] = {}

    def compiled_for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        binds = compiled.binds
        if any(binds[name].expanding for name in names):
            raise ValueError("PreparedRead: IN with a list of values is not supported")
        return _Compiled(
            compiled=compiled,
            sql=compiled.string,
            names=names,
            binders=tuple(
                binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names
            ),
            row=self._row,
            readers=tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.exported_columns
            ),
        )

    async def first(self, database: Database, params: Params = None) -> Any | None:
        """The first row (attributes named as the selected columns), or None."""
        async with reading(database) as reader:
            return await reader.first(self, params)

    async def all(self, database: Database, params: Params = None) -> list[Any]:
        async with reading(database) as reader:
            return await reader.all(self, params)


class Reader:
    """Reads on one connection; made by `reading()`."""

    async def first(self, read: PreparedRead, params: Params = None) -> Any | None:
        raise NotImplementedError

    async def all(self, read: PreparedRead, params: Params = None) -> list[Any]:
        raise NotImplementedError

    async def run(self, statement: PreparedRead, params: Params = None) -> None:
        """Run a statement that returns nothing (an INSERT without RETURNING)."""
        raise NotImplementedError

    async def one(self, read: PreparedRead, params: Params = None) -> Any:
        """The one row a statement always returns (an INSERT ... RETURNING)."""
        row = await self.first(read, params)
        if row is None:
            raise LookupError("the statement returned no row")
        return row


class _CoreReader(Reader):
    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def first(self, read: PreparedRead, params: Params = None) -> Any | None:
        return (await self.connection.execute(read.statement, dict(params or {}))).first()

    async def all(self, read: PreparedRead, params: Params = None) -> list[Any]:
        return list((await self.connection.execute(read.statement, dict(params or {}))).all())

    async def run(self, statement: PreparedRead, params: Params = None) -> None:
        await self.connection.execute(statement.statement, dict(params or {}))


class _DriverReader(Reader):
    def __init__(self, connection: asyncpg.Connection, dialect: Dialect) -> None:
        self.connection = connection
        self.dialect = dialect
        self.broken = False  # the connection must not go back to the pool

    async def first(self, read: PreparedRead, params: Params = None) -> Any | None:
        compiled = read.compiled_for(self.dialect)
        record = await self._run(self.connection.fetchrow, compiled, params)
        return None if record is None else compiled.make_row(record)

    async def all(self, read: PreparedRead, params: Params = None) -> list[Any]:
        compiled = read.compiled_for(self.dialect)
        records = await self._run(self.connection.fetch, compiled, params)
        return [compiled.make_row(record) for record in records]

    async def run(self, statement: PreparedRead, params: Params = None) -> None:
        compiled = statement.compiled_for(self.dialect)
        await self._run(self.connection.execute, compiled, params)

    async def _run(self, fetch: Callable[..., Any], compiled: _Compiled, params: Params) -> Any:
        return await self.guard(compiled.sql, fetch(compiled.sql, *compiled.arguments(params)))

    async def guard(self, sql: str, step: Awaitable[Any]) -> Any:
        """Await one exchange with the server, its errors as SQLAlchemy's."""
        try:
            return await step
        except asyncio.CancelledError:
            # Cut off mid-exchange: the connection's state is unknown.
            self.broken = True
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
            self.broken = not isinstance(error, asyncpg.PostgresError) or isinstance(
                error, asyncpg.PostgresConnectionError
            )
            # Never the parameters in the message: they are phone numbers and national IDs.
            kind = (
                IntegrityError
                if isinstance(error, asyncpg.IntegrityConstraintViolationError)
                else DBAPIError
            )
            raise kind(
                sql, None, error, hide_parameters=True, connection_invalidated=self.broken
            ) from error


@asynccontextmanager
async def reading(database: Database) -> AsyncIterator[Reader]:
    """A connection for `PreparedRead`s: the driver's own on PostgreSQL (asyncpg), else
    `Database.autocommit()`."""
    engine = database.engine
    if engine.dialect.driver != "asyncpg":
        async with database.autocommit() as connection:
            yield _CoreReader(connection)
        return
    async with _checked_out(database) as reader:
        yield reader


@asynccontextmanager
async def writing(database: Database) -> AsyncIterator[Reader]:
    """A reader whose statements make one transaction, committed when the block ends (rolled
    back if it raises): the driver's own on PostgreSQL, else `engine.begin()`."""
    engine = database.engine
    if engine.dialect.driver != "asyncpg":
        async with engine.begin() as connection:
            yield _CoreReader(connection)
        return
    async with _checked_out(database) as reader:
        transaction = reader.connection.transaction()
        await reader.guard("BEGIN", transaction.start())
        try:
            yield reader
        except BaseException:
            if not reader.broken:
                # A rollback that fails marks the connection broken; the first error stands.
                with contextlib.suppress(DBAPIError):
                    await reader.guard("ROLLBACK", transaction.rollback())
            raise
        await reader.guard("COMMIT", transaction.commit())


@asynccontextmanager
async def _checked_out(database: Database) -> AsyncIterator[_DriverReader]:
    engine = database.engine
    pooled = await engine.raw_connection()
    reader = _DriverReader(pooled.driver_connection, engine.dialect)
    try:
        yield reader
    finally:
        # The pool's own methods may close a connection (await inside): run them as
        # SQLAlchemy runs its own, in a greenlet.
        if reader.broken:
            await greenlet_spawn(pooled.invalidate)
        await greenlet_spawn(pooled.close)
