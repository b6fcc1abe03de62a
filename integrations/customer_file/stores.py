"""What the customer file's stores on our own tables share, and how an adapter answers the
port's methods from the stores it holds: one line a method,
`debts = answered_by("customers", CustomerRecords.debts)`, the signature stated once, by the
store (and checked by mypy against the port).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncConnection

from integrations.database import Database

Params = ParamSpec("Params")
Answer = TypeVar("Answer")
StoreT = TypeVar("StoreT")


class Store:
    """Records of one concept in our own tables: read on bare connections, written through
    ORM sessions."""

    def __init__(self, database: Database, region: str = "IR") -> None:
        self.database = database
        # Country assumed for numbers written without a country code (settings.default_region).
        self.region = region

    def _reading(self) -> AbstractAsyncContextManager[AsyncConnection]:
        """A bare connection for reads: no ORM session to set up, and no BEGIN/ROLLBACK pair
        around them (`Database.autocommit`)."""
        return self.database.autocommit()


class answered_by(Generic[StoreT, Params, Answer]):
    """A port method of an adapter, answered by the store in the adapter's attribute `store`:
    the adapter's method is the store's bound method, with its signature."""

    def __init__(self, store: str, method: Callable[Concatenate[StoreT, Params], Answer]) -> None:
        self.store = store
        self.name = method.__name__

    @overload
    def __get__(self, adapter: None, owner: type | None = None) -> Self: ...

    @overload
    def __get__(self, adapter: object, owner: type | None = None) -> Callable[Params, Answer]: ...

    def __get__(self, adapter: object | None, owner: type | None = None) -> Any:
        if adapter is None:
            return self
        return getattr(getattr(adapter, self.store), self.name)
