"""The interactions table has one owner: `interactions/`. Every other package reads and writes
interaction records through `interactions.records`, so the shape of a record and the meaning
of its outcome are decided in one place (the dialer, reports and cases build on it)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "agi_scripts",
    "customer_file",
    "dialer",
    "integrations",
    "ivr",
    "popup_server",
    "prompts",
    "tamas",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_only_the_owner_imports_the_interactions_table() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "interactions.table" in _imports(path)
    ]
    assert offenders == []


def test_no_sql_names_the_interactions_table_outside_its_owner() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
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
