"""`SqlCustomerFile`: the whole `CustomerFile` port on Tamas's own tables (SQLite or
PostgreSQL), the adapter an installation uses until it points Tamas at its core system.

It is the sum of two stores, one per kind of record: the insurer's core records
(`core_records.CoreRecords`: customers, policies, claims, debts, places, shareholders) and
Tamas's own (`own_records.OwnRecords`: complaints, callback tasks, interaction records). Only
the agent's popup file reads both, on one connection.
"""

from __future__ import annotations

from customer_file.views import CustomerFileView
from integrations.customer_file.core_records import CoreRecords
from integrations.customer_file.own_records import OwnRecords, OwnRecordsMethods
from integrations.database import Database


class SqlCustomerFile(CoreRecords, OwnRecordsMethods):
    """The customer file on our own tables. Implements `CustomerFile`."""

    def __init__(self, database: Database, region: str = "IR") -> None:
        super().__init__(database, region)
        self.own_records = OwnRecords(database, region)

    async def customer_file(self, customer_id: int) -> CustomerFileView | None:
        # Built as the agent's phone rings: nine small indexed reads in sequence on one
        # connection, each a statement compiled once, rows turned straight into views.
        async with self._reading() as connection:
            file = await self.core_file(connection, customer_id)
            if file is None:
                return None
            return await self.own_records.add_to_file(file, connection)
