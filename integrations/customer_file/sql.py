"""`SqlCustomerFile`: the whole `CustomerFile` port on Tamas's own tables (SQLite or
PostgreSQL), the adapter an installation uses until it points Tamas at its core system.

It holds one store per concept: the insurer's core records (`CustomerRecords`: customers,
policies, claims, debts; `PlaceRecords`; `ShareholderRecords`) and Tamas's own
(`OwnRecords`: complaints and callbacks, kept as cases of the `cases` types given, interaction
records), and answers each method of
the port from one of them. Only the agent's popup file reads several, on one connection.
"""

from __future__ import annotations

import dataclasses

from cases.types import CaseTypes
from customer_file.views import CustomerFileView
from integrations.customer_file.customer_records import CustomerRecords
from integrations.customer_file.own_records import OwnRecords, OwnRecordsMethods
from integrations.customer_file.place_records import PlaceRecords
from integrations.customer_file.shareholder_records import ShareholderRecords
from integrations.customer_file.stores import answered_by
from integrations.database import Database


class SqlCustomerFile(OwnRecordsMethods):
    """The customer file on our own tables. Implements `CustomerFile`."""

    def __init__(
        self, database: Database, region: str = "IR", cases: CaseTypes | None = None
    ) -> None:
        self.database = database
        self.customers = CustomerRecords(database, region)
        self.places = PlaceRecords(database, region)
        self.shareholders = ShareholderRecords(database, region)
        self.own_records = OwnRecords(database, region, cases)
        self.own_records.customer_lookup = self.customers.customer

    customer_by_phone = answered_by("customers", CustomerRecords.customer_by_phone)
    customer_by_national_id = answered_by("customers", CustomerRecords.customer_by_national_id)
    customer_by_policy_number = answered_by("customers", CustomerRecords.customer_by_policy_number)
    customer = answered_by("customers", CustomerRecords.customer)
    search_customers = answered_by("customers", CustomerRecords.search_customers)
    register_customer = answered_by("customers", CustomerRecords.register_customer)
    verify_customer_pin = answered_by("customers", CustomerRecords.verify_customer_pin)
    set_customer_pin = answered_by("customers", CustomerRecords.set_customer_pin)
    claim_by_tracking_code = answered_by("customers", CustomerRecords.claim_by_tracking_code)
    policy_for_authenticity = answered_by("customers", CustomerRecords.policy_for_authenticity)
    debts = answered_by("customers", CustomerRecords.debts)

    branches_near = answered_by("places", PlaceRecords.branches_near)
    medical_centres = answered_by("places", PlaceRecords.medical_centres)
    payment_centres = answered_by("places", PlaceRecords.payment_centres)

    shareholder = answered_by("shareholders", ShareholderRecords.shareholder)
    verify_shareholder_pin = answered_by("shareholders", ShareholderRecords.verify_shareholder_pin)
    next_general_meeting = answered_by("shareholders", ShareholderRecords.next_general_meeting)

    async def customer_file(self, customer_id: int) -> CustomerFileView | None:
        # Built as the agent's phone rings: nine small indexed reads in sequence on one
        # connection, each a statement compiled once, rows turned straight into views.
        async with self.database.autocommit() as connection:
            file = await self.customers.file(customer_id, connection)
            if file is None:
                return None
            holding = await self.shareholders.of_customer(customer_id, connection)
            own = await self.own_records.for_customer(customer_id, connection)
        return dataclasses.replace(file, shareholder=holding, **own._asdict())
