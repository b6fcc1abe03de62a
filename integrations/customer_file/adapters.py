"""Which customer file this installation reads: our own tables, or the insurer's core system.

An insurer writes a class implementing `CustomerFile` (over SQL views of its database, or its
REST services) and a factory `make(settings, database) -> CustomerFile`, and names the
factory in the `customer_file_adapter` setting (`"mycompany.tamas_adapter:make"`). Every
part of Tamas opens the customer file through `open_customer_file`, so no menu changes.
"""

from __future__ import annotations

import importlib
from typing import Any

from customer_file.port import CustomerFile, CustomerFileError
from integrations.customer_file.own_records import configured_case_types
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database


def open_customer_file(settings: Any, database: Database) -> CustomerFile:
    """The adapter `settings.customer_file_adapter` names; empty means our own tables."""
    target = getattr(settings, "customer_file_adapter", "") or ""
    if not target:
        return SqlCustomerFile(database, settings.default_region, configured_case_types(settings))
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise CustomerFileError(
            f"customer_file_adapter {target!r} must look like 'package.module:factory'"
        )
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise CustomerFileError(
            f"customer_file_adapter {target!r} cannot be loaded ({error}); check the module"
            " is installed in Tamas's environment and defines that factory"
        ) from error
    adapter = factory(settings, database)
    if not isinstance(adapter, CustomerFile):
        missing = sorted(
            name
            for name in dir(CustomerFile)
            if not name.startswith("_") and not callable(getattr(adapter, name, None))
        )
        raise CustomerFileError(
            f"customer_file_adapter {target!r} returned a {type(adapter).__name__} lacking"
            f" {', '.join(missing)}"
        )
    return adapter
