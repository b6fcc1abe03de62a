"""`tamas migrate`: create or upgrade the database schema to the newest revision.

Safe to repeat (an up-to-date database is left alone) and safe to interrupt (the upgrade is
one transaction, so a second run starts from a clean state)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from alembic.util import CommandError as AlembicError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from integrations import migrations
from tamas.errors import CommandError
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--status",
        action="store_true",
        help="print the database's revision and the newest one, change nothing",
    )
    parser.add_argument(
        "--to", default="head", metavar="REVISION", help="target revision (default: head)"
    )
    parser.add_argument(
        "--new",
        metavar="MESSAGE",
        help="for developers: write the next revision from what the models add to the"
        " (up to date) database, to review before committing",
    )


def where(url: str) -> str:
    # Never print a password from the URL.
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database_errors(url_named: str, example: str) -> Iterator[None]:
    """A bad URL, an unreachable server or a schema Tamas does not manage, as a CommandError
    saying what to fix: `url_named` is where the URL came from, `example` how to give one."""
    try:
        yield
    except ArgumentError as error:
        raise CommandError(
            f"{url_named} is not a valid SQLAlchemy URL ({error}); {example}"
        ) from error
    except (OperationalError, DBAPIError, OSError) as error:
        raise CommandError(
            f"{migrations.unreachable(error)}; check {url_named} and that the server is running"
        ) from error
    except migrations.SchemaNotManaged as error:
        raise CommandError(str(error)) from error


async def run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.effective_database_url
    # Alembic narrates every step at INFO; the one line printed below says what happened.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        with database_errors(
            "database_url", "set TAMAS_DATABASE_URL to e.g. postgresql+asyncpg://user@host/tamas"
        ):
            shown = where(url)
            if args.status:
                current, head = await migrations.status(url)
                state = "up to date" if current == head else "needs `tamas migrate`"
                print(f"{shown}: revision {current or 'none'}, newest {head} ({state})")
                return 0
            if args.new:
                current, head = await migrations.status(url)
                if current != head:
                    raise CommandError(
                        f"{shown} is at revision {current or 'none'}, not {head}: run"
                        " `tamas migrate` first, so the new revision holds only the new changes"
                    )
                for path in await migrations.new_revision(url, args.new):
                    print(f"wrote {path}; review it, then `ruff format` it")
                return 0
            outcome = await migrations.upgrade(url, args.to)
    except AlembicError as error:
        # An unknown revision, or one behind the database (this command only upgrades).
        raise CommandError(
            f"{error}; `tamas migrate --status` shows the database's revision and the newest"
        ) from error
    messages = {
        "upgraded": f"{shown}: schema upgraded to {args.to}",
        "unchanged": f"{shown}: schema already at {args.to}, nothing to do",
        "adopted": f"{shown}: existing schema matches the models; recorded it as migrated",
    }
    print(messages[outcome])
    return 0
