"""Campaign kinds as data: `dialer/kinds.yaml` loaded, checked and turned into typed kinds.

A kind is the template a campaign is made from: what is said, who is called, when, how often
and in which mode. Mistakes are reported with the file, the line and the key path
(`kinds.welcome.window.from`), the same way the IVR's menu file reports them (the same reader).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from string import Formatter
from typing import Any

from dialer.retries import RETRIED, RetryPolicy
from dialer.windows import CallingWindow
from interactions.outcomes import Outcome
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

DEFAULT_PATH = Path(__file__).with_name("kinds.yaml")
FIELD_NAME = "abcdefghijklmnopqrstuvwxyz_0123456789"
# Targets come only from an imported file: any field the file has may be said.
IMPORTED = "imported"


@dataclass(frozen=True)
class RuleParameter:
    """A number (or yes/no) a target rule takes from the kind, its default and its least value."""

    default: int | bool
    low: int = 0


@dataclass(frozen=True)
class RuleSpec:
    """What a target rule of the customer file takes and which fields its targets carry
    (`name` and `language` always; dialer/selection.py runs it)."""

    parameters: dict[str, RuleParameter]
    fields: frozenset[str]


# The rules dialer/selection.py knows, checked on load so a typo fails at start, not mid-run.
RULES: dict[str, RuleSpec] = {
    # Active policies ending within `days_before` days, not already renewed.
    "policies_ending": RuleSpec(
        {"days_before": RuleParameter(30, 1), "not_renewed": RuleParameter(True)},
        frozenset({"policy_number", "end_date", "amount_rials"}),
    ),
    # Unpaid installments whose due date passed more than `days_overdue` days ago.
    "installments_overdue": RuleSpec(
        {"days_overdue": RuleParameter(7)},
        frozenset({"policy_number", "amount_rials", "due_date"}),
    ),
    # Bounced cheques presented at least `days_since` and at most `within_days` days ago.
    "cheques_bounced": RuleSpec(
        {"days_since": RuleParameter(1), "within_days": RuleParameter(90, 1)},
        frozenset({"cheque_number", "bank", "amount_rials", "due_date"}),
    ),
    # Customers owing at least `min_amount_rials`: overdue installments and bounced cheques
    # (customer_file.debt's overdue figure; cheques still due are not a debt yet).
    "debts_open": RuleSpec(
        {"min_amount_rials": RuleParameter(1, 1)}, frozenset({"amount_rials", "due_date"})
    ),
    # Policies that started within the last `days_since` days: the holder's first policy only
    # unless `first_policy_only` is false (a renewal gets no welcome).
    "policies_started": RuleSpec(
        {"days_since": RuleParameter(3), "first_policy_only": RuleParameter(True)},
        frozenset({"policy_number", "start_date", "amount_rials"}),
    ),
    # Installments paid within the last `days_since` days: the thank-you.
    "premiums_paid": RuleSpec(
        {"days_since": RuleParameter(1)},
        frozenset({"policy_number", "amount_rials", "due_date", "paid_on"}),
    ),
    # Claims paid within the last `days_since` days ("your payment is ready at the bank").
    "claims_settled": RuleSpec(
        {"days_since": RuleParameter(1)},
        frozenset({"claim_code", "policy_number", "amount_rials"}),
    ),
    # Shareholders with at least `min_shares` shares, invited to the next general meeting.
    "shareholders": RuleSpec(
        {"min_shares": RuleParameter(1)}, frozenset({"shareholder_number", "meeting_date"})
    ),
    # Occasions: every customer (a Nowruz greeting), persons only unless told otherwise.
    "all_customers": RuleSpec({"persons_only": RuleParameter(True)}, frozenset()),
    # Persons whose birthday is `days_ahead` days from today (29 February: on the 28th in
    # other years).
    "birthdays": RuleSpec({"days_ahead": RuleParameter(0)}, frozenset({"birth_date"})),
    IMPORTED: RuleSpec({}, frozenset()),
}
ALWAYS = frozenset({"name", "language"})


class KindError(DefinitionError):
    """The kinds file is wrong; the message names the file, line and key."""


class Mode(StrEnum):
    # The message only; nobody waits for an agent.
    BROADCAST = "broadcast"
    # One call per free agent: no call is ever abandoned.
    PROGRESSIVE = "progressive"
    # Dial ahead of free agents, keeping abandoned calls under the campaign's target.
    PREDICTIVE = "predictive"


@dataclass(frozen=True)
class TargetRule:
    """Which customers the kind calls: a rule of the customer file and its numbers
    (`imported`: targets come only from an imported file)."""

    rule: str
    params: tuple[tuple[str, Any], ...] = ()

    def value(self, name: str) -> Any:
        """The parameter as the kind gives it, or the rule's default."""
        given = dict(self.params)
        return given[name] if name in given else RULES[self.rule].parameters[name].default


@dataclass(frozen=True)
class CampaignKind:
    name: str
    messages: tuple[str, ...]
    fields: tuple[str, ...]
    target: TargetRule
    window: CallingWindow
    retries: RetryPolicy
    mode: Mode
    # The SMS sent, once, to a target the calls never reached: its text per language, with
    # {field} placeholders; None when the kind does not fall back.
    sms_fallback: dict[str, str] | None = None


def _window(doc: Document, data: dict[str, Any], where: str) -> CallingWindow:
    known_keys(doc, data, where, ("from", "to", "days", "thursday_afternoon", "holidays"))
    start = clock_time(doc, nonempty_text(doc, data.get("from"), f"{where}.from"), f"{where}.from")
    end = clock_time(doc, nonempty_text(doc, data.get("to"), f"{where}.to"), f"{where}.to")
    if start >= end:
        raise doc.error(f"{where}.to", f"the window opens at {start:%H:%M} and ends at {end:%H:%M}")
    days = data.get("days")
    if not isinstance(days, list) or not days:
        raise doc.error(f"{where}.days", "must be a list of weekdays (saturday, sunday...)")
    for index, day in enumerate(days):
        if day not in WEEKDAYS:
            raise doc.error(f"{where}.days[{index}]", f"{day!r} is not a weekday")
    afternoon = data.get("thursday_afternoon", False)
    if not isinstance(afternoon, bool):
        raise doc.error(f"{where}.thursday_afternoon", "must be true or false")
    holidays = data.get("holidays", "skip")
    if holidays not in ("skip", "call"):
        raise doc.error(f"{where}.holidays", "must be 'skip' or 'call'")
    return CallingWindow(
        start=start,
        end=end,
        weekdays=frozenset(WEEKDAYS[day] for day in days),
        thursday_until=None if afternoon else CallingWindow.thursday_until,
        skip_holidays=holidays == "skip",
    )


def _retries(doc: Document, data: dict[str, Any], where: str) -> RetryPolicy:
    known_keys(doc, data, where, ("max_attempts", "factor", "wait_minutes"))
    factor = data.get("factor", 2)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 1:
        raise doc.error(f"{where}.factor", "must be a number >= 1")
    waits: dict[Outcome, timedelta] = {}
    retried = sorted(RETRIED)
    for outcome, minutes in mapping(
        doc, data.get("wait_minutes", {}), f"{where}.wait_minutes"
    ).items():
        key = f"{where}.wait_minutes.{outcome}"
        if outcome not in retried:
            raise doc.error(key, f"not a retried outcome (expected one of: {', '.join(retried)})")
        waits[Outcome(outcome)] = timedelta(minutes=whole_number(doc, minutes, key, low=1))
    return RetryPolicy(
        max_attempts=whole_number(doc, data.get("max_attempts", 3), f"{where}.max_attempts", low=1),
        waits=waits,
        factor=float(factor),
    )


def _merged(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """The kind's own keys over the defaults (nested mappings merged key by key)."""
    result = dict(defaults)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = _merged(result[key], value)
        else:
            result[key] = value
    return result


def _names(doc: Document, value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise doc.error(where, "must be a non-empty list of names")
    names = []
    for index, item in enumerate(value):
        name = nonempty_text(doc, item, f"{where}[{index}]")
        if set(name) - set(FIELD_NAME):
            raise doc.error(f"{where}[{index}]", "use lower-case letters, digits and _ only")
        names.append(name)
    return tuple(names)


def _target(doc: Document, data: dict[str, Any], where: str) -> TargetRule:
    rule = nonempty_text(doc, data.get("rule"), f"{where}.rule")
    if rule not in RULES:
        raise doc.error(f"{where}.rule", f"{rule!r} is not a rule (known: {', '.join(RULES)})")
    spec = RULES[rule]
    known_keys(doc, data, where, ("rule", *spec.parameters))
    params = []
    for key, parameter in spec.parameters.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(parameter.default, bool):
            if not isinstance(value, bool):
                raise doc.error(f"{where}.{key}", "must be true or false")
        else:
            value = whole_number(doc, value, f"{where}.{key}", low=parameter.low)
        params.append((key, value))
    return TargetRule(rule, tuple(params))


def _fields(doc: Document, data: dict[str, Any], target: TargetRule, where: str) -> tuple[str, ...]:
    fields = _names(doc, data.get("fields", ["name"]), f"{where}.fields")
    if target.rule == IMPORTED:
        return fields
    offered = ALWAYS | RULES[target.rule].fields
    for index, field in enumerate(fields):
        if field not in offered:
            raise doc.error(
                f"{where}.fields[{index}]",
                f"rule {target.rule} gives no {field!r} (it gives: {', '.join(sorted(offered))})",
            )
    return fields


def _sms_fallback(
    doc: Document, value: Any, fields: tuple[str, ...], where: str
) -> dict[str, str] | None:
    if value is None:
        return None
    texts = mapping(doc, value, where)
    known_keys(doc, texts, where, LANGUAGES)
    if not texts:
        raise doc.error(where, f"needs a text for at least one language ({', '.join(LANGUAGES)})")
    for language, text in texts.items():
        key = f"{where}.{language}"
        try:
            # Each placeholder must be a field the kind's targets carry: a missing one would
            # only show when the first SMS is written.
            used = {name for _, name, _, _ in Formatter().parse(nonempty_text(doc, text, key))}
        except ValueError as error:
            raise doc.error(key, f"bad placeholder: {error}") from None
        unknown = sorted(name for name in used if name is not None and name not in fields)
        if unknown:
            raise doc.error(key, f"{{{unknown[0]}}} is not one of the kind's fields")
    return dict(texts)


def _kind(doc: Document, name: str, raw: Any, defaults: dict[str, Any]) -> CampaignKind:
    where = f"kinds.{name}"
    data = mapping(doc, raw, where)
    known_keys(
        doc,
        data,
        where,
        ("messages", "fields", "target", "window", "retries", "mode", "sms_fallback"),
    )
    target = _target(doc, mapping(doc, data.get("target"), f"{where}.target"), f"{where}.target")
    fields = _fields(doc, data, target, where)
    mode = data.get("mode")
    if mode not in set(Mode):
        raise doc.error(f"{where}.mode", f"must be one of: {', '.join(Mode)}")
    window = mapping(doc, data.get("window", {}), f"{where}.window")
    retries = mapping(doc, data.get("retries", {}), f"{where}.retries")
    return CampaignKind(
        name=name,
        messages=_names(doc, data.get("messages"), f"{where}.messages"),
        fields=fields,
        target=target,
        window=_window(doc, _merged(defaults.get("window", {}), window), f"{where}.window"),
        retries=_retries(doc, _merged(defaults.get("retries", {}), retries), f"{where}.retries"),
        mode=Mode(mode),
        sms_fallback=_sms_fallback(doc, data.get("sms_fallback"), fields, f"{where}.sms_fallback"),
    )


def parse(text: str, path: Path = DEFAULT_PATH) -> dict[str, CampaignKind]:
    try:
        doc = Document(path, text)
        data = mapping(doc, doc.data, "")
        known_keys(doc, data, "(top)", ("defaults", "kinds"))
        defaults = mapping(doc, data.get("defaults", {}), "defaults")
        known_keys(doc, defaults, "defaults", ("window", "retries"))
        kinds = mapping(doc, data.get("kinds"), "kinds")
        if not kinds:
            raise doc.error("kinds", "needs at least one kind")
        return {name: _kind(doc, name, raw, defaults) for name, raw in kinds.items()}
    except KindError:
        raise
    except DefinitionError as error:
        raise KindError(str(error)) from None


def load(path: Path = DEFAULT_PATH) -> dict[str, CampaignKind]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise KindError(f"{path}: cannot read the campaign kinds: {error}") from error
    return parse(text, path)
