"""Layers that point one way: Asterisk → transport (agi_scripts/) → domain. The transport knows
no menu, no customer file and no database; the command that starts a server composes the
routes. Read from the source (each file's syntax tree), so a lazy import inside a function
counts as much as one at the top."""

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
)


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
        for path in sorted((REPOSITORY / "agi_scripts").glob("**/*.py"))
        for module in _imported_modules(path)
        if module.split(".")[0] in NOT_FOR_THE_TRANSPORT
    }
    assert offending == set()


def test_no_library_imports_the_command_line() -> None:
    # Commands raise tamas.errors.CommandError; only the entry point imports tamas.cli.
    packages = ("tamas", "ivr", "agi_scripts", "popup_server", "prompts", "integrations")
    offending = {
        str(path.relative_to(REPOSITORY))
        for package in packages
        for path in sorted((REPOSITORY / package).glob("**/*.py"))
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
