"""What reaches the log: whole lines masked, tracebacks included, and database errors that
never quote the values they were given (a national ID looked up, a phone number)."""

from __future__ import annotations

import io
import logging

import pytest
from sqlalchemy import column, select, table

from integrations.database import Database
from tamas import logs

NATIONAL_ID = "0087654326"


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.formatter())
    logger = logging.getLogger(f"tamas.test.{id(stream)}")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_a_traceback_is_masked_like_the_message() -> None:
    stream = io.StringIO()
    try:
        raise LookupError(f"no customer with national id {NATIONAL_ID} (PIN: 4821)")
    except LookupError:
        _logger(stream).exception("lookup failed")
    written = stream.getvalue()
    assert "Traceback" in written
    assert NATIONAL_ID not in written
    assert "4821" not in written
    assert "008****326" in written


def test_arguments_formatted_into_the_message_are_masked() -> None:
    stream = io.StringIO()
    _logger(stream).warning("caller keyed %s", NATIONAL_ID)
    assert NATIONAL_ID not in stream.getvalue()


async def test_a_failing_national_id_lookup_logs_neither_the_id_nor_its_parameters(
    database: Database,
) -> None:
    stream = io.StringIO()
    customers = table("no_such_customers", column("id"), column("national_id"))
    with pytest.raises(Exception) as failure:
        async with database.session() as session:
            await session.execute(
                select(customers.c.id).where(customers.c.national_id == NATIONAL_ID)
            )
    assert NATIONAL_ID not in str(failure.value)
    try:
        raise failure.value
    except Exception:
        _logger(stream).exception("customer file: national_id failed")
    written = stream.getvalue()
    assert "no_such_customers" in written  # the statement is still there to debug with
    assert NATIONAL_ID not in written
    assert "[parameters:" not in written
