"""An insurer plugs its own core system in by naming an adapter factory in the settings."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import pytest

from integrations.customer_file import (
    CustomerFile,
    CustomerFileError,
    SqlCustomerFile,
    open_customer_file,
)
from integrations.customer_file.rest import RestCustomerFile
from integrations.database import Database
from tamas.settings import load

ADAPTER_MODULE = '''
"""An insurer's adapter: phones answered from its own directory, the rest from our tables."""

from integrations.customer_file.sql import SqlCustomerFile
from customer_file.views import CustomerSummary


class DirectoryCustomerFile(SqlCustomerFile):
    async def customer_by_phone(self, phone):
        if phone != "+989121234567":
            return None
        return CustomerSummary(
            id=42, kind="person", given_name_fa="سارا", family_name_fa="احمدی",
            given_name_latin="Sara", family_name_latin="Ahmadi", gender="female",
            language="fa", tier="vip", id_last4="1234", has_pin=False,
        )


def make(settings, database):
    return DirectoryCustomerFile(database, settings.default_region)


def broken(settings, database):
    return object()
'''


@pytest.fixture
def insurer_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "insurer_adapter.py").write_text(textwrap.dedent(ADAPTER_MODULE), "utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return "insurer_adapter"


def test_by_default_tamas_reads_its_own_tables(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    assert isinstance(open_customer_file(load(env={}), database), SqlCustomerFile)


async def test_the_adapter_named_in_the_settings_answers(
    tmp_path: Path, insurer_module: str
) -> None:
    settings = load(env={"TAMAS_CUSTOMER_FILE_ADAPTER": f"{insurer_module}:make"})
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    customer_file = open_customer_file(settings, database)
    caller = await customer_file.customer_by_phone("+989121234567")
    assert caller is not None and caller.name_latin == "Sara Ahmadi"
    await database.dispose()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("insurer_adapter", "must look like"),
        ("no_such_module:make", "cannot be loaded"),
        ("insurer_adapter:missing", "cannot be loaded"),
        ("insurer_adapter:broken", "lacking branches_near"),
    ],
)
def test_a_wrong_adapter_setting_says_what_to_fix(
    tmp_path: Path, insurer_module: str, target: str, message: str
) -> None:
    settings = load(env={"TAMAS_CUSTOMER_FILE_ADAPTER": target})
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(CustomerFileError, match=message):
        open_customer_file(settings, database)


def _parameters(method: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(method)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values() if p.name != "self"]


@pytest.mark.parametrize("adapter_class", [SqlCustomerFile, RestCustomerFile])
def test_every_port_method_of_our_adapters_takes_the_ports_parameters(
    adapter_class: type, tmp_path: Path
) -> None:
    # Methods answered by a store (answered_by) take the store's signature: it must be the
    # port's, name for name and default for default.
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    if adapter_class is RestCustomerFile:
        adapter = RestCustomerFile("https://core.example/tamas", database)
    else:
        adapter = SqlCustomerFile(database)
    assert isinstance(adapter, CustomerFile)
    port_methods = [name for name in dir(CustomerFile) if not name.startswith("_")]
    assert "create_callback_task" in port_methods and "branches_near" in port_methods
    for name in port_methods:
        port_method = getattr(CustomerFile, name)
        assert _parameters(getattr(adapter, name)) == _parameters(port_method), name
