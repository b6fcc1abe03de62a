"""Alembic's environment for Tamas. Normally run through `integrations.migrations.upgrade`,
which hands over an open connection inside its transaction; run directly (alembic's own
commands with `alembic_config(url)`), it opens an async engine itself."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import Connection

from integrations.migrations import load_models, migration_engine

config = context.config
metadata = load_models()


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies the table instead.
        render_as_batch=True,
        # One transaction for the whole upgrade, SQLite included (see migration_engine).
        transactional_ddl=True,
        on_version_apply=config.attributes.get("on_version_apply", ()),
    )


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine() -> None:
    engine = migration_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


given: Any = config.attributes.get("connection")
if context.is_offline_mode():
    _run_offline()
elif given is not None:
    _run(given)
else:
    asyncio.run(_run_with_own_engine())
