"""Data files people configure (the menus, campaign kinds): YAML kept with the line of every
key path, and the checks that report a mistake with the file, the line and the key path
(`menus.main.options.9`), so whoever edits the file finds it without reading Python.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from pathlib import Path
from typing import Any

import yaml

# Python's weekday() numbers, by the names the menu file uses.
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3,
    "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip


class DefinitionError(ValueError):
    """A data file is wrong; the message names the file, line and key."""


class Document:
    """YAML data plus the line of every key path, so errors can point at the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text)
        except yaml.YAMLError as error:
            raise DefinitionError(f"{path}: not valid YAML: {error}") from error
        self.data = self._convert(node, "") if node is not None else {}

    def _convert(self, node: yaml.Node, where: str) -> Any:
        self.lines[where] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = f"{where}.{key}" if where else key
                if key in result:
                    raise DefinitionError(
                        f"{self.path}:{key_node.start_mark.line + 1}: {child}: key given twice"
                    )
                result[key] = self._convert(value_node, child)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [
                self._convert(item, f"{where}[{index}]") for index, item in enumerate(node.value)
            ]
        return yaml.safe_load(yaml.serialize(node))

    def error(self, where: str, message: str) -> DefinitionError:
        probe = where
        while probe and probe not in self.lines:
            probe = probe.rpartition(".")[0]
        line = self.lines.get(probe, 1)
        return DefinitionError(f"{self.path}:{line}: {where}: {message}")


def mapping(doc: Document, value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(where, "must be a mapping of keys to values")
    return value


def known_keys(doc: Document, value: dict[str, Any], where: str, allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in value:
        if key not in allowed:
            raise doc.error(
                f"{where}.{key}", f"unknown key (expected one of: {', '.join(sorted(allowed))})"
            )


def whole_number(doc: Document, value: Any, where: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise doc.error(where, f"must be a whole number >= {low}")
    return value


def nonempty_text(doc: Document, value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(where, "must be a non-empty text")
    return value


def clock_time(doc: Document, text: str, where: str) -> time:
    try:
        hours, minutes = (int(part) for part in text.split(":"))
        return time(hours, minutes)
    except ValueError:
        raise doc.error(where, f"{text!r} is not a time of day like 08:00") from None
