"""What an insurer's core system knows about its customers, as tables (the default adapter),
and the small interface the rest of the engine reads it through (`CustomerFile`).

Importing this package registers every table on `integrations.database.Base.metadata`.
"""

from customer_file.port import CustomerFile, CustomerFileError, DuplicateCustomer
from integrations.customer_file import (
    claims,
    customers,
    payments,
    places,
    policies,
    service_requests,
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
    "service_requests",
    "shareholders",
]
