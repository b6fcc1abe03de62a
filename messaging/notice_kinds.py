"""The notices' catalogue (messaging/notices.yaml): which event triggers each kind, the values
its text needs, the channels tried in order, and the text per language. Checked on load: a
placeholder the kind does not provide, a language missing or an unknown channel is reported
with the file, the line and the key, before any customer gets a text with a hole in it."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tamas.documents import (
    DefinitionError,
    Document,
    known_keys,
    mapping,
    nonempty_text,
)
from tamas.languages import LANGUAGES

DEFAULT_PATH = Path(__file__).with_name("notices.yaml")
CHANNELS = ("sms", "email", "fax")
DAILY = "daily"
# Placeholders every text may use: the customer's name and the insurer's.
ALWAYS = frozenset({"name", "insurer"})

NoticeError = DefinitionError


@dataclass(frozen=True)
class NoticeKind:
    name: str
    event: str  # a core-system event type, or "daily"
    needs: tuple[str, ...]
    channels: tuple[str, ...]
    text: dict[str, str]  # language -> template

    def render(self, language: str, values: dict[str, str], template: str | None = None) -> str:
        """The text in `language` (or an operator's edited `template`) with its values."""
        template = template or self.text.get(language) or self.text["fa"]
        return template.format_map(values)

    def problem_with(self, template: str) -> str | None:
        """Why an edited text cannot be used (a placeholder this kind lacks), or None."""
        allowed = ALWAYS | set(self.needs)
        if not template.strip():
            return "the text is empty"
        try:
            fields = [field for _, field, _, _ in string.Formatter().parse(template) if field]
        except ValueError as error:
            return f"broken placeholder: {error}"
        for field in fields:
            if field not in allowed:
                return f"{{{field}}} is not a value of this notice ({', '.join(sorted(allowed))})"
        return None


def load(path: Path = DEFAULT_PATH) -> dict[str, NoticeKind]:
    return parse(path.read_text(encoding="utf-8"), path)


def parse(text: str, path: Path = DEFAULT_PATH) -> dict[str, NoticeKind]:
    doc = Document(path, text)
    root = mapping(doc, doc.data, "")
    known_keys(doc, root, "", ("defaults", "notices"))
    defaults = mapping(doc, root.get("defaults", {}), "defaults")
    default_channels = _channels(doc, defaults.get("channels", ["sms"]), "defaults.channels")
    kinds: dict[str, NoticeKind] = {}
    events: dict[str, str] = {}
    for name, raw in mapping(doc, root.get("notices", {}), "notices").items():
        where = f"notices.{name}"
        data = mapping(doc, raw, where)
        known_keys(doc, data, where, ("event", "needs", "channels", "text"))
        event = nonempty_text(doc, data.get("event"), f"{where}.event")
        if event != DAILY and event in events:
            raise doc.error(f"{where}.event", f"{event!r} already triggers {events[event]!r}")
        events[event] = name
        needs = data.get("needs", [])
        if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
            raise doc.error(f"{where}.needs", "must be a list of value names")
        channels = (
            _channels(doc, data["channels"], f"{where}.channels")
            if "channels" in data
            else default_channels
        )
        texts = mapping(doc, data.get("text"), f"{where}.text")
        kind = NoticeKind(name, event, tuple(needs), channels, dict(texts))
        for language in LANGUAGES:
            template = nonempty_text(doc, texts.get(language), f"{where}.text.{language}")
            _check_placeholders(doc, kind, template, f"{where}.text.{language}")
        known_keys(doc, texts, f"{where}.text", LANGUAGES)
        kinds[name] = kind
    return kinds


def for_event(kinds: dict[str, NoticeKind], event_type: str) -> NoticeKind | None:
    return next((kind for kind in kinds.values() if kind.event == event_type), None)


def _channels(doc: Document, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(c not in CHANNELS for c in value):
        raise doc.error(where, f"must be a list of channels: {', '.join(CHANNELS)}")
    return tuple(value)


def _check_placeholders(doc: Document, kind: NoticeKind, template: str, where: str) -> None:
    problem = kind.problem_with(template)
    if problem is not None:
        raise doc.error(where, problem)
