"""The customer file's adapters: what an insurer's core system knows about its customers as
our own tables (`SqlCustomerFile`, the default), or read from the core system over HTTP
(`rest.py`). The port they implement, `CustomerFile`, is domain: `customer_file.port`
(re-exported here for the adapters' users).

Importing this package registers every table on `integrations.database.Base.metadata`.
"""

from customer_file.port import CustomerFile, CustomerFileError, DuplicateCustomer
from integrations.customer_file import (
    claims,
    customers,
    payments,
    places,
    policies,
    shareholders,
)
from integrations.customer_file.adapters import open_customer_file
from integrations.customer_file.sql import SqlCustomerFile

__all__ = [
    "CustomerFile",
    "CustomerFileError",
    "DuplicateCustomer",
    "SqlCustomerFile",
    "claims",
    "customers",
    "open_customer_file",
    "payments",
    "places",
    "policies",
    "shareholders",
]
