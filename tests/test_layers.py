"""Layers that point one way: Asterisk → transport (agi_scripts/) → domain. The transport knows
no menu, no customer file and no database; the command that starts a server composes the
routes. Read from the source (each file's syntax tree), so a lazy import inside a function
counts as much as one at the top.

And one owner per record: the interactions table is `interactions/`'s. Every other package
reads and writes interaction records through `interactions.records`, so the shape of a record
and the meaning of its outcome are decided in one place (the dialer, reports and cases build
on it)."""

from __future__ import annotations

import ast
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
# Everything above the transport: the domain, its adapters and the pages.
NOT_FOR_THE_TRANSPORT = (
    "ivr",
    "integrations",
    "interactions",
    "customer_file",
    "popup_server",
    "prompts",
    "dialer",
    "supervisors",
    "cases",
    "messaging",
)
# Every package but `interactions/`, the interactions table's owner.
NOT_THE_OWNER = (
    "agi_scripts",
    "cases",
    "customer_file",
    "dialer",
    "integrations",
    "ivr",
    "popup_server",
    "prompts",
    "messaging",
    "supervisors",
    "tamas",
)


def _sources(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((REPOSITORY / package).rglob("*.py"))]


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_under_agi_scripts_imports_the_ivr_or_the_integrations() -> None:
    offending = {
        f"{path.relative_to(REPOSITORY)} imports {module}"
        for path in _sources("agi_scripts")
        for module in _imported_modules(path)
        if module.split(".")[0] in NOT_FOR_THE_TRANSPORT
    }
    assert offending == set()


def test_no_library_imports_the_command_line() -> None:
    # Commands raise tamas.errors.CommandError; only the entry point imports tamas.cli.
    packages = ("tamas", "ivr", "agi_scripts", "popup_server", "prompts", "integrations")
    offending = {
        str(path.relative_to(REPOSITORY))
        for path in _sources(*packages)
        if path.name != "cli.py" and "tamas.cli" in _imported_modules(path)
    }
    assert offending == set()


def test_the_transport_routes_and_the_ivr_routes_are_one_type() -> None:
    # One Route over the shared command base: ivr/routes.py declares no second one.
    tree = ast.parse((REPOSITORY / "ivr" / "routes.py").read_text(encoding="utf-8"))
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "Route" not in assigned


def test_only_the_owner_imports_the_interactions_table() -> None:
    offenders = [
        str(path.relative_to(REPOSITORY))
        for path in _sources(*NOT_THE_OWNER)
        if "interactions.table" in _imported_modules(path)
    ]
    assert offenders == []


def test_no_sql_names_the_interactions_table_outside_its_owner() -> None:
    offenders = [
        str(path.relative_to(REPOSITORY))
        for path in _sources(*NOT_THE_OWNER)
        if "migrations/versions" not in path.as_posix()
        and any(
            phrase in path.read_text(encoding="utf-8").lower()
            for phrase in (
                "insert into interactions",
                "update interactions",
                "from interactions where",
                "join interactions",
            )
        )
    ]
    assert offenders == []
