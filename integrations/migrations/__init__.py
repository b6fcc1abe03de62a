"""The database schema's history (Alembic), configured in code: no alembic.ini to find.

`upgrade(url)` brings a database to the newest revision; `tamas migrate` calls it. The whole
upgrade runs in one transaction, on PostgreSQL and on SQLite alike, so a run interrupted
halfway leaves the database as it was and can simply be run again. Servers never migrate
(several `tamas agi` starting together would race): they call `require_current` and stop.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from integrations.database import Base, Database, make_engine
from tamas.errors import CommandError

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"
# Every module that declares tables on Base. Listed here, once, so that autogenerate and the
# schema check see the whole schema; a new model module is added to this tuple.
MODEL_MODULES = (
    "integrations.customer_file",
    "interactions.table",
    "integrations.messaging.outbox",
    "integrations.messaging.inbox",
    "popup_server.models",
    "popup_server.audit",
    "dialer.tables",
    "dialer.trunks",
    "cases.tables",
    "cases.caller_requests",
    "messaging.notice_store",
    "messaging.notice_templates",
    "supervisors.events",
    "supervisors.alert_notices",
)


def load_models() -> MetaData:
    """Import every model module; returns the metadata they declare their tables on."""
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata


class SchemaNotManaged(Exception):
    """The database has tables but no migration history, and they differ from the models."""


class SchemaNotReady(CommandError):
    """A server cannot start on this database: its schema is not the revision this code needs,
    or it cannot be reached to tell. The message says what to do."""


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    # Stable, sortable file names: 0001_customer_file.py.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def migration_engine(url: str) -> AsyncEngine:
    """An engine whose transactions cover DDL on SQLite too.

    Python's sqlite3 driver commits DDL statement by statement unless it is told to leave
    transactions to us; then a failed or killed upgrade rolls back whole."""
    engine = make_engine(url)
    if make_url(url).get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _no_driver_transactions(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def schema_differences(connection: Connection) -> list[Any]:
    """What the models declare that the database lacks, or the other way round."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, load_models()))


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str, hooks: dict[str, Any]) -> str:
    """Runs inside the caller's transaction; returns what it did."""
    tables = set(inspect(connection).get_table_names())
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes.update(hooks)
    if VERSION_TABLE not in tables and tables & set(load_models().tables):
        # Built by Base.metadata.create_all (an older Tamas, a test helper): adopt it if it
        # is exactly what the first revisions would have built, else refuse to guess.
        differences = schema_differences(connection)
        if differences:
            raise SchemaNotManaged(
                f"the database has Tamas tables but no migration history, and {len(differences)}"
                " differences from the current models; back it up and migrate a fresh database"
            )
        alembic_command.stamp(config, "head")
        return "adopted"
    before = current_revision(connection)
    alembic_command.upgrade(config, revision)
    after = current_revision(connection)
    return "unchanged" if before == after else "upgraded"


async def upgrade(url: str, revision: str = "head", **hooks: Any) -> str:
    """Bring the database at `url` to `revision`: "upgraded", "unchanged" or "adopted".

    `hooks` go to the migration environment (tests pass `on_version_apply`)."""
    engine = migration_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(_upgrade, revision, hooks)
    finally:
        await engine.dispose()


def next_revision_id() -> str:
    """Revisions are numbered 0001, 0002...: the order they apply in is the order they sort in."""
    script = ScriptDirectory.from_config(alembic_config())
    numbers = [int(rev.revision) for rev in script.walk_revisions() if rev.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


async def new_revision(url: str, message: str) -> list[Path]:
    """Write the next revision: what the models declare that the database at `url` (which
    must be at the newest revision) lacks. Returns the files written, to review and edit."""
    engine = migration_engine(url)
    written: list[Path] = []

    def generate(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        scripts = alembic_command.revision(
            config, message=message, autogenerate=True, rev_id=next_revision_id()
        )
        for script in scripts if isinstance(scripts, list) else [scripts]:
            if script is not None:
                written.append(Path(script.path))

    try:
        async with engine.begin() as connection:
            await connection.run_sync(generate)
    finally:
        await engine.dispose()
    return written


async def status(url: str) -> tuple[str | None, str | None]:
    """(current revision of the database, newest revision in the code)."""
    engine = migration_engine(url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(current_revision)
    finally:
        await engine.dispose()
    return current, head_revision()


def unreachable(error: Exception) -> str:
    """What a failed connection says, in one line (a driver's error can run to a page)."""
    return f"cannot reach the database ({type(error).__name__}: {str(error).splitlines()[0]})"


async def require_current(database: Database) -> None:
    """Raise `SchemaNotReady` unless `database` is at the newest revision: what a server
    checks on start instead of migrating (several starting together would race)."""
    try:
        async with database.engine.connect() as connection:
            current = await connection.run_sync(current_revision)
    except (OperationalError, DBAPIError, OSError) as error:
        raise SchemaNotReady(
            f"{unreachable(error)}; check database_url and that the server is running"
        ) from error
    head = head_revision()
    if current != head:
        raise SchemaNotReady(
            f"the database schema is at revision {current or 'none'}, this Tamas needs {head};"
            " run `tamas migrate` first (servers never migrate on start)"
        )
