"""Case types as data: `cases/types.yaml` loaded, checked and turned into typed definitions.

Teams and their hours, SLAs, workflows (states, which of them answer, resolve or pause), types
with their own fields, routing rules and escalation steps. Mistakes are reported with the file,
the line and the key path (`types.complaint.fields.category.choices`), by the reader the menus
and campaign kinds use (`tamas.documents`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import jdatetime

from cases.calendar import BusinessCalendar, Span, iranian_week
from cases.sla import Sla
from customer_file.identifiers import (
    InvalidIdentifier,
    ascii_digits,
    normalize_phone,
    validate_national_id,
)
from dialer.windows import DaysOff
from tamas.documents import (
    WEEKDAYS,
    DefinitionError,
    Document,
    clock_time,
    known_keys,
    mapping,
    nonempty_text,
)

DEFAULT_PATH = Path(__file__).with_name("types.yaml")
DURATION = re.compile(r"^(\d+)([hm])$")
FIELD_TYPES = ("text", "number", "amount_rials", "date", "choice", "national_id", "phone")
ROUTING_KEYS = ("type", "line", "region", "tier")


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class EscalationAction(StrEnum):
    NOTIFY_OWNER = "notify_owner"
    NOTIFY_LEAD = "notify_lead"
    REASSIGN = "reassign"


class CaseFieldError(ValueError):
    """A case's field value does not fit its type; `field` names it for the form."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Team:
    name: str
    lead: str | None
    week: Mapping[int, tuple[Span, ...]]

    def calendar(self, holidays: DaysOff) -> BusinessCalendar:
        return BusinessCalendar(week=self.week, holidays=holidays)


@dataclass(frozen=True)
class Workflow:
    name: str
    states: tuple[str, ...]
    responded_on: str
    resolved_on: frozenset[str]
    paused_in: frozenset[str]

    @property
    def first_state(self) -> str:
        return self.states[0]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    required: bool = False
    choices: tuple[str, ...] = ()

    def clean(self, value: Any) -> Any:
        """The value in its stored form, or CaseFieldError saying what is wrong."""
        text = ascii_digits(str(value)).strip()
        if self.kind == "text":
            return str(value).strip()
        if self.kind in ("number", "amount_rials"):
            try:
                number = Decimal(text.replace(",", ""))
            except InvalidOperation:
                raise CaseFieldError(self.name, f"{value!r} is not a number") from None
            if self.kind == "amount_rials" and (number < 0 or number != number.to_integral()):
                raise CaseFieldError(self.name, "an amount in rials is a whole number >= 0")
            return int(number) if number == number.to_integral() else str(number)
        if self.kind == "date":
            return parse_date(self.name, text).isoformat()
        if self.kind == "choice":
            if text not in self.choices:
                raise CaseFieldError(self.name, f"{value!r}: one of {', '.join(self.choices)}")
            return text
        try:
            if self.kind == "national_id":
                return validate_national_id(text, self.name)
            return normalize_phone(text, field=self.name)
        except InvalidIdentifier as error:
            raise CaseFieldError(self.name, error.reason) from None


def parse_date(name: str, text: str) -> date:
    """ISO Gregorian (2025-10-11) or Jalali (1404/07/19, 1404-07-19): a year under 1700 is
    Jalali, so agents type the date as the customer says it."""
    try:
        year, month, day = (int(part) for part in re.split(r"[-/]", text))
        if year < 1700:
            return jdatetime.date(year, month, day).togregorian()
        return date(year, month, day)
    except ValueError:
        raise CaseFieldError(name, f"{text!r} is not a date (2025-10-11 or 1404/07/19)") from None


@dataclass(frozen=True)
class CaseType:
    name: str
    workflow: Workflow
    sla: Sla
    team: str
    fields: Mapping[str, FieldSpec]

    def clean_fields(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The case's fields checked and normalised; unknown or missing ones are errors."""
        unknown = sorted(set(values) - set(self.fields))
        if unknown:
            raise CaseFieldError(unknown[0], f"not a field of a {self.name} case")
        cleaned: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = values.get(name)
            if value is None or str(value).strip() == "":
                if spec.required:
                    raise CaseFieldError(name, "is required")
                continue
            cleaned[name] = spec.clean(value)
        return cleaned


@dataclass(frozen=True)
class Routing:
    """Where a case goes: its team, a person when a rule names one, its priority and SLA."""

    team: str
    person: str | None
    priority: Priority
    sla: Sla


@dataclass(frozen=True)
class RoutingRule:
    when: Mapping[str, frozenset[str]]
    team: str | None
    person: str | None
    priority: Priority | None
    sla: Sla | None

    def matches(self, facts: Mapping[str, str | None]) -> bool:
        return all(facts.get(key) in allowed for key, allowed in self.when.items())


@dataclass(frozen=True)
class EscalationStep:
    """Fires `offset` from the next deadline: negative ahead of it, positive past it."""

    offset: timedelta
    action: EscalationAction


@dataclass(frozen=True)
class CaseTypes:
    teams: Mapping[str, Team]
    slas: Mapping[str, Sla]
    workflows: Mapping[str, Workflow]
    types: Mapping[str, CaseType]
    routing: tuple[RoutingRule, ...]
    escalation: tuple[EscalationStep, ...] = field(default=())

    def route(
        self,
        type_name: str,
        line: str | None = None,
        region: str | None = None,
        tier: str | None = None,
    ) -> Routing:
        """The first matching rule's team, person, priority and SLA over the type's own."""
        case_type = self.types[type_name]
        facts = {"type": type_name, "line": line, "region": region, "tier": tier}
        for rule in self.routing:
            if rule.matches(facts):
                return Routing(
                    rule.team or case_type.team,
                    rule.person,
                    rule.priority or Priority.NORMAL,
                    rule.sla or case_type.sla,
                )
        return Routing(case_type.team, None, Priority.NORMAL, case_type.sla)


def _duration(doc: Document, value: Any, where: str) -> timedelta:
    match = DURATION.match(str(value).strip())
    if not match:
        raise doc.error(where, f"{value!r}: a duration like 30m or 4h")
    count, unit = int(match[1]), match[2]
    return timedelta(hours=count) if unit == "h" else timedelta(minutes=count)


def _names(doc: Document, value: Any, where: str) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    return frozenset(nonempty_text(doc, item, f"{where}[{i}]") for i, item in enumerate(items))


def _team(doc: Document, name: str, raw: Any) -> Team:
    where = f"teams.{name}"
    data = mapping(doc, raw or {}, where)
    known_keys(doc, data, where, ("lead", "hours"))
    week = iranian_week()
    hours = mapping(doc, data.get("hours", {}), f"{where}.hours")
    for day_name, text in hours.items():
        at = f"{where}.hours.{day_name}"
        if day_name not in WEEKDAYS:
            raise doc.error(at, f"not a weekday (one of {', '.join(WEEKDAYS)})")
        week[WEEKDAYS[day_name]] = _spans(doc, text, at)
    lead = data.get("lead")
    return Team(name, None if lead is None else str(lead), week)


def _spans(doc: Document, text: Any, where: str) -> tuple[tuple[time, time], ...]:
    if text in (None, "off", False):
        return ()
    spans = []
    for part in str(text).split(","):
        start, _, end = part.strip().partition("-")
        opens, closes = clock_time(doc, start, where), clock_time(doc, end, where)
        if closes <= opens:
            raise doc.error(where, f"{part.strip()!r}: closes before it opens")
        spans.append((opens, closes))
    return tuple(spans)


def _workflow(doc: Document, name: str, raw: Any) -> Workflow:
    where = f"workflows.{name}"
    data = mapping(doc, raw, where)
    known_keys(doc, data, where, ("states", "responded_on", "resolved_on", "paused_in"))
    states = data.get("states")
    if not isinstance(states, list) or len(states) < 2:
        raise doc.error(f"{where}.states", "a list of at least two states")
    names = tuple(nonempty_text(doc, s, f"{where}.states[{i}]") for i, s in enumerate(states))
    responded = nonempty_text(doc, data.get("responded_on"), f"{where}.responded_on")
    resolved = _names(doc, data.get("resolved_on", []), f"{where}.resolved_on")
    paused = _names(doc, data.get("paused_in", []), f"{where}.paused_in")
    named = (("responded_on", {responded}), ("resolved_on", resolved), ("paused_in", paused))
    for key, used in named:
        for state in sorted(used - set(names)):
            raise doc.error(f"{where}.{key}", f"{state!r} is not one of the workflow's states")
    if not resolved:
        raise doc.error(f"{where}.resolved_on", "at least one state resolves the case")
    return Workflow(name, names, responded, resolved, paused)


def _field(doc: Document, name: str, raw: Any, where: str) -> FieldSpec:
    data = mapping(doc, raw, where)
    known_keys(doc, data, where, ("type", "required", "choices"))
    kind = data.get("type")
    if kind not in FIELD_TYPES:
        raise doc.error(f"{where}.type", f"{kind!r}: one of {', '.join(FIELD_TYPES)}")
    choices: tuple[str, ...] = ()
    if kind == "choice":
        raw_choices = data.get("choices")
        if not isinstance(raw_choices, list) or not raw_choices:
            raise doc.error(f"{where}.choices", "a choice field lists its choices")
        choices = tuple(str(choice) for choice in raw_choices)
    elif "choices" in data:
        raise doc.error(f"{where}.choices", "only a choice field has choices")
    required = data.get("required", False)
    if not isinstance(required, bool):
        raise doc.error(f"{where}.required", "true or false")
    return FieldSpec(name, kind, required, choices)


def _reference(doc: Document, table: Mapping[str, Any], value: Any, where: str, what: str) -> Any:
    if value not in table:
        raise doc.error(where, f"{value!r}: no such {what} (known: {', '.join(table)})")
    return table[value]


def parse(text: str, path: Path = DEFAULT_PATH) -> CaseTypes:
    doc = Document(path, text)
    data = mapping(doc, doc.data, "")
    tops = ("teams", "slas", "workflows", "types", "routing", "escalation")
    known_keys(doc, data, "(top)", tops)
    teams = {n: _team(doc, n, raw) for n, raw in mapping(doc, data.get("teams"), "teams").items()}
    slas: dict[str, Sla] = {}
    for name, raw in mapping(doc, data.get("slas"), "slas").items():
        where = f"slas.{name}"
        sla = mapping(doc, raw, where)
        known_keys(doc, sla, where, ("first_response", "resolution"))
        slas[name] = Sla(
            name,
            *(
                _duration(doc, sla[key], f"{where}.{key}") if key in sla else None
                for key in ("first_response", "resolution")
            ),
        )
    workflows = {
        n: _workflow(doc, n, raw)
        for n, raw in mapping(doc, data.get("workflows"), "workflows").items()
    }
    types: dict[str, CaseType] = {}
    for name, raw in mapping(doc, data.get("types"), "types").items():
        where = f"types.{name}"
        spec = mapping(doc, raw, where)
        known_keys(doc, spec, where, ("workflow", "sla", "team", "fields"))
        fields = mapping(doc, spec.get("fields", {}), f"{where}.fields")
        types[name] = CaseType(
            name,
            _reference(doc, workflows, spec.get("workflow"), f"{where}.workflow", "workflow"),
            _reference(doc, slas, spec.get("sla"), f"{where}.sla", "SLA"),
            _reference(doc, teams, spec.get("team"), f"{where}.team", "team").name,
            {f: _field(doc, f, r, f"{where}.fields.{f}") for f, r in fields.items()},
        )
    if not types:
        raise doc.error("types", "needs at least one case type")
    routing = _routing(doc, data.get("routing", []), teams, slas, types)
    escalation = _escalation(doc, data.get("escalation", []))
    return CaseTypes(teams, slas, workflows, types, routing, escalation)


def _routing(
    doc: Document,
    raw: Any,
    teams: Mapping[str, Team],
    slas: Mapping[str, Sla],
    types: Mapping[str, CaseType],
) -> tuple[RoutingRule, ...]:
    if not isinstance(raw, list):
        raise doc.error("routing", "a list of rules")
    rules = []
    for index, item in enumerate(raw):
        where = f"routing[{index}]"
        rule = mapping(doc, item, where)
        known_keys(doc, rule, where, ("when", "team", "person", "priority", "sla"))
        when = mapping(doc, rule.get("when", {}), f"{where}.when")
        known_keys(doc, when, f"{where}.when", ROUTING_KEYS)
        matches = {key: _names(doc, value, f"{where}.when.{key}") for key, value in when.items()}
        for type_name in sorted(matches.get("type", frozenset()) - set(types)):
            raise doc.error(f"{where}.when.type", f"{type_name!r}: no such case type")
        team = rule.get("team")
        if team is not None:
            _reference(doc, teams, team, f"{where}.team", "team")
        priority = rule.get("priority")
        if priority is not None and priority not in Priority.__members__.values():
            raise doc.error(f"{where}.priority", f"{priority!r}: one of {', '.join(Priority)}")
        sla = rule.get("sla")
        rules.append(
            RoutingRule(
                matches,
                team,
                None if rule.get("person") is None else str(rule["person"]),
                None if priority is None else Priority(priority),
                None if sla is None else _reference(doc, slas, sla, f"{where}.sla", "SLA"),
            )
        )
    return tuple(rules)


def _escalation(doc: Document, raw: Any) -> tuple[EscalationStep, ...]:
    if not isinstance(raw, list):
        raise doc.error("escalation", "a list of steps")
    steps = []
    for index, item in enumerate(raw):
        where = f"escalation[{index}]"
        step = mapping(doc, item, where)
        known_keys(doc, step, where, ("before", "after", "action"))
        if ("before" in step) == ("after" in step):
            raise doc.error(where, "give either before: or after: the deadline")
        offset = _duration(doc, step.get("before", step.get("after")), where)
        action = step.get("action")
        if action not in EscalationAction.__members__.values():
            raise doc.error(f"{where}.action", f"{action!r}: one of {', '.join(EscalationAction)}")
        signed = -offset if "before" in step else offset
        steps.append(EscalationStep(signed, EscalationAction(str(action))))
    return tuple(sorted(steps, key=lambda step: step.offset))


def load(path: Path = DEFAULT_PATH) -> CaseTypes:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise DefinitionError(f"{path}: cannot read the case types: {error}") from error
    return parse(text, path)
