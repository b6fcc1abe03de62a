"""Alerts on the wallboard: thresholds per queue (service level under target, longest wait
over X, abandon rate over Y, no agent logged in during opening hours) and on the IVR (AGI
errors today), written as data in supervisors/alerts.yaml and checked on load with the line
of every mistake.

Pure evaluation: `evaluate(rules, board, at, is_open)` reads the wallboard's state and says
which conditions hold now. Who is told, and at most once per condition per interval, is
`supervisors.alert_notices`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, time
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

RULES_PATH = Path(__file__).with_name("alerts.yaml")
CHANNELS = ("sms", "email")
KINDS = ("service_level", "longest_wait", "abandon_rate", "no_agent", "ivr_errors")
IVR = "ivr"  # the "queue" of IVR alerts
_QUEUE_KEYS = (
    "service_level_below",
    "longest_wait_over_s",
    "abandon_rate_over",
    "min_offered",
    "no_agent_logged_in",
    "repeat_every_min",
    "notify",
)


@dataclass(frozen=True)
class QueueRule:
    """Thresholds of one queue; None leaves that check off."""

    service_level_below: float | None = None  # a fraction: 0.8 is 80 %
    longest_wait_over_s: int | None = None
    abandon_rate_over: float | None = None
    # Service level and abandon rate say little on the first calls of the day.
    min_offered: int = 10
    no_agent_logged_in: bool = False
    repeat_every_min: int = 30
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class IvrRule:
    agi_errors_over: int | None = None
    repeat_every_min: int = 30
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class Shift:
    """Who is on duty on these weekdays between these times (Tehran's clock)."""

    name: str
    weekdays: frozenset[int]
    start: time
    end: time
    sms: str | None = None
    email: str | None = None

    def covers(self, at: datetime) -> bool:
        return at.weekday() in self.weekdays and self.start <= at.time() < self.end


@dataclass(frozen=True)
class AlertRules:
    defaults: QueueRule = QueueRule()
    queues: Mapping[str, QueueRule] = field(default_factory=dict)
    ivr: IvrRule = IvrRule()
    on_duty: tuple[Shift, ...] = ()

    def for_queue(self, queue: str) -> QueueRule:
        return self.queues.get(queue, self.defaults)

    def supervisor_on_duty(self, at: datetime) -> Shift | None:
        return next((shift for shift in self.on_duty if shift.covers(at)), None)


@dataclass(frozen=True)
class Alert:
    """A condition that holds now."""

    kind: str
    queue: str
    value: float | int
    threshold: float | int
    repeat_every_min: int
    notify: tuple[str, ...]

    @property
    def condition(self) -> str:
        """What "the same condition" means for once-per-interval: queue and kind."""
        return f"{self.queue}:{self.kind}"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "queue": self.queue,
            "value": self.value,
            "threshold": self.threshold,
        }


# ---------------------------------------------------------------- evaluation


def evaluate(
    rules: AlertRules, board: Mapping[str, Any], at: datetime, is_open: Callable[[datetime], bool]
) -> list[Alert]:
    """The conditions that hold on this board (the wallboard's state) at `at`."""
    alerts: list[Alert] = []
    for name, queue in sorted((board.get("queues") or {}).items()):
        if isinstance(queue, Mapping):
            alerts += _queue_alerts(name, queue, rules.for_queue(name), at, is_open)
    errors = int((board.get("ivr") or {}).get("agi_errors_today") or 0)
    if rules.ivr.agi_errors_over is not None and errors > rules.ivr.agi_errors_over:
        alerts.append(
            Alert(
                "ivr_errors",
                IVR,
                errors,
                rules.ivr.agi_errors_over,
                rules.ivr.repeat_every_min,
                rules.ivr.notify,
            )
        )
    return alerts


def _queue_alerts(
    name: str,
    queue: Mapping[str, Any],
    rule: QueueRule,
    at: datetime,
    is_open: Callable[[datetime], bool],
) -> list[Alert]:
    found: list[tuple[str, float | int, float | int]] = []
    today = queue.get("today") or {}
    # Service level and abandon rate say little on the first calls of the day.
    enough = int(today.get("offered") or 0) >= rule.min_offered
    level, rate = today.get("service_level"), today.get("abandon_rate")
    if enough and rule.service_level_below is not None and level is not None:
        if level < rule.service_level_below:
            found.append(("service_level", round(level, 3), rule.service_level_below))
    if enough and rule.abandon_rate_over is not None and rate is not None:
        if rate > rule.abandon_rate_over:
            found.append(("abandon_rate", round(rate, 3), rule.abandon_rate_over))
    longest = float(queue.get("longest_wait_s") or 0)
    if rule.longest_wait_over_s is not None and longest > rule.longest_wait_over_s:
        found.append(("longest_wait", round(longest), rule.longest_wait_over_s))
    if rule.no_agent_logged_in and not queue.get("agents_logged_in") and is_open(at):
        found.append(("no_agent", 0, 1))
    return [
        Alert(kind, name, value, threshold, rule.repeat_every_min, rule.notify)
        for kind, value, threshold in found
    ]


# ---------------------------------------------------------------- loading


def load_rules(path: Path = RULES_PATH) -> AlertRules:
    """The alert rules file, checked: a mistake raises DefinitionError naming file and line."""
    doc = Document(path, path.read_text(encoding="utf-8"))
    return parse_rules(doc)


def parse_rules(doc: Document) -> AlertRules:
    root = mapping(doc, doc.data, "")
    known_keys(doc, root, "", ("defaults", "queues", "ivr", "on_duty"))
    defaults = _queue_rule(doc, root.get("defaults") or {}, "defaults", QueueRule())
    queues = {
        str(name): _queue_rule(doc, value or {}, f"queues.{name}", defaults)
        for name, value in mapping(doc, root.get("queues") or {}, "queues").items()
    }
    ivr = mapping(doc, root.get("ivr") or {}, "ivr")
    known_keys(doc, ivr, "ivr", ("agi_errors_over", "repeat_every_min", "notify"))
    ivr_rule = IvrRule(
        agi_errors_over=_optional_number(doc, ivr, "ivr", "agi_errors_over"),
        repeat_every_min=_minutes(doc, ivr, "ivr", 30),
        notify=_notify(doc, ivr.get("notify", []), "ivr.notify"),
    )
    shifts = root.get("on_duty") or []
    if not isinstance(shifts, list):
        raise doc.error("on_duty", "must be a list of shifts")
    return AlertRules(
        defaults=defaults,
        queues=queues,
        ivr=ivr_rule,
        on_duty=tuple(_shift(doc, item, f"on_duty[{i}]") for i, item in enumerate(shifts)),
    )


def _queue_rule(doc: Document, value: Any, where: str, base: QueueRule) -> QueueRule:
    rule = mapping(doc, value, where)
    known_keys(doc, rule, where, _QUEUE_KEYS)
    changes: dict[str, Any] = {}
    for key in ("service_level_below", "abandon_rate_over"):
        if key in rule:
            changes[key] = _fraction(doc, rule[key], f"{where}.{key}")
    if "longest_wait_over_s" in rule:
        changes["longest_wait_over_s"] = _optional_number(doc, rule, where, "longest_wait_over_s")
    if "min_offered" in rule:
        changes["min_offered"] = whole_number(doc, rule["min_offered"], f"{where}.min_offered")
    if "no_agent_logged_in" in rule:
        if not isinstance(rule["no_agent_logged_in"], bool):
            raise doc.error(f"{where}.no_agent_logged_in", "must be true or false")
        changes["no_agent_logged_in"] = rule["no_agent_logged_in"]
    if "repeat_every_min" in rule:
        changes["repeat_every_min"] = _minutes(doc, rule, where, base.repeat_every_min)
    if "notify" in rule:
        changes["notify"] = _notify(doc, rule["notify"], f"{where}.notify")
    return replace(base, **changes)


def _fraction(doc: Document, value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise doc.error(where, "must be a fraction between 0 and 1 (0.8 is 80 %), or null")
    return float(value)


def _optional_number(doc: Document, rule: dict[str, Any], where: str, key: str) -> int | None:
    value = rule.get(key)
    return None if value is None else whole_number(doc, value, f"{where}.{key}")


def _minutes(doc: Document, rule: dict[str, Any], where: str, default: int) -> int:
    if "repeat_every_min" not in rule:
        return default
    return whole_number(doc, rule["repeat_every_min"], f"{where}.repeat_every_min", low=1)


def _notify(doc: Document, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise doc.error(where, f"must be a list of: {', '.join(CHANNELS)} (or [])")
    for index, item in enumerate(value):
        if item not in CHANNELS:
            raise doc.error(f"{where}[{index}]", f"must be one of: {', '.join(CHANNELS)}")
    return tuple(value)


def _shift(doc: Document, value: Any, where: str) -> Shift:
    shift = mapping(doc, value, where)
    known_keys(doc, shift, where, ("name", "days", "from", "to", "sms", "email"))
    days = shift.get("days")
    if not isinstance(days, list) or not days:
        raise doc.error(f"{where}.days", f"must list weekdays ({', '.join(WEEKDAYS)})")
    weekdays = set()
    for index, day in enumerate(days):
        if day not in WEEKDAYS:
            raise doc.error(f"{where}.days[{index}]", f"{day!r} is not a weekday name")
        weekdays.add(WEEKDAYS[day])
    for key in ("from", "to"):
        if not isinstance(shift.get(key), str):
            raise doc.error(f"{where}.{key}", 'must be a time of day like "08:00"')
    start = clock_time(doc, shift["from"], f"{where}.from")
    end = clock_time(doc, shift["to"], f"{where}.to")
    if end <= start:
        raise doc.error(f"{where}.to", "must be after 'from'")
    sms = shift.get("sms")
    email = shift.get("email")
    if sms is None and email is None:
        raise doc.error(where, "needs an sms number or an email address")
    return Shift(
        name=nonempty_text(doc, shift.get("name"), f"{where}.name"),
        weekdays=frozenset(weekdays),
        start=start,
        end=end,
        sms=None if sms is None else nonempty_text(doc, sms, f"{where}.sms"),
        email=None if email is None else nonempty_text(doc, email, f"{where}.email"),
    )


__all__ = ["Alert", "AlertRules", "DefinitionError", "evaluate", "load_rules"]
