"""What the customer file answers with: plain frozen dataclasses, never ORM objects, so any
adapter (our tables, an insurer's SQL views, a REST service) can build them and no caller can
trigger a lazy load or hold a session open by accident.

Money is in Rials (`int`), dates are `date`, instants are timezone-aware UTC `datetime`.
`as_json` turns any view into JSON-ready data for the popup and `tamas` commands; `from_json`
reads it back (the REST adapter receives views in that shape); `from_record` builds one from a
table row of the same field names.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class PhoneView:
    e164: str
    kind: str  # mobile, landline, work, fax
    is_primary: bool


@dataclass(frozen=True, slots=True)
class AddressView:
    kind: str
    postal_code: str
    province: str
    city: str
    line: str


@dataclass(frozen=True, slots=True)
class CustomerSummary:
    """Enough to greet a caller and route them: who, in which language, how privileged."""

    id: int
    kind: str  # person, company
    given_name_fa: str
    family_name_fa: str
    given_name_latin: str
    family_name_latin: str
    gender: str | None
    language: str  # fa, en, ru
    tier: str  # regular, bronze, silver, gold, vip
    # Last four digits of the national (or company) ID: what the IVR asks to check identity.
    id_last4: str
    has_pin: bool

    @property
    def name_fa(self) -> str:
        return " ".join(part for part in (self.given_name_fa, self.family_name_fa) if part)

    @property
    def name_latin(self) -> str:
        return " ".join(part for part in (self.given_name_latin, self.family_name_latin) if part)

    @property
    def is_priority(self) -> bool:
        """Gold and VIP callers get a priority queue position when they ask for an agent."""
        return self.tier in ("gold", "vip")


@dataclass(frozen=True, slots=True)
class PolicyView:
    id: int
    number: str
    line: str
    status: str  # active, expired, cancelled, suspended
    start_date: date
    end_date: date
    premium_rials: int
    insured_objects: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class StageChange:
    stage: str
    at: datetime
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimView:
    id: int
    tracking_code: str
    policy_number: str
    line: str
    stage: str  # registered, inspection, assessment, approved, paid, rejected
    stage_changed_at: datetime
    loss_date: date
    amount_claimed_rials: int
    amount_approved_rials: int | None
    amount_paid_rials: int | None
    adjuster_name: str | None
    adjuster_deadline: date | None
    next_step: str  # a code from integrations.customer_file.claims.NEXT_STEPS
    next_step_note: str | None


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """What a caller hears about one claim, and what the IVR checks before saying it."""

    claim: ClaimView
    history: tuple[StageChange, ...]
    customer_id: int
    # Compared with the four digits the caller keys; the full ID never leaves the adapter.
    national_id_last4: str


@dataclass(frozen=True, slots=True)
class InstallmentView:
    policy_number: str
    sequence: int
    due_date: date
    amount_rials: int
    status: str  # due, paid, overdue (unpaid past due date is always overdue)


@dataclass(frozen=True, slots=True)
class ChequeView:
    number: str
    bank: str
    due_date: date
    amount_rials: int
    status: str  # due, paid, bounced


@dataclass(frozen=True, slots=True)
class DebtView:
    """Balance = unpaid installments + bounced cheques. Cheques still due are listed but not
    added: they pay installments already counted."""

    customer_id: int
    balance_rials: int
    overdue_rials: int
    next_installments: tuple[InstallmentView, ...]  # unpaid, soonest first
    cheques_due: tuple[ChequeView, ...]
    cheques_bounced: tuple[ChequeView, ...]


@dataclass(frozen=True, slots=True)
class DividendView:
    fiscal_year: int
    per_share_rials: int
    amount_due_rials: int
    payment_date: date | None
    paid_on: date | None


@dataclass(frozen=True, slots=True)
class ShareholderView:
    id: int
    shareholder_number: str
    customer_id: int | None
    name_fa: str
    name_latin: str
    shares: int
    dividends: tuple[DividendView, ...]  # oldest fiscal year first
    unpaid_dividends_rials: int
    missing_documents: tuple[str, ...]  # codes from shareholders.DOCUMENTS

    @property
    def latest_dividend(self) -> DividendView | None:
        return self.dividends[-1] if self.dividends else None


@dataclass(frozen=True, slots=True)
class GeneralMeetingView:
    id: int
    kind: str
    held_at: datetime
    place_fa: str
    place_en: str
    agenda: tuple[str, ...]
    resolutions: str | None
    invitation_text: str | None


@dataclass(frozen=True, slots=True)
class BranchView:
    id: int
    kind: str  # branch, agency
    code: str
    name_fa: str
    name_en: str
    city: str
    postal_code: str
    address_fa: str
    address_en: str
    phone: str
    opening_hours: str
    latitude: float
    longitude: float
    licence_end: date | None
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class CentreView:
    """A medical centre or a claim-payment centre, as listed to callers."""

    id: int
    kind: str  # hospital, clinic, ... or "payment"
    name_fa: str
    name_en: str
    city: str
    address_fa: str
    phone: str
    opening_hours: str = ""


@dataclass(frozen=True, slots=True)
class PolicyAuthenticity:
    """The answer to "is this policy genuine?" Only masked holder names: anyone can ask."""

    genuine: bool
    number: str | None = None
    line: str | None = None
    status: str | None = None
    holder_name_masked_fa: str | None = None
    holder_name_masked_latin: str | None = None
    start_date: date | None = None
    end_date: date | None = None


@dataclass(frozen=True, slots=True)
class ComplaintView:
    tracking_number: str
    category: str
    status: str  # received, in_review, resolved, rejected
    customer_id: int | None
    created_at: datetime
    updated_at: datetime
    resolution: str | None
    has_recording: bool


@dataclass(frozen=True, slots=True)
class CallbackTaskView:
    tracking_number: str
    kind: str  # renewal, callback, quote, claim_followup, cancellation
    status: str  # open, assigned, done, cancelled
    customer_id: int | None
    phone: str
    policy_number: str | None
    assigned_agent: str | None
    due_at: datetime | None
    created_at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class InteractionView:
    linkedid: str | None
    channel: str
    direction: str
    caller_number: str | None
    customer_id: int | None
    started_at: datetime
    duration_s: float | None
    outcome: str | None
    queue: str | None
    agent: str | None
    disposition: str | None
    notes: str | None
    menu_path: tuple[dict[str, Any], ...] = ()
    looked_up: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerFileView:
    """The caller's whole file, as the agent's popup shows it."""

    customer: CustomerSummary
    national_id_masked: str | None  # 001****678
    company_id: str | None
    birth_date: date | None
    phones: tuple[PhoneView, ...]
    emails: tuple[str, ...]
    addresses: tuple[AddressView, ...]
    policies: tuple[PolicyView, ...]
    claims: tuple[ClaimView, ...]
    debt: DebtView
    shareholder: ShareholderView | None
    open_complaints: tuple[ComplaintView, ...]
    open_callback_tasks: tuple[CallbackTaskView, ...]
    recent_interactions: tuple[InteractionView, ...]  # newest first, at most 10


@dataclass(frozen=True, slots=True)
class CustomerRegistration:
    """A new caller registered by an agent. Identifiers are validated and normalised by the
    adapter (customer_file.identifiers); a bad one raises InvalidIdentifier naming the field."""

    family_name_fa: str
    kind: str = "person"
    national_id: str | None = None
    company_id: str | None = None
    given_name_fa: str = ""
    given_name_latin: str = ""
    family_name_latin: str = ""
    gender: str | None = None
    birth_date: date | None = None
    language: str = "fa"
    tier: str = "regular"
    phones: tuple[str, ...] = ()  # as typed; the first is primary
    emails: tuple[str, ...] = ()
    postal_code: str | None = None
    address_line: str = ""
    city: str = ""


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


@functools.cache
def _shape(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A view class's field names, then its property names (alphabetical, as dir() has
    them): looked up once per class, not on every view the popup sends."""
    fields = tuple(f.name for f in dataclasses.fields(cls))
    properties = tuple(name for name in dir(cls) if isinstance(getattr(cls, name, None), property))
    return fields, properties


def as_json(view: Any) -> Any:
    """A view (or list of views) as JSON-ready dicts; dates as ISO 8601 strings. Properties
    such as `name_fa` and `is_priority` are included for the convenience of pages."""
    cls = type(view)
    if cls in _SCALARS:
        return view
    if isinstance(view, list | tuple):
        return [as_json(item) for item in view]
    if not dataclasses.is_dataclass(cls):
        return _jsonable(view)
    fields, properties = _shape(cls)
    data = {name: as_json(getattr(view, name)) for name in fields}
    for name in properties:
        data[name] = as_json(getattr(view, name))
    return data


View = TypeVar("View")


def from_record(cls: type[View], record: Any, **computed: Any) -> View:
    """The view `cls` from an ORM object or a result row carrying the view's fields under the
    same names; `computed` gives the fields it carries otherwise (a JSON list as a tuple, a
    flag worked out from a column)."""
    fields, _ = _shape(typing.cast(type, cls))
    values = {name: getattr(record, name) for name in fields if name not in computed}
    return cls(**values, **computed)


def from_json(cls: type[View], data: Any) -> View:
    """The view `cls` from what `as_json` made of one; extra keys (properties) are ignored.
    Raises ValueError naming the field when the data does not fit."""
    if not isinstance(data, dict):
        raise ValueError(f"{cls.__name__}: expected an object, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue  # the dataclass default applies, or the constructor names what is missing
        try:
            values[f.name] = _decode(hints[f.name], data[f.name])
        except (TypeError, ValueError) as error:
            raise ValueError(f"{cls.__name__}.{f.name}: {error}") from error
    try:
        return cls(**values)
    except TypeError as error:
        raise ValueError(f"{cls.__name__}: {error}") from error


def _decode(hint: Any, value: Any) -> Any:
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        return _decode(next(a for a in arguments if a is not type(None)), value)
    if hint is Any or value is None:
        return value
    if origin is tuple:
        return tuple(_decode(arguments[0], item) for item in value)
    if origin is dict:
        return dict(value)
    if dataclasses.is_dataclass(hint):
        return from_json(hint, value)  # type: ignore[arg-type]
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if hint is float and isinstance(value, int | float):
        return float(value)
    if hint in (int, str, bool) and not isinstance(value, hint):
        raise ValueError(f"expected {hint.__name__}, got {value!r}")
    return value
