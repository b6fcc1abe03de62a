"""The adapter contract (tests/customer_file_contract.py) run over Tamas's own adapters: the SQL
adapter on SQLite and on PostgreSQL, and the REST adapter against a local core-system server
(itself answering from a database of the same hand-built file)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from customer_file_contract import CustomerFileContract, KnownRecords
from test_customer_file import (
    AUTHENTICITY_CODE,
    CLAIM_CODE,
    MOBILE,
    NATIONAL_ID,
    POLICY_NUMBER,
    SHAREHOLDER_NUMBER,
    File,
    _build,
)
from test_customer_file_rest import core_url, tamas_database  # noqa: F401 - fixtures

from integrations.customer_file.rest import RestCustomerFile
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database


@pytest.fixture
def known() -> KnownRecords:
    """The hand-built file of test_customer_file."""
    return KnownRecords(
        phone=MOBILE,
        national_id=NATIONAL_ID,
        policy_number=POLICY_NUMBER,
        customer_pin="4321",
        search_text="mohammadi",
        claim_code=CLAIM_CODE,
        authenticity_code=AUTHENTICITY_CODE,
        postal_code="1193653471",
        city="تهران",
        shareholder_number=SHAREHOLDER_NUMBER,
        shareholder_pin="2580",
    )


class TestSqlCustomerFile(CustomerFileContract):
    """Our own tables, on SQLite and on PostgreSQL (the `database` fixture's two params)."""

    @pytest.fixture
    async def adapter(self, database: Database) -> SqlCustomerFile:
        await _build(database)
        return SqlCustomerFile(database)

    @pytest.fixture
    def tamas_database(self, database: Database) -> Database:
        return database


# The core system's own database: SQLite is enough, the SQL adapter's run covers PostgreSQL.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
class TestRestCustomerFile(CustomerFileContract):
    """An insurer's core system over HTTP; Tamas's own records in a database of its own."""

    # The core system's server and Tamas's own database: test_customer_file_rest's fixtures.
    @pytest.fixture
    async def adapter(
        self,
        core_url: tuple[str, File],  # noqa: F811
        tamas_database: Database,  # noqa: F811
    ) -> AsyncIterator[RestCustomerFile]:
        adapter = RestCustomerFile(core_url[0], tamas_database, allow_http=True)
        try:
            yield adapter
        finally:
            await adapter.close()
