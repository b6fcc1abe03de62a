"""The menus as data: load `ivr/menus.yaml`, check it, and hand the engine typed definitions.

Every mistake is reported with the file, the line and the key path (`menus.main.options.9`),
so whoever edits the menus finds it without reading Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from tamas.documents import (
    WEEKDAYS,
    DefinitionError,
    Document,
    clock_time,
    known_keys,
    mapping,
    nonempty_text,
    whole_number,
)
from tamas.languages import LANGUAGES

DEFAULT_PATH = Path(__file__).with_name("menus.yaml")
KEYS = set("0123456789")


@dataclass(frozen=True)
class Behaviour:
    attempts: int = 3
    first_key_timeout_ms: int = 6000
    next_key_timeout_ms: int = 3000
    agent_key: str = "0"
    back_key: str = "*"
    end_key: str = "#"


@dataclass(frozen=True)
class InputRule:
    name: str
    prompt: str
    min_digits: int
    max_digits: int
    sensitive: bool = False


@dataclass(frozen=True)
class Option:
    key: str
    menu: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class Menu:
    name: str
    prompt: str
    options: tuple[Option, ...]

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)


@dataclass(frozen=True)
class Queues:
    default: str = "support"
    priority: str = "priority"
    priority_tiers: tuple[str, ...] = ("gold", "vip")


@dataclass(frozen=True)
class LanguageChoice:
    prompt: str
    keys: Mapping[str, str]
    timeout_ms: int = 2500


@dataclass(frozen=True)
class MenuBook:
    entry: str
    behaviour: Behaviour
    languages: LanguageChoice
    queues: Queues
    menus: Mapping[str, Menu]
    inputs: Mapping[str, InputRule]
    services: frozenset[str] = field(default_factory=frozenset)
    # weekday() -> (opens, closes), None when closed all day; empty: the built-in week.
    opening_hours: Mapping[int, tuple[time, time] | None] = field(default_factory=dict)

    def menu(self, name: str) -> Menu:
        return self.menus[name]

    def input(self, name: str) -> InputRule:
        try:
            return self.inputs[name]
        except KeyError:
            raise DefinitionError(
                f"input {name!r} is used by a service but not defined under 'inputs'"
            ) from None


def _behaviour(doc: Document, raw: Any) -> Behaviour:
    data = mapping(doc, raw or {}, "behaviour")
    known_keys(doc, data, "behaviour", Behaviour.__dataclass_fields__)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key.endswith("_key"):
            if not isinstance(value, str) or len(value) != 1 or value not in "0123456789*#":
                raise doc.error(f"behaviour.{key}", "must be one key: 0-9, * or #")
            values[key] = value
        else:
            values[key] = whole_number(doc, value, f"behaviour.{key}", low=1)
    return Behaviour(**values)


def _inputs(doc: Document, raw: Any) -> dict[str, InputRule]:
    rules: dict[str, InputRule] = {}
    for name, value in mapping(doc, raw or {}, "inputs").items():
        where = f"inputs.{name}"
        data = mapping(doc, value, where)
        known_keys(doc, data, where, ("prompt", "digits", "sensitive"))
        digits = data.get("digits")
        if isinstance(digits, list) and len(digits) == 2:
            low, high = (whole_number(doc, d, f"{where}.digits", low=1) for d in digits)
        elif isinstance(digits, int) and not isinstance(digits, bool):
            low = high = whole_number(doc, digits, f"{where}.digits", low=1)
        else:
            raise doc.error(f"{where}.digits", "must be a length (10) or a range ([4, 6])")
        if low > high:
            raise doc.error(f"{where}.digits", f"range [{low}, {high}] is empty")
        sensitive = data.get("sensitive", False)
        if not isinstance(sensitive, bool):
            raise doc.error(f"{where}.sensitive", "must be true or false")
        rules[name] = InputRule(
            name, nonempty_text(doc, data.get("prompt"), f"{where}.prompt"), low, high, sensitive
        )
    return rules


def _menus(doc: Document, raw: Any, services: frozenset[str], agent_key: str) -> dict[str, Menu]:
    menus: dict[str, Menu] = {}
    raw_menus = mapping(doc, raw, "menus")
    for name, value in raw_menus.items():
        where = f"menus.{name}"
        data = mapping(doc, value, where)
        known_keys(doc, data, where, ("prompt", "options"))
        prompt = nonempty_text(doc, data.get("prompt"), f"{where}.prompt")
        options: list[Option] = []
        for key, option_raw in mapping(doc, data.get("options"), f"{where}.options").items():
            owhere = f"{where}.options.{key}"
            if key not in KEYS:
                raise doc.error(owhere, "an option key must be one digit 0-9")
            odata = mapping(doc, option_raw, owhere)
            known_keys(doc, odata, owhere, ("menu", "service"))
            targets = [t for t in ("menu", "service") if t in odata]
            if len(targets) != 1:
                raise doc.error(owhere, "needs exactly one of 'menu' or 'service'")
            target = nonempty_text(doc, odata[targets[0]], f"{owhere}.{targets[0]}")
            if targets[0] == "menu" and target not in raw_menus:
                raise doc.error(f"{owhere}.menu", f"no menu named {target!r}")
            if targets[0] == "service" and services and target not in services:
                raise doc.error(
                    f"{owhere}.service",
                    f"no service named {target!r} (known: {', '.join(sorted(services))})",
                )
            options.append(
                Option(
                    key=key,
                    menu=target if targets[0] == "menu" else None,
                    service=target if targets[0] == "service" else None,
                )
            )
        if not options:
            raise doc.error(f"{where}.options", "a menu needs at least one option")
        if any(option.key == agent_key for option in options) and not any(
            option.key == agent_key and option.service == "agent" for option in options
        ):
            raise doc.error(
                f"{where}.options.{agent_key}",
                f"key {agent_key} is the agent key everywhere; it cannot lead elsewhere",
            )
        menus[name] = Menu(name, prompt, tuple(options))
    return menus


def _languages(doc: Document, raw: Any) -> LanguageChoice:
    data = mapping(doc, raw, "languages")
    known_keys(doc, data, "languages", ("prompt", "keys", "timeout_ms"))
    keys = mapping(doc, data.get("keys"), "languages.keys")
    for key, language in keys.items():
        if key not in KEYS:
            raise doc.error(f"languages.keys.{key}", "must be one digit 0-9")
        if language not in LANGUAGES:
            raise doc.error(f"languages.keys.{key}", f"must be one of {', '.join(LANGUAGES)}")
    timeout = whole_number(doc, data.get("timeout_ms", 2500), "languages.timeout_ms", low=1)
    return LanguageChoice(
        nonempty_text(doc, data.get("prompt"), "languages.prompt"), dict(keys), timeout
    )


def _queues(doc: Document, raw: Any) -> Queues:
    data = mapping(doc, raw or {}, "queues")
    known_keys(doc, data, "queues", ("default", "priority", "priority_tiers"))
    tiers = data.get("priority_tiers", list(Queues.priority_tiers))
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        raise doc.error("queues.priority_tiers", "must be a list of loyalty tiers")
    return Queues(
        default=nonempty_text(doc, data.get("default", Queues.default), "queues.default"),
        priority=nonempty_text(doc, data.get("priority", Queues.priority), "queues.priority"),
        priority_tiers=tuple(t.lower() for t in tiers),
    )


def _opening_hours(doc: Document, raw: Any) -> dict[int, tuple[time, time] | None]:
    if raw is None:
        return {}
    data = mapping(doc, raw, "opening_hours")
    known_keys(doc, data, "opening_hours", WEEKDAYS)
    missing = [day for day in WEEKDAYS if day not in data]
    if missing:
        raise doc.error(
            "opening_hours", f"every day needs hours or 'closed' (missing: {', '.join(missing)})"
        )
    week: dict[int, tuple[time, time] | None] = {}
    for day, value in data.items():
        where = f"opening_hours.{day}"
        if value == "closed":
            week[WEEKDAYS[day]] = None
            continue
        if not isinstance(value, str) or value.count("-") != 1:
            raise doc.error(where, "must be 'closed' or a span like 08:00-16:00")
        opens, closes = (clock_time(doc, part.strip(), where) for part in value.split("-"))
        if opens >= closes:
            raise doc.error(where, f"opens at {opens:%H:%M} but closes at {closes:%H:%M}")
        week[WEEKDAYS[day]] = (opens, closes)
    return week


def parse(text: str, path: Path = DEFAULT_PATH, services: Iterable[str] = ()) -> MenuBook:
    """Parse and check a menu document. `services` are the service names the engine knows."""
    doc = Document(path, text)
    data = mapping(doc, doc.data, "")
    sections = ("entry", "behaviour", "languages", "queues", "opening_hours", "menus", "inputs")
    known_keys(doc, data, "(top)", sections)
    known_services = frozenset(services)
    behaviour = _behaviour(doc, data.get("behaviour"))
    menus = _menus(doc, data.get("menus"), known_services, behaviour.agent_key)
    entry = nonempty_text(doc, data.get("entry"), "entry")
    if entry not in menus:
        raise doc.error("entry", f"no menu named {entry!r}")
    return MenuBook(
        entry=entry,
        behaviour=behaviour,
        languages=_languages(doc, data.get("languages")),
        queues=_queues(doc, data.get("queues")),
        menus=menus,
        inputs=_inputs(doc, data.get("inputs")),
        services=known_services,
        opening_hours=_opening_hours(doc, data.get("opening_hours")),
    )


def load(path: Path = DEFAULT_PATH, services: Iterable[str] = ()) -> MenuBook:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(f"{path}: cannot read the menu file: {error}") from error
    return parse(text, path, services)
